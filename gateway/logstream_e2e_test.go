package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// sseEvent is one event of a log stream, or a comment line (comment set).
type sseEvent struct {
	event, id, data string
	comment         bool
}

// readEvents reads a text/event-stream into a channel, closed at its end.
func readEvents(resp *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ch <- sseEvent{comment: true, data: line}
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

// nextEvent waits for the next event that is not a comment.
func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !ev.comment {
				return ev
			}
		case <-deadline:
			t.Fatal("no event within 30 s")
		}
	}
}

// TestFunctionLogsStream: GET /v1/functions/{name}/logs sends the newest
// finished invocations' logs as server-sent events; with follow=true it
// then sends each invocation as it finishes, with heartbeat comments, and
// a client that goes away frees the stream (hearth_log_streams).
func TestFunctionLogsStream(t *testing.T) {
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{LogsHeartbeat: 50 * time.Millisecond}})
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "talker", stacktest.ExampleWasm(t, "hello"), "")
	invoke := func(input string) string {
		t.Helper()
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/talker/invoke", "", []byte(input))
		if resp.StatusCode != 200 {
			t.Fatalf("invoke: %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Hearth-Invocation-Id")
	}
	first := invoke("abc")
	stacktest.WaitStatus(t, base, first, "succeeded")

	// Without follow: the backlog, then the end.
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/talker/logs?limit=5", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET logs: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(string(body), "event: logs\nid: "+first+"\ndata: ") || !strings.Contains(string(body), `hello: greeted 3 bytes`) {
		t.Fatalf("GET logs: %s; want the event of %s with its log", body, first)
	}
	if _, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/talker/logs?limit=0", "", nil); len(body) != 0 {
		t.Errorf("limit=0: %q; want no events", body)
	}

	// Follow: the backlog, heartbeats, then each new invocation.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/functions/talker/logs?follow=true&limit=1", nil)
	fresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer fresp.Body.Close()
	events := readEvents(fresp)
	if ev := nextEvent(t, events); ev.id != first {
		t.Fatalf("first event %+v; want the backlog's %s", ev, first)
	}
	select {
	case ev := <-events:
		if !ev.comment || ev.data != ": keepalive" {
			t.Fatalf("after the backlog: %+v; want a keepalive comment", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no heartbeat")
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := stacktest.MetricSum(t, s, "hearth_log_streams"); n != 1 {
			return fmt.Errorf("hearth_log_streams %v, want 1", n)
		}
		return nil
	})
	for _, input := range []string{"hello", "x"} {
		id := invoke(input)
		ev := nextEvent(t, events)
		var data struct {
			ID, Function, Status, Logs string
		}
		if err := json.Unmarshal([]byte(ev.data), &data); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		want := fmt.Sprintf("hello: greeted %d bytes", len(input))
		if ev.event != "logs" || ev.id != id || data.ID != id || data.Function != "talker" || data.Status != "succeeded" || !strings.Contains(data.Logs, want) {
			t.Fatalf("event %+v (%+v); want %s with %q", ev, data, id, want)
		}
	}

	// The client goes away: the server's stream ends.
	cancel()
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := stacktest.MetricSum(t, s, "hearth_log_streams"); n != 0 {
			return fmt.Errorf("hearth_log_streams %v after the client left, want 0", n)
		}
		return nil
	})
}

// TestFunctionLogsShutdown: a followed stream does not hold up the
// gateway's shutdown; it ends when shutdown begins.
func TestFunctionLogsShutdown(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	req, _ := http.NewRequest(http.MethodGet, s.GatewayURL+"/v1/functions/hello/logs?follow=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readEvents(resp)
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := stacktest.MetricSum(t, s, "hearth_log_streams"); n != 1 {
			return fmt.Errorf("hearth_log_streams %v, want 1", n)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Gateway.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a followed stream open: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v with a followed stream open", d)
	}
	for range events { // the stream ends
	}
}

func TestFunctionLogsBadInput(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	for _, tc := range []struct{ query, code string }{
		{"follow=maybe", "invalid_parameter"},
		{"follow=TRUE", "invalid_parameter"},
		{"follow=", ""}, // empty: the default
		{"limit=-1", "invalid_parameter"},
		{"limit=1001", "invalid_parameter"},
		{"limit=x", "invalid_parameter"},
		{"namespace=Bad_NS", "invalid_name"},
	} {
		resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/functions/hello/logs?"+tc.query, "", nil)
		if tc.code == "" {
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d %s; want 200", tc.query, resp.StatusCode, body)
			}
			continue
		}
		stacktest.WantError(t, resp, body, 400, tc.code)
	}
	resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/functions/Not_A_Name/logs", "", nil)
	stacktest.WantError(t, resp, body, 400, "invalid_name")
}
