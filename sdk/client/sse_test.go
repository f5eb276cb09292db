package client

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readAll(t testing.TB, stream string) ([]sseEvent, error) {
	t.Helper()
	r := newSSEReader(strings.NewReader(stream))
	var out []sseEvent
	for {
		ev, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stream string
		want   []sseEvent
	}{
		{"the gateway's shape", "event: logs\nid: a1\ndata: {\"id\":\"a1\"}\n\n", []sseEvent{{"logs", "a1", `{"id":"a1"}`}}},
		{"keepalive comments", ": keepalive\n\n: keepalive\n\nevent: logs\ndata: x\n\n", []sseEvent{{"logs", "", "x"}}},
		{"multi-line data", "data: one\ndata:two\ndata:  three\n\n", []sseEvent{{"", "", "one\ntwo\n three"}}},
		{"CRLF and CR line endings", "event: logs\r\nid: 7\r\ndata: a\r\rdata: b\r\n\r\n", []sseEvent{{"logs", "7", "a"}, {"", "7", "b"}}},
		{"the id carries over, an id with NUL is ignored", "id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n", []sseEvent{{"", "1", "a"}, {"", "1", "b"}}},
		{"no data, no event", "event: logs\nid: 3\n\ndata: d\n\n", []sseEvent{{"", "3", "d"}}},
		{"empty data line", "data\n\n", []sseEvent{{"", "", ""}}},
		{"unknown fields and retry", "retry: 10\nfoo: bar\ndata: z\n\n", []sseEvent{{"", "", "z"}}},
		{"an unfinished event is dropped", "data: a\n\ndata: cut", []sseEvent{{"", "", "a"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSSEReaderTooLarge(t *testing.T) {
	r := newSSEReader(io.MultiReader(strings.NewReader("data: "), neverNewline{}))
	if _, err := r.Next(); !errors.Is(err, errEventTooLarge) {
		t.Fatalf("error %v, want %v", err, errEventTooLarge)
	}
}

// neverNewline is an endless stream of 'x'.
type neverNewline struct{}

func (neverNewline) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// encodeSSE writes events as the gateway does.
func encodeSSE(evs []sseEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Type != "" {
			b.WriteString("event: " + ev.Type + "\n")
		}
		b.WriteString("id: " + ev.ID + "\n")
		for _, line := range strings.Split(ev.Data, "\n") {
			b.WriteString("data: " + line + "\n")
		}
		b.WriteString(": keepalive\n\n")
	}
	return b.String()
}

// FuzzSSEReader: any stream parses without panicking into events whose
// ids have no line break or NUL; and events written as the gateway writes
// them read back the same.
func FuzzSSEReader(f *testing.F) {
	f.Add("event: logs\nid: a1\ndata: {\"id\":\"a1\"}\n\n", "logs", "id-1", "line one\nline two")
	f.Add(": keepalive\r\n\r\ndata:x\r\r", "", "", "")
	f.Add("data\n\nid: \x00\n", "logs", "x", " leading space")
	f.Fuzz(func(t *testing.T, stream, typ, id, data string) {
		evs, _ := readAll(t, stream)
		for _, ev := range evs {
			if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Type, "\r\n") || strings.Contains(ev.Data, "\r") {
				t.Fatalf("event %q of %q", ev, stream)
			}
		}
		if strings.ContainsAny(typ+id+data, "\r\x00") || strings.ContainsAny(typ+id, "\n") {
			return // not what the gateway writes
		}
		want := []sseEvent{{typ, id, data}}
		got, err := readAll(t, encodeSSE(want))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %q: %q, %v", want, got, err)
		}
	})
}
