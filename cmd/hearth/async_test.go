package main

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
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// asyncGateway starts a gateway role with fast retries for tests.
func asyncGateway(t *testing.T, conn stack.Conn, cfg gateway.Config) *stack.Stack {
	t.Helper()
	cfg.HeartbeatInterval = beat
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 50 * time.Millisecond
	}
	return gatewayRole(t, conn, cfg)
}

func asyncRunner(t *testing.T, conn stack.Conn) *stack.Stack {
	t.Helper()
	return runnerRole(t, conn, runner.Config{HeartbeatInterval: beat})
}

// submit makes an async invocation and returns its id.
func submit(t *testing.T, base, fn, body string, headers map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/functions/"+fn+"/invoke", strings.NewReader(body))
	req.Header.Set("Prefer", "respond-async")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ ID, Status string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &out) != nil || out.ID == "" || out.Status != "queued" {
		t.Fatalf("async submit: %d %s", resp.StatusCode, raw)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/invocations/"+out.ID {
		t.Fatalf("Location %q", loc)
	}
	return out.ID
}

// record reads an invocation record.
func record(t *testing.T, base, id string) records.Record {
	t.Helper()
	resp, body := call(t, http.MethodGet, base+"/v1/invocations/"+id, "", nil)
	var rec records.Record
	if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil {
		t.Fatalf("GET invocation %s: %d %s", id, resp.StatusCode, body)
	}
	return rec
}

// waitStatus polls the record until it has status.
func waitStatus(t *testing.T, base, id, status string) records.Record {
	t.Helper()
	var rec records.Record
	testutil.Eventually(t, 30*time.Second, func() error {
		resp, body := call(t, http.MethodGet, base+"/v1/invocations/"+id, "", nil)
		rec = records.Record{}
		if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil {
			return fmt.Errorf("GET invocation: %d %s", resp.StatusCode, body) // sync records are written in the background
		}
		if rec.Status != status {
			return fmt.Errorf("status %s (attempts %d, error %+v), want %s", rec.Status, rec.Attempts, rec.Error, status)
		}
		return nil
	})
	return rec
}

func TestAsyncAcceptResultAndLogs(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	id := submit(t, s.GatewayURL, "hello", "async", nil)
	rec := waitStatus(t, s.GatewayURL, id, "succeeded")
	if rec.Attempts != 1 || rec.Mode != "async" || rec.Runner == "" || rec.Placement == "" || rec.StartedAt == nil || rec.FinishedAt == nil {
		t.Fatalf("record %+v", rec)
	}
	resp, body := call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || string(body) != "Hello, async!\n" {
		t.Fatalf("result: %d %q", resp.StatusCode, body)
	}
	resp, body = call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/logs", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello: greeted 5 bytes") {
		t.Fatalf("logs: %d %q", resp.StatusCode, body)
	}
	// Sync calls get records too.
	resp, _ = call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke?x=1", "", []byte("sync"))
	syncID := resp.Header.Get("Hearth-Invocation-Id")
	rec = waitStatus(t, s.GatewayURL, syncID, "succeeded")
	if rec.Mode != "sync" {
		t.Fatalf("sync record %+v", rec)
	}
	resp, body = call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+syncID+"/result", "", nil)
	wantError(t, resp, body, 404, "no_result")
	resp, body = call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/nope/result", "", nil)
	wantError(t, resp, body, 404, "invocation_not_found")
	resp, body = call(t, http.MethodGet, s.GatewayURL+"/v1/functions/hello/invocations?limit=5", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), id) || !strings.Contains(string(body), syncID) {
		t.Fatalf("invocations of hello: %d %s", resp.StatusCode, body)
	}
	// ?async=true is the other way to ask.
	resp, body = call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke?async=true", "", nil)
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
	wantError(t, r2, raw, 400, "invalid_callback_url")
}

