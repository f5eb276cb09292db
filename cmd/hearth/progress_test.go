package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressTerminal: on a terminal the line is redrawn in place, as a
// bar when the total is known, and cleared at the end.
func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, what: "uploading m.wasm", total: 8 << 20, start: time.Now()}
	p.set(0, "")
	p.set(4<<20, "") // within 100 ms of the last draw: skipped
	p.lastDraw = time.Time{}
	p.set(4<<20, "")
	p.set(8<<20, "") // the end is always drawn
	p.done()
	out := buf.String()
	for _, want := range []string{
		"\r\033[Kuploading m.wasm [>                             ]   0% 0 B/8.0 MiB",
		"\r\033[Kuploading m.wasm [===============>              ]  50% 4.0 MiB/8.0 MiB",
		"\r\033[Kuploading m.wasm [==============================] 100% 8.0 MiB/8.0 MiB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in %q", want, out)
		}
	}
	if strings.Count(out, "\r\033[K") != 4 || !strings.HasSuffix(out, "\r\033[K") || strings.Contains(out, "\n") {
		t.Errorf("redraws: %q", out)
	}

	buf.Reset()
	w := &progress{w: &buf, tty: true, what: "invocation X", start: time.Now()}
	w.set(0, "queued")
	w.finish("succeeded")
	if out := buf.String(); !strings.HasPrefix(out, "\r\033[Kinvocation X: queued (") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("wait on a terminal: %q", out)
	}
}

// TestProgressPlain: elsewhere, plain lines: a quarter of the way each,
// and a wait's status when it starts, at most every 5 s, and at its end.
func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, what: "uploading m.wasm", total: 100, start: time.Now()}
	for done := int64(0); done <= 100; done += 5 {
		p.set(done, "")
	}
	p.done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "uploading m.wasm:   0% (0 B of 100 B, ") || !strings.HasPrefix(lines[4], "uploading m.wasm: 100% (100 B of 100 B, ") {
		t.Errorf("plain upload progress:\n%s", buf.String())
	}

	buf.Reset()
	w := &progress{w: &buf, what: "invocation X", start: time.Now()}
	w.set(0, "queued")
	w.set(0, "running") // within 5 s: skipped
	w.lastDraw = time.Now().Add(-6 * time.Second)
	w.set(0, "running")
	w.finish("succeeded")
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "invocation X: queued (") || !strings.HasPrefix(lines[1], "invocation X: running (") ||
		!strings.HasPrefix(lines[2], "invocation X: succeeded (") {
		t.Errorf("plain wait progress:\n%s", buf.String())
	}
}
