package async_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// TestCallbackSendsTheOutputItHas: the callback carries the output the
// dispatcher has in memory; it does not read back what it just stored.
// Here the runner stored the output (claim check) and reads of it fail,
// as a read just after a write can on an R3 bucket whose replica has not
// caught up. Before, the read's error was ignored and the callback said
// succeeded with an empty body.
func TestCallbackSendsTheOutputItHas(t *testing.T) {
	h := newHarness(t, fastConfig(10*time.Second))
	sink := newCallbackSink(t)
	h.store.failRead = func(key string) bool { return strings.HasPrefix(key, "results/") }
	h.exec.outcome = func(inv *invocation.Invocation) invocation.Outcome {
		key := wire.ResultKey(inv.Req.InvocationID)
		_ = h.store.Put(context.Background(), key, []byte("big output"), "")
		return invocation.Outcome{Status: 200, Output: []byte("big output"),
			Resp: &wire.Response{Status: 200, Runner: "runner-1", OutputRef: key}}
	}
	id := h.enqueue("f", "x", sink.URL)
	testutil.Eventually(t, 30*time.Second, func() error {
		if rec := h.record(id, "f"); rec == nil || rec.Callback == nil || !rec.Callback.Delivered {
			return fmt.Errorf("record %+v", rec)
		}
		return nil
	})
	if got := sink.received(); len(got) != 1 || got[0] != "succeeded big output" {
		t.Fatalf("callbacks %q, want one with the output", got)
	}
}

// TestCallbackNeverSendsAnEmptyBodyForAResult: a redelivered invocation
// that has succeeded but owes its callback reads its result back; while
// that read fails, the delivery attempt fails (and says why in the
// record) instead of posting an empty body.
func TestCallbackNeverSendsAnEmptyBodyForAResult(t *testing.T) {
	h := newHarness(t, fastConfig(10*time.Second))
	sink := newCallbackSink(t)
	h.store.failRead = func(key string) bool { return strings.HasPrefix(key, "results/") }
	id := "done" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()))
	key := wire.ResultKey(id)
	_ = h.store.Put(context.Background(), key, []byte("the result"), "")
	now := time.Now().UTC()
	done := &records.Record{ID: id, Namespace: "default", Function: "f", Mode: "async", Status: records.StatusSucceeded,
		Attempts: 1, QueuedAt: now, StartedAt: &now, FinishedAt: &now, Result: &records.ObjectRef{Key: key, Size: 10},
		Callback: &records.CallbackInfo{URL: sink.URL}}
	if err := h.records.Put(context.Background(), done); err != nil {
		t.Fatal(err)
	}
	// The same invocation queued again (its first ack was lost).
	inv := &invocation.Invocation{Namespace: "default", Function: "f",
		Req: &wire.Request{InvocationID: id, Namespace: "default", Function: "f", Version: 1}}
	if _, err := h.q.Enqueue(context.Background(), inv, "async", sink.URL, id+"-again"); err != nil {
		t.Fatal(err)
	}
	var rec *records.Record
	testutil.Eventually(t, 30*time.Second, func() error {
		if got := sink.received(); len(got) != 0 {
			t.Fatalf("callbacks %q, want none while the result cannot be read", got)
		}
		if rec = h.record(id, "f"); rec.Callback.Attempts < 2 {
			return fmt.Errorf("callback %+v", rec.Callback)
		}
		if n := h.queued(); n != 0 {
			return fmt.Errorf("%d messages queued", n)
		}
		return nil
	})
	if rec.Callback.Delivered || !strings.Contains(rec.Callback.Error, "result") {
		t.Fatalf("callback %+v, want undelivered with the read's error", rec.Callback)
	}
	if got := sink.received(); len(got) != 0 {
		t.Fatalf("callbacks %q, want none", got)
	}
	if n := h.exec.ran(id); n != 0 {
		t.Fatalf("a finished invocation ran %d times", n)
	}
}