func TestAsyncDedupeAndCallback(t *testing.T) {
	s := startTestDev(t, t.TempDir())
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
	id := submit(t, s.GatewayURL, "hello", "cb", headers)
	if again := submit(t, s.GatewayURL, "hello", "cb", headers); again != id {
		t.Fatalf("same Idempotency-Key gave ids %s and %s", id, again)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		rec := record(t, s.GatewayURL, id)
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
	if rec := record(t, s.GatewayURL, id); rec.Attempts != 1 {
		t.Fatalf("deduplicated invocation ran %d times", rec.Attempts)
	}
}

func TestAsyncRetriesDeadLetterAndReplay(t *testing.T) {
	conn := externalConn(t)
	gw := asyncGateway(t, conn, gateway.Config{MaxAttempts: 3, RetryBase: 100 * time.Millisecond})
	asyncRunner(t, conn)
	mustDeploy(t, gw.GatewayURL, "flaky", testmodules.ExitCode, "")
	start := time.Now()
	id := submit(t, gw.GatewayURL, "flaky", "", nil)
	rec := waitStatus(t, gw.GatewayURL, id, "dead")
	elapsed := time.Since(start)
	if rec.Attempts != 3 || rec.Error == nil || !strings.Contains(rec.Error.Message, "code 3") {
		t.Fatalf("dead record %+v", rec)
	}
	// Backoff: 100 ms then 200 ms (±20%) between the three attempts.
	if elapsed < 240*time.Millisecond {
		t.Fatalf("three attempts took %s; the backoff waits at least 240ms", elapsed)
	}
	resp, body := call(t, http.MethodGet, gw.GatewayURL+"/v1/dlq", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), id) || !strings.Contains(string(body), "code 3") {
		t.Fatalf("DLQ: %d %s", resp.StatusCode, body)
	}
	// Fix the function and replay: the same invocation succeeds.
	mustDeploy(t, gw.GatewayURL, "flaky", exampleWasm(t, "hello"), "")
	resp, body = call(t, http.MethodPost, gw.GatewayURL+"/v1/dlq/"+id+"/replay", "", nil)
	if resp.StatusCode != 202 {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	waitStatus(t, gw.GatewayURL, id, "succeeded")
	resp, body = call(t, http.MethodGet, gw.GatewayURL+"/v1/dlq", "", nil)
	if strings.Contains(string(body), id) {
		t.Fatalf("replayed invocation still in the DLQ: %s", body)
	}
	resp, body = call(t, http.MethodPost, gw.GatewayURL+"/v1/dlq/"+id+"/replay", "", nil)
	wantError(t, resp, body, 404, "not_in_dlq")
}

func TestAsyncSurvivesDispatcherCrash(t *testing.T) {
	conn := externalConn(t)
	first := asyncGateway(t, conn, gateway.Config{AckWait: 300 * time.Millisecond})
	asyncRunner(t, conn)
	mustDeploy(t, first.GatewayURL, "sleepy", testmodules.Sleep, "")
	id := submit(t, first.GatewayURL, "sleepy", "1500", nil)
	waitStatus(t, first.GatewayURL, id, "running")
	first.NC.Close() // the gateway running it dies mid-invocation

	second := asyncGateway(t, conn, gateway.Config{AckWait: 300 * time.Millisecond})
	rec := waitStatus(t, second.GatewayURL, id, "succeeded")
	if rec.Attempts != 2 {
		t.Fatalf("record after redelivery: attempts %d, want 2", rec.Attempts)
	}
	resp, body := call(t, http.MethodGet, second.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || string(body) != "slept 1500\n" {
		t.Fatalf("result: %d %q", resp.StatusCode, body)
	}
}

func TestAsyncLargePayload(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	big := strings.Repeat("0123456789abcdef", 2<<20) // 32 MiB
	id := submit(t, s.GatewayURL, "echo", big, nil)
	waitStatus(t, s.GatewayURL, id, "succeeded")
	resp, body := call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/result", "", nil)
	if resp.StatusCode != 200 || len(body) != len(big) || string(body) != big {
		t.Fatalf("32 MiB async result: %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestAsyncCLI(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := hearth("invoke", "hello", "--async", "--data", "cli")
	id := strings.TrimSpace(out)
	if code != 0 || id == "" {
		t.Fatalf("invoke --async: %d %q %q", code, out, errOut)
	}
	waitStatus(t, s.GatewayURL, id, "succeeded")
	if code, out, _ := hearth("invocation", id); code != 0 || !strings.Contains(out, "status    succeeded") {
		t.Fatalf("invocation: %d %q", code, out)
	}
	if code, out, _ := hearth("invocation", id, "--result"); code != 0 || out != "Hello, cli!\n" {
		t.Fatalf("invocation --result: %d %q", code, out)
	}
	if code, out, _ := hearth("invocations", "hello"); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("invocations: %d %q", code, out)
	}
	if code, out, _ := hearth("logs", "hello"); code != 0 || !strings.Contains(out, "hello: greeted 3 bytes") || !strings.Contains(out, id) {
		t.Fatalf("logs: %d %q", code, out)
	}
	if code, _, errOut := hearth("dlq", "ls"); code != 0 || !strings.Contains(errOut, "empty") {
		t.Fatalf("dlq ls: %d %q", code, errOut)
	}
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"dlq", "replay", "nope"}, 1, "not_in_dlq"},
		{[]string{"dlq"}, 2, "dlq ls"},
		{[]string{"invocation", "nope"}, 1, "invocation_not_found"},
		{[]string{"invocations"}, 2, "want one function NAME"},
		{[]string{"logs"}, 2, "want one function NAME"},
		{[]string{"invocations", "hello", "--limit", "0"}, 1, "limit"},
	} {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}
	// logs -f prints the logs of new invocations as they finish.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var followed syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"logs", "hello", "-f", "--gateway", s.GatewayURL}, &followed, io.Discard)
	}()
	call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", []byte("followed!"))
	testutil.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(followed.String(), "greeted 9 bytes") {
			return fmt.Errorf("logs -f printed %q", followed.String())
		}
		return nil
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("logs -f exit %d", code)
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAsyncWaitsForCapacity: while no runner can take it, an async
// invocation waits in the queue without using up its attempts, and runs
// once a runner comes.
func TestAsyncWaitsForCapacity(t *testing.T) {
	conn := externalConn(t)
	gw := asyncGateway(t, conn, gateway.Config{MaxAttempts: 2, RetryBase: 20 * time.Millisecond, RetryCap: 100 * time.Millisecond})
	mustDeploy(t, gw.GatewayURL, "hello", exampleWasm(t, "hello"), "")
	id := submit(t, gw.GatewayURL, "hello", "patient", nil)
	// Many deliveries (more than MaxAttempts) find no runner; none counts
	// as an attempt: each reschedules the invocation (a new next_attempt_at).
	retries := map[time.Time]bool{}
	testutil.Eventually(t, 30*time.Second, func() error {
		rec := record(t, gw.GatewayURL, id)
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
	asyncRunner(t, conn)
	rec := waitStatus(t, gw.GatewayURL, id, "succeeded")
	if rec.Attempts != 1 {
		t.Fatalf("attempts %d, want 1", rec.Attempts)
	}
}

// An accepted invocation is one message in the async stream and nothing
// else until a dispatcher starts it: its record and the function's list
// of invocations read it from the stream.
func TestAsyncQueuedIsReadFromTheStream(t *testing.T) {
	conn := externalConn(t)
	gw := asyncGateway(t, conn, gateway.Config{NoDispatcher: true})
	mustDeploy(t, gw.GatewayURL, "hello", exampleWasm(t, "hello"), "")
	mustDeploy(t, gw.GatewayURL, "other", exampleWasm(t, "hello"), "")
	var ids []string
	for i := range 5 {
		var headers map[string]string
		if i == 0 {
			headers = map[string]string{"Hearth-Callback-Url": "http://127.0.0.1:9/done"}
		}
		ids = append(ids, submit(t, gw.GatewayURL, "hello", fmt.Sprint(i), headers))
	}
	otherID := submit(t, gw.GatewayURL, "other", "x", nil)

	for i, id := range ids {
		rec := record(t, gw.GatewayURL, id)
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
		resp, body := call(t, http.MethodGet, fmt.Sprintf("%s/v1/functions/hello/invocations?limit=%d", gw.GatewayURL, limit), "", nil)
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
		resp, body := call(t, http.MethodGet, gw.GatewayURL+"/v1/invocations/"+bad, "", nil)
		wantError(t, resp, body, 404, "invocation_not_found")
	}

	// A dispatcher runs them; each is listed once, from its record.
	asyncGateway(t, conn, gateway.Config{})
	asyncRunner(t, conn)
	for _, id := range ids {
		waitStatus(t, gw.GatewayURL, id, "succeeded")
	}
	if got, want := list(50), []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("invocations after running %v, want %v", got, want)
	}
}
