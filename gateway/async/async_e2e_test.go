package async_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

func TestAsyncAcceptResultAndLogs(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	id := stacktest.Submit(t, s.GatewayURL, "hello", "async", nil)
	rec := stacktest.WaitStatus(t, s.GatewayURL, id, "succeeded")
	if rec.Attempts != 1 || rec.Mode != "async" || rec.Runner == "" || rec.Placement == "" || rec.StartedAt == nil || rec.FinishedAt == nil {
		t.Fatalf("record %+v", rec)
	}
	resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || string(body) != "Hello, async!\n" {
		t.Fatalf("result: %d %q", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/logs", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello: greeted 5 bytes") {
		t.Fatalf("logs: %d %q", resp.StatusCode, body)
	}
	// Sync calls get records too.
	resp, _ = stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke?x=1", "", []byte("sync"))
	syncID := resp.Header.Get("Hearth-Invocation-Id")
	rec = stacktest.WaitStatus(t, s.GatewayURL, syncID, "succeeded")
	if rec.Mode != "sync" {
		t.Fatalf("sync record %+v", rec)
	}
	resp, body = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+syncID+"/result", "", nil)
	stacktest.WantError(t, resp, body, 404, "no_result")
	resp, body = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/nope/result", "", nil)
	stacktest.WantError(t, resp, body, 404, "invocation_not_found")
	resp, body = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/functions/hello/invocations?limit=5", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), id) || !strings.Contains(string(body), syncID) {
		t.Fatalf("invocations of hello: %d %s", resp.StatusCode, body)
	}
	// ?async=true is the other way to ask.
	resp, body = stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke?async=true", "", nil)
	if resp.StatusCode != 202 {
		t.Fatalf("?async=true: %d %s", resp.StatusCode, body)
	}
	// Bad input.
	req, _ := http.NewRequest(http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", nil)
	req.Header.Set("Prefer", "respond-async")
	req.Header.Set("Hearth-Callback-Url", "ftp://example")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	stacktest.WantError(t, r2, raw, 400, "invalid_callback_url")
}

