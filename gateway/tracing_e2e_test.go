package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/internal/tracing/tracingtest"
	"github.com/hearthfn/hearth/runner"
)

// logLines captures a role's slog output as JSON, for tests to read back
// line by line.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// find is the first line with msg whose fields include want.
func (l *logLines) find(msg string, want map[string]string) (map[string]any, error) {
	l.mu.Lock()
	text := l.buf.String()
	l.mu.Unlock()
	for _, line := range strings.Split(text, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && m[k] == v
		}
		if ok {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no %q line with %v", msg, want)
}

// TestTraceFollowsTheCall follows trace ids from the HTTP request,
// through NATS to a runner role, onto the runner's and the gateway's log
// lines, into the invocation record and to an OTLP collector: for a sync
// call and an async one that bring a traceparent, one without, and one
// with a malformed traceparent, which must not fail the call.
func TestTraceFollowsTheCall(t *testing.T) {
	logs := &logLines{}
	log := logs.logger()
	col := tracingtest.NewCollector(t)
	tracer, err := tracing.NewOTLP(context.Background(), col.URL, "hearth-test", "test")
	if err != nil {
		t.Fatal(err)
	}
	conn := stacktest.ExternalConn(t)
	gw := stack.New(log)
	gw.Tracer = tracer
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	if err := gw.StartGatewayRole(context.Background(), conn, gateway.Config{Listen: "127.0.0.1:0"}, nil); err != nil {
		t.Fatal(err)
	}
	rn := stack.New(log)
	rn.Tracer = tracer
	t.Cleanup(func() { _ = rn.Close(context.Background()) })
	if err := rn.StartRunnerRole(context.Background(), conn, runner.Config{CacheDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitRunners(t, gw.GatewayURL, 1)
	stacktest.MustDeploy(t, gw.GatewayURL, "rev", stacktest.ExampleWasm(t, "reverse-c"), "")
	url := gw.GatewayURL + "/v1/functions/rev/invoke"

	// call makes a sync call with traceparent (none when "") and checks
	// what every call must show: 200, a traceparent answered in the trace
	// it continues (or a new one), and the ids on the record and the log
	// lines. It returns the trace id and the gateway's span id.
	call := func(t *testing.T, traceparent string, continues bool) (string, string) {
		t.Helper()
		h := map[string]string{}
		if traceparent != "" {
			h["traceparent"] = traceparent
		}
		resp, body := stacktest.Do(t, http.MethodPost, url, "", []byte("abc"), h)
		if resp.StatusCode != http.StatusOK || string(body) != "cba" {
			t.Fatalf("call with traceparent %q: %d %s", traceparent, resp.StatusCode, body)
		}
		answered, ok := tracing.Parse(resp.Header.Get("traceparent"))
		if !ok {
			t.Fatalf("answer's traceparent %q", resp.Header.Get("traceparent"))
		}
		sent, _ := tracing.Parse(traceparent)
		if continues != (answered.TraceID == sent.TraceID) || answered.SpanID == sent.SpanID {
			t.Fatalf("sent %q, answered %s (continues %v)", traceparent, answered, continues)
		}
		traceID := answered.TraceIDString()
		id, rid := resp.Header.Get("Hearth-Invocation-Id"), resp.Header.Get("Hearth-Request-Id")
		testutil.Eventually(t, 10*time.Second, func() error {
			r, b := stacktest.Call(t, http.MethodGet, gw.GatewayURL+"/v1/invocations/"+id, "", nil)
			var rec map[string]any
			if r.StatusCode != http.StatusOK || json.Unmarshal(b, &rec) != nil {
				return fmt.Errorf("record: %d %s", r.StatusCode, b) // written in the background
			}
			if rec["trace_id"] != traceID || rec["request_id"] != rid {
				t.Fatalf("record %s: want trace_id %s, request_id %s", b, traceID, rid)
			}
			return nil
		})
		ids := map[string]string{"invocation": id, "request_id": rid, "trace_id": traceID}
		testutil.Eventually(t, 10*time.Second, func() error {
			if _, err := logs.find("invocation done", with(ids, "component", "runner")); err != nil {
				return err
			}
			_, err := logs.find("call done", with(ids, "component", "gateway"))
			return err
		})
		return traceID, answered.SpanIDString()
	}

	const sample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceID, gatewaySpan := call(t, sample, true)
	call(t, "", false)
	for _, bad := range []string{"garbage", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", sample + "-x"} {
		call(t, bad, false)
	}

	// An async call keeps the trace it was queued in.
	const asyncParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	id := stacktest.Submit(t, gw.GatewayURL, "rev", "xyz", map[string]string{"traceparent": asyncParent})
	rec := stacktest.WaitStatus(t, gw.GatewayURL, id, "succeeded")
	if rec.TraceID != "0af7651916cd43dd8448eb211c80319c" || rec.RequestID == "" {
		t.Fatalf("async record trace_id %q, request_id %q", rec.TraceID, rec.RequestID)
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		_, err := logs.find("invocation done", map[string]string{"invocation": id, "trace_id": rec.TraceID, "request_id": rec.RequestID, "component": "runner"})
		return err
	})

	// The spans reach the collector: the gateway's request, a child of
	// the caller's span, and the runner's run, a child of the gateway's.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tracer.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	byName := map[string]tracingtest.Span{}
	for _, s := range col.InTrace(traceID) {
		byName[s.Name] = s
	}
	server, run := byName["POST /v1/functions/:name/invoke"], byName["run rev"]
	if server.ID != gatewaySpan || server.Parent != "00f067aa0ba902b7" || server.Attrs["hearth.function"] != "rev" {
		t.Fatalf("gateway span %+v (spans of the trace: %+v)", server, byName)
	}
	if run.Parent != gatewaySpan || run.Attrs["hearth.invocation_id"] == "" {
		t.Fatalf("runner span %+v, want a child of %s", run, gatewaySpan)
	}
	async := map[string]tracingtest.Span{}
	for _, s := range col.InTrace(rec.TraceID) {
		async[s.Name] = s
	}
	if a, r := async["async rev"], async["run rev"]; a.ID == "" || r.Parent != a.ID {
		t.Fatalf("async spans %+v: want the runner's a child of the attempt's", async)
	}
}

// with is m and k=v.
func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// TestTraceInDev: on hearth dev the gateway hands calls to its runner
// without NATS; the trace id and request id reach the runner's log line
// and the record all the same.
func TestTraceInDev(t *testing.T) {
	logs := &logLines{}
	s := stacktest.DevWith(t, stack.DevConfig{Log: logs.logger()})
	resp, body := stacktest.Do(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", []byte("x"),
		map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if tp := resp.Header.Get("traceparent"); !strings.HasPrefix(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || !strings.HasSuffix(tp, "-00") {
		t.Fatalf("answered traceparent %q: want the caller's trace, unsampled", tp)
	}
	id := resp.Header.Get("Hearth-Invocation-Id")
	ids := map[string]string{"invocation": id, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "request_id": resp.Header.Get("Hearth-Request-Id")}
	testutil.Eventually(t, 10*time.Second, func() error {
		_, err := logs.find("invocation done", ids)
		return err
	})
	rec := stacktest.WaitStatus(t, s.GatewayURL, id, "succeeded")
	if rec.TraceID != ids["trace_id"] || rec.RequestID != ids["request_id"] {
		t.Fatalf("record trace_id %q request_id %q; want %v", rec.TraceID, rec.RequestID, ids)
	}
	// Every route answers with a traceparent, errors too.
	resp, _ = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/functions/nope", "", nil)
	if _, ok := tracing.Parse(resp.Header.Get("traceparent")); resp.StatusCode != http.StatusNotFound || !ok {
		t.Fatalf("404 with traceparent %q", resp.Header.Get("traceparent"))
	}
}
