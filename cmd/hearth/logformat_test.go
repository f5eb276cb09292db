package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestLogFormatJSON runs the built binary's hearth dev with --log-format
// json at debug, makes sync, async and failing calls, and reads its
// stderr back: every line is one JSON object with a time, a level and a
// message, and every line about an invocation carries its id, the
// request's id and the trace id (the traceparent the call brought).
func TestLogFormatJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the hearth binary")
	}
	bin := filepath.Join(t.TempDir(), "hearth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	cmd := exec.Command(bin, "dev", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(cmd.Environ(), "HEARTH_OTLP_ENDPOINT=") // off, whatever the caller's environment says
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(40 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	t.Cleanup(stop)
	var base string
	testutil.Eventually(t, 60*time.Second, func() error {
		for _, line := range strings.Split(stdout.String(), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "gateway" {
				base = f[1]
				return nil
			}
		}
		return errNotYet("hearth dev has not printed its gateway: " + stderr.String())
	})

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traced := map[string]string{"traceparent": parent}
	resp, body := stacktest.Do(t, http.MethodPost, base+"/v1/functions/hello/invoke", "", []byte("json"), traced)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sync call: %d %s", resp.StatusCode, body)
	}
	calls := map[string]string{resp.Header.Get("Hearth-Invocation-Id"): resp.Header.Get("Hearth-Request-Id")}
	stacktest.MustDeploy(t, base, "trap", testmodules.Trap, "")
	resp, body = stacktest.Do(t, http.MethodPost, base+"/v1/functions/trap/invoke", "", nil, traced)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("trapping call: %d %s", resp.StatusCode, body)
	}
	calls[resp.Header.Get("Hearth-Invocation-Id")] = resp.Header.Get("Hearth-Request-Id")
	id := stacktest.Submit(t, base, "hello", "async", traced)
	rec := stacktest.WaitStatus(t, base, id, "succeeded")
	calls[id] = rec.RequestID

	// seen counts, per invocation of the test, the lines that name it.
	seen := map[string]int{}
	testutil.Eventually(t, 10*time.Second, func() error {
		clear(seen)
		for _, line := range strings.Split(stderr.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil {
				if id, _ := l["invocation"].(string); calls[id] != "" {
					seen[id]++
				}
			}
		}
		for id := range calls {
			if seen[id] < 2 { // the gateway's line and the runner's
				return errNotYet("lines of " + id + ": " + stderr.String())
			}
		}
		return nil
	})
	stop()

	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		lines++
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("not a JSON line: %q: %v", line, err)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := l[k].(string); !ok {
				t.Errorf("line without %s: %s", k, line)
			}
		}
		id, ok := l["invocation"].(string)
		if !ok {
			continue
		}
		if id == "" || l["trace_id"] == nil || l["trace_id"] == "" {
			t.Errorf("invocation line without its ids: %s", line)
		}
		if rid, ours := calls[id]; ours && (l["request_id"] != rid || l["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736") {
			t.Errorf("line of %s: want request_id %s and the caller's trace: %s", id, rid, line)
		}
	}
	if lines < 10 {
		t.Fatalf("only %d lines logged:\n%s", lines, stderr.String())
	}
}

type errNotYet string

func (e errNotYet) Error() string { return string(e) }