func TestAsyncDedupeAndCallback(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	var mu sync.Mutex
	var got []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("Hearth-Status")+" "+r.Header.Get("Hearth-Invocation-Id")+" "+string(body))
		n := len(got)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first delivery fails: retried
		}
	}))
	defer cb.Close()
	headers := map[string]string{"Idempotency-Key": "order-42", "Hearth-Callback-Url": cb.URL}
	id := stacktest.Submit(t, s.GatewayURL, "hello", "cb", headers)
	if again := stacktest.Submit(t, s.GatewayURL, "hello", "cb", headers); again != id {
		t.Fatalf("same Idempotency-Key gave ids %s and %s", id, again)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		rec := stacktest.Record(t, s.GatewayURL, id)
		if rec.Callback == nil || !rec.Callback.Delivered {
			return fmt.Errorf("callback %+v", rec.Callback)
		}
		if rec.Callback.Attempts != 2 {
			return fmt.Errorf("callback delivered after %d attempts, want 2", rec.Callback.Attempts)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	want := "succeeded " + id + " Hello, cb!\n"
	if len(got) != 2 || got[1] != want {
		t.Fatalf("callbacks %q, want two deliveries of %q", got, want)
	}
	if rec := stacktest.Record(t, s.GatewayURL, id); rec.Attempts != 1 {
		t.Fatalf("deduplicated invocation ran %d times", rec.Attempts)
	}
}

func TestAsyncRetriesDeadLetterAndReplay(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.FastGateway(t, conn, gateway.Config{MaxAttempts: 3, RetryBase: 100 * time.Millisecond})
	stacktest.FastRunner(t, conn)
	stacktest.MustDeploy(t, gw.GatewayURL, "flaky", testmodules.ExitCode, "")
	start := time.Now()
	id := stacktest.Submit(t, gw.GatewayURL, "flaky", "", nil)
	rec := stacktest.WaitStatus(t, gw.GatewayURL, id, "dead")
	elapsed := time.Since(start)
	if rec.Attempts != 3 || rec.Error == nil || !strings.Contains(rec.Error.Message, "code 3") {
		t.Fatalf("dead record %+v", rec)
	}
	// Backoff: 100 ms then 200 ms (±20%) between the three attempts.
	if elapsed < 240*time.Millisecond {
		t.Fatalf("three attempts took %s; the backoff waits at least 240ms", elapsed)
	}
	resp, body := stacktest.Call(t, http.MethodGet, gw.GatewayURL+"/v1/dlq", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), id) || !strings.Contains(string(body), "code 3") {
		t.Fatalf("DLQ: %d %s", resp.StatusCode, body)
	}
	// Fix the function and replay: the same invocation succeeds.
	stacktest.MustDeploy(t, gw.GatewayURL, "flaky", stacktest.ExampleWasm(t, "hello"), "")
	resp, body = stacktest.Call(t, http.MethodPost, gw.GatewayURL+"/v1/dlq/"+id+"/replay", "", nil)
	if resp.StatusCode != 202 {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	stacktest.WaitStatus(t, gw.GatewayURL, id, "succeeded")
	resp, body = stacktest.Call(t, http.MethodGet, gw.GatewayURL+"/v1/dlq", "", nil)
	if strings.Contains(string(body), id) {
		t.Fatalf("replayed invocation still in the DLQ: %s", body)
	}
	resp, body = stacktest.Call(t, http.MethodPost, gw.GatewayURL+"/v1/dlq/"+id+"/replay", "", nil)
	stacktest.WantError(t, resp, body, 404, "not_in_dlq")
}

func TestAsyncSurvivesDispatcherCrash(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	first := stacktest.FastGateway(t, conn, gateway.Config{AckWait: 300 * time.Millisecond})
	stacktest.FastRunner(t, conn)
	stacktest.MustDeploy(t, first.GatewayURL, "sleepy", testmodules.Sleep, "")
	id := stacktest.Submit(t, first.GatewayURL, "sleepy", "1500", nil)
	stacktest.WaitStatus(t, first.GatewayURL, id, "running")
	first.NC.Close() // the gateway running it dies mid-invocation

	second := stacktest.FastGateway(t, conn, gateway.Config{AckWait: 300 * time.Millisecond})
	rec := stacktest.WaitStatus(t, second.GatewayURL, id, "succeeded")
	if rec.Attempts != 2 {
		t.Fatalf("record after redelivery: attempts %d, want 2", rec.Attempts)
	}
	resp, body := stacktest.Call(t, http.MethodGet, second.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || string(body) != "slept 1500\n" {
		t.Fatalf("result: %d %q", resp.StatusCode, body)
	}
}

func TestAsyncLargePayload(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	big := strings.Repeat("0123456789abcdef", 2<<20) // 32 MiB
	id := stacktest.Submit(t, s.GatewayURL, "echo", big, nil)
	stacktest.WaitStatus(t, s.GatewayURL, id, "succeeded")
	resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || len(body) != len(big) || string(body) != big {
		t.Fatalf("32 MiB async result: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestAsyncWaitsForCapacity: while no runner can take it, an async
// invocation waits in the queue without using up its attempts, and runs
// once a runner comes.
func TestAsyncWaitsForCapacity(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.FastGateway(t, conn, gateway.Config{MaxAttempts: 2, RetryBase: 20 * time.Millisecond, RetryCap: 100 * time.Millisecond})
	stacktest.MustDeploy(t, gw.GatewayURL, "hello", stacktest.ExampleWasm(t, "hello"), "")
	id := stacktest.Submit(t, gw.GatewayURL, "hello", "patient", nil)
	// Many deliveries (more than MaxAttempts) find no runner; none counts
	// as an attempt: each reschedules the invocation (a new next_attempt_at).
	retries := map[time.Time]bool{}
	testutil.Eventually(t, 30*time.Second, func() error {
		rec := stacktest.Record(t, gw.GatewayURL, id)
		if rec.Status == "dead" || rec.Status == "queued" && rec.Attempts != 0 {
			t.Fatalf("waiting for a runner used up attempts: %+v", rec)
		}
		if rec.Status == "queued" && rec.NextTry != nil && rec.Error != nil && rec.Error.Code == "no_runners" {
			retries[*rec.NextTry] = true
		}
		if len(retries) < 4 {
			return fmt.Errorf("%d deliveries seen", len(retries))
		}
		return nil
	})
	stacktest.FastRunner(t, conn)
	rec := stacktest.WaitStatus(t, gw.GatewayURL, id, "succeeded")
	if rec.Attempts != 1 {
		t.Fatalf("attempts %d, want 1", rec.Attempts)
	}
}

// An accepted invocation is one message in the async stream and nothing
// else until a dispatcher starts it: its record and the function's list
// of invocations read it from the stream.
func TestAsyncQueuedIsReadFromTheStream(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.FastGateway(t, conn, gateway.Config{NoDispatcher: true})
	stacktest.MustDeploy(t, gw.GatewayURL, "hello", stacktest.ExampleWasm(t, "hello"), "")
	stacktest.MustDeploy(t, gw.GatewayURL, "other", stacktest.ExampleWasm(t, "hello"), "")
	var ids []string
	for i := range 5 {
		var headers map[string]string
		if i == 0 {
			headers = map[string]string{"Hearth-Callback-Url": "http://127.0.0.1:9/done"}
		}
		ids = append(ids, stacktest.Submit(t, gw.GatewayURL, "hello", fmt.Sprint(i), headers))
	}
	otherID := stacktest.Submit(t, gw.GatewayURL, "other", "x", nil)

	for i, id := range ids {
		rec := stacktest.Record(t, gw.GatewayURL, id)
		if rec.Status != "queued" || rec.Function != "hello" || rec.Version != 1 || rec.Mode != "async" || rec.QueuedAt.IsZero() || rec.Attempts != 0 {
			t.Fatalf("queued record %d: %+v", i, rec)
		}
		if (rec.Callback != nil && rec.Callback.URL == "http://127.0.0.1:9/done") != (i == 0) {
			t.Fatalf("queued record %d: callback %+v", i, rec.Callback)
		}
	}
	js, err := jetstream.New(gw.NC)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), records.RecordsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(context.Background(), "default.hello."+ids[0]); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("records bucket entry of a queued invocation: %v; want none (the stream has it)", err)
	}

	list := func(limit int) []string {
		t.Helper()
		resp, body := stacktest.Call(t, http.MethodGet, fmt.Sprintf("%s/v1/functions/hello/invocations?limit=%d", gw.GatewayURL, limit), "", nil)
		var out struct{ Invocations []records.Record }
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var got []string
		for _, r := range out.Invocations {
			got = append(got, r.ID)
		}
		return got
	}
	if got, want := list(2), []string{ids[4], ids[3]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("newest 2 invocations %v, want %v", got, want)
	}
	if got, want := list(50), []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("invocations %v, want %v (not %s, another function's)", got, want, otherID)
	}
	// Ids go into a subject: wildcards find nothing.
	for _, bad := range []string{"%2A", "%3E", "a.b", strings.Repeat("x", 65)} {
		resp, body := stacktest.Call(t, http.MethodGet, gw.GatewayURL+"/v1/invocations/"+bad, "", nil)
		stacktest.WantError(t, resp, body, 404, "invocation_not_found")
	}

	// A dispatcher runs them; each is listed once, from its record.
	stacktest.FastGateway(t, conn, gateway.Config{})
	stacktest.FastRunner(t, conn)
	for _, id := range ids {
		stacktest.WaitStatus(t, gw.GatewayURL, id, "succeeded")
	}
	if got, want := list(50), []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("invocations after running %v, want %v", got, want)
	}
}
