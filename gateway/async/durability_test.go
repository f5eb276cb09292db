package async_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// fastConfig retries quickly; finishRetry bounds how long a dispatcher
// retries storing a final record before it gives the message back.
func fastConfig(finishRetry time.Duration) async.Config {
	return async.Config{Dispatchers: 4, MaxAttempts: 3, RetryBase: 50 * time.Millisecond, RetryCap: 200 * time.Millisecond,
		AckWait: 2 * time.Second, CallbackAttempts: 2, FinishRetry: finishRetry}
}

// breakRecordsOnce makes the records bucket refuse writes the first time
// it is called; after (when > 0) makes it take them again that long later.
func (h *harness) breakRecordsOnce(after time.Duration) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			h.recordsWritable(false)
			if after > 0 {
				h.bg.Add(1)
				time.AfterFunc(after, func() { defer h.bg.Done(); h.recordsWritable(true) })
			}
		})
	}
}

// waitRedelivered waits until the invocation has been given back and
// delivered again at least n times more, checking all along that it is
// not lost.
func (h *harness) waitRedelivered(id, fn string, n uint64) {
	h.t.Helper()
	testutil.Eventually(h.t, 30*time.Second, func() error {
		h.notLost(id, fn)
		if d := h.deliveries(); d < 1+n {
			return fmt.Errorf("%d deliveries", d)
		}
		return nil
	})
}

// waitFinal waits for the invocation's final record, checking all along
// that it is not lost, and for the stream to be empty.
func (h *harness) waitFinal(id, fn, status string) *records.Record {
	h.t.Helper()
	var rec *records.Record
	testutil.Eventually(h.t, 30*time.Second, func() error {
		h.notLost(id, fn)
		if rec = h.record(id, fn); rec == nil || rec.Status != status {
			return fmt.Errorf("record %+v, want %s", rec, status)
		}
		if n := h.queued(); n != 0 {
			return fmt.Errorf("%d messages still in the async stream", n)
		}
		return nil
	})
	return rec
}

// TestFinalRecordAfterAShortOutage: the records bucket refuses writes
// while a function runs and takes them again half a second later (a
// leader election). The dispatcher retries the final record, keeping the
// message, and only then acknowledges it. Before, the write's error was
// ignored and the message acknowledged: the record stayed "running" and
// the stream was empty, the chaos run's lost invocations.
func TestFinalRecordAfterAShortOutage(t *testing.T) {
	h := newHarness(t, fastConfig(10*time.Second))
	h.exec.hook = func(*invocation.Invocation) { h.breakRecordsOnce(500 * time.Millisecond)() }
	id := h.enqueue("f", "x", "")
	rec := h.waitFinal(id, "f", records.StatusSucceeded)
	if rec.Attempts != 1 || rec.Runner != "runner-1" || rec.Result == nil {
		t.Fatalf("record %+v", rec)
	}
	if out, err := h.outputs.Get(context.Background(), rec.Result); err != nil || string(out) != "ran x" {
		t.Fatalf("result %q, %v", out, err)
	}
	if n := h.exec.ran(id); n != 1 {
		t.Fatalf("the function ran %d times", n)
	}
}

// TestFinalRecordAfterALongOutage: the records bucket refuses writes for
// longer than the dispatcher retries. The message is given back (and
// redelivered, again and again while the outage lasts) instead of
// acknowledged, and the redeliveries do not run the function again: the
// outcome the first run stored aside finishes the record, with its
// runner and timings, once the bucket takes writes.
func TestFinalRecordAfterALongOutage(t *testing.T) {
	h := newHarness(t, fastConfig(200*time.Millisecond))
	h.exec.hook = func(*invocation.Invocation) { h.breakRecordsOnce(0)() }
	id := h.enqueue("f", "x", "")
	h.waitRedelivered(id, "f", 2)
	h.recordsWritable(true)
	rec := h.waitFinal(id, "f", records.StatusSucceeded)
	if rec.Attempts != 1 || rec.Runner != "runner-1" || rec.Result == nil || rec.Timings.RunMs != 1 {
		t.Fatalf("record %+v", rec)
	}
	if out, err := h.outputs.Get(context.Background(), rec.Result); err != nil || string(out) != "ran x" {
		t.Fatalf("result %q, %v", out, err)
	}
	if n := h.exec.ran(id); n != 1 {
		t.Fatalf("the function ran %d times; its outcome was known after the first", n)
	}
}

// TestDeadRecordAfterALongOutage: the dead-letter path (here a function
// deleted after the call was queued) stores the dead record before the
// message goes; while the bucket refuses writes, the message is given
// back, and its redeliveries neither dead-letter it twice nor count more
// attempts.
func TestDeadRecordAfterALongOutage(t *testing.T) {
	h := newHarness(t, fastConfig(200*time.Millisecond))
	h.fns.gone = map[string]bool{"gone": true}
	h.fns.hook = func(string) { h.breakRecordsOnce(0)() }
	id := h.enqueue("gone", "x", "")
	h.waitRedelivered(id, "gone", 2)
	h.recordsWritable(true)
	rec := h.waitFinal(id, "gone", records.StatusDead)
	if rec.Attempts != 1 || rec.Error == nil || rec.Error.Code != "function_not_found" {
		t.Fatalf("record %+v (error %+v)", rec, rec.Error)
	}
	dead, err := h.q.DeadLetters(context.Background(), "default", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != id || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "function_not_found") {
		t.Fatalf("dead letters %+v, want one of %s", dead, id)
	}
}

// TestFailedAttemptsAfterAnOutage: a failing function whose records
// cannot be written meanwhile still runs MaxAttempts times, no more, and
// ends dead.
func TestFailedAttemptsAfterAnOutage(t *testing.T) {
	h := newHarness(t, fastConfig(200*time.Millisecond))
	h.exec.outcome = func(*invocation.Invocation) invocation.Outcome {
		return invocation.Outcome{Status: 500, Resp: &wire.Response{Runner: "runner-1"},
			Err: apierr.New(500, "function_error", "exit code 3")}
	}
	h.exec.hook = func(*invocation.Invocation) { h.breakRecordsOnce(time.Second)() }
	id := h.enqueue("f", "x", "")
	rec := h.waitFinal(id, "f", records.StatusDead)
	if rec.Attempts != 3 {
		t.Fatalf("record %+v", rec)
	}
	if n := h.exec.ran(id); n != 3 {
		t.Fatalf("the function ran %d times, want 3 (MaxAttempts)", n)
	}
}

// TestCallbackAfterALongOutage: the callback of an invocation whose
// record could not be stored is delivered once the record is, with the
// stored result, once.
func TestCallbackAfterALongOutage(t *testing.T) {
	h := newHarness(t, fastConfig(200*time.Millisecond))
	sink := newCallbackSink(t)
	h.exec.hook = func(*invocation.Invocation) { h.breakRecordsOnce(0)() }
	id := h.enqueue("f", "cb", sink.URL)
	h.waitRedelivered(id, "f", 2)
	h.recordsWritable(true)
	h.waitFinal(id, "f", records.StatusSucceeded)
	testutil.Eventually(t, 30*time.Second, func() error {
		if rec := h.record(id, "f"); rec.Callback == nil || !rec.Callback.Delivered {
			return fmt.Errorf("callback %+v", rec.Callback)
		}
		return nil
	})
	if got := sink.received(); len(got) != 1 || got[0] != "succeeded ran cb" {
		t.Fatalf("callbacks %q, want one with the result", got)
	}
	if n := h.exec.ran(id); n != 1 {
		t.Fatalf("the function ran %d times", n)
	}
}
