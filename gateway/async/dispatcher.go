package async

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/transport"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// dispatcher runs async invocations: a durable pull consumer shared by all
// gateways, so each accepted invocation is run by one of them; a failed
// attempt is retried with exponential backoff and jitter, and after
// MaxAttempts it moves to the dead-letter stream.
type dispatcher struct {
	q       *Queue
	cons    jetstream.ConsumeContext
	sem     chan struct{}
	running sync.WaitGroup

	mu      sync.Mutex
	stopped bool // no new runs: a delivery after stop goes back to the stream
}

// StartDispatcher starts running queued invocations in this gateway.
func (q *Queue) StartDispatcher(ctx context.Context) error {
	var cons jetstream.Consumer
	err := records.RetryOpen(ctx, q.Log, "consumer "+DispatcherConsumer, func(ctx context.Context) (err error) {
		cons, err = q.JS.CreateOrUpdateConsumer(ctx, AsyncStream, jetstream.ConsumerConfig{
			Durable:       DispatcherConsumer,
			Description:   "Hearth gateways running async invocations",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       q.cfg.AckWait,
			MaxDeliver:    -1, // attempts are counted and bounded by the dispatcher
			MaxAckPending: 4096,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("gateway: dispatcher consumer: %w", err)
	}
	d := &dispatcher{q: q, sem: make(chan struct{}, q.cfg.Dispatchers)}
	cc, err := cons.Consume(d.receive, jetstream.PullMaxMessages(q.cfg.Dispatchers))
	if err != nil {
		return fmt.Errorf("gateway: dispatcher: %w", err)
	}
	d.cons = cc
	q.dispatch = d
	return nil
}

// Stop stops taking messages and waits for the runs in progress, until
// ctx ends.
func (q *Queue) Stop(ctx context.Context) error {
	d := q.dispatch
	if d == nil {
		return nil
	}
	d.cons.Stop()
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *dispatcher) receive(msg jetstream.Msg) {
	d.sem <- struct{}{}
	// A delivery can still arrive while the consumer stops; it must not
	// start a run that Stop does not wait for.
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		<-d.sem
		_ = msg.Nak()
		return
	}
	d.running.Add(1)
	d.mu.Unlock()
	go func() {
		defer func() { <-d.sem; d.running.Done() }()
		d.run(msg)
	}()
}

// run runs one delivery of an async invocation.
func (d *dispatcher) run(msg jetstream.Msg) {
	q := d.q
	ctx := context.Background()
	m, err := decodeMeta(msg.Headers())
	if err != nil {
		q.Log.Error("dropping a malformed async message", "subject", msg.Subject(), "error", err)
		_ = msg.Term()
		return
	}
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Nak()
		return
	}
	deliveries := int(md.NumDelivered)
	req := m.Req
	rec, err := q.Records.GetFor(ctx, req.Namespace, req.Function, req.InvocationID)
	if err != nil { // not started before: the message has it all
		rec = m.queuedRecord()
	}
	if rec.Status == records.StatusSucceeded || rec.Status == records.StatusDead {
		// A redelivery of work already done (the ack was lost): finish the
		// callback if it is owed, and complete the message.
		d.callback(ctx, rec)
		_ = msg.Ack()
		return
	}

	// Attempts count the runs that reached a runner (and a delivery whose
	// gateway died mid-run); waiting for capacity does not use them up.
	attempt := rec.Attempts + 1
	now := time.Now().UTC()
	rec.Status, rec.Attempts, rec.StartedAt, rec.NextTry = records.StatusRunning, attempt, &now, nil
	rec.Timings = records.Timings{QueuedMs: invocation.Ms(now.Sub(m.QueuedAt))}
	_ = q.Records.Put(ctx, rec)

	// Keep the delivery ours while the function runs.
	stopProgress := d.keepInProgress(msg)
	out := d.execute(ctx, &invocation.Invocation{Namespace: req.Namespace, Function: req.Function, Req: req, Body: msg.Data(), Start: time.Now()})
	stopProgress()

	rec.ApplyOutcome(&out, time.Now().UTC())
	if out.Resp != nil && out.Resp.Stderr != "" {
		if ref, err := q.Outputs.PutLogs(ctx, req.InvocationID, []byte(out.Resp.Stderr)); err == nil {
			rec.Logs = ref
		}
	}
	if out.Err == nil {
		// An output the runner already stored (claim check) stays where it is.
		result := &records.ObjectRef{Key: out.Resp.OutputRef, Size: len(out.Output)}
		if out.Resp.OutputRef == "" {
			var err error
			if result, err = q.Outputs.PutResult(ctx, req.InvocationID, out.Output, out.ContentType()); err != nil {
				out.Err = apierr.New(http.StatusServiceUnavailable, apierr.StorageUnavailable, "could not store the result: %v", err)
				rec.Error = &apierr.Detail{Code: out.Err.Code, Message: out.Err.Message}
			}
		}
		if out.Err == nil {
			rec.Status, rec.Result = records.StatusSucceeded, result
			if req.BodyRef != "" {
				transport.DeleteLater(q.Store, req.BodyRef, q.Log)
			}
			_ = q.Records.Put(ctx, rec)
			d.callback(ctx, rec)
			_ = msg.Ack()
			q.Metrics.finished.WithLabelValues(req.Namespace, req.Function, records.StatusSucceeded).Inc()
			return
		}
	}

	maxAttempts := m.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = q.cfg.MaxAttempts
	}
	if noCapacity(out.Err) {
		// Every runner was busy (or none is up): the function did not run.
		// The invocation waits, durably, however long that lasts.
		delay := backoff(q.cfg.RetryBase, q.cfg.RetryCap, deliveries)
		next := time.Now().UTC().Add(delay)
		rec.Attempts--
		rec.Status, rec.NextTry = records.StatusQueued, &next
		_ = q.Records.Put(ctx, rec)
		_ = msg.NakWithDelay(delay)
		return
	}
	if attempt < maxAttempts && retryable(out.Err) {
		delay := backoff(q.cfg.RetryBase, q.cfg.RetryCap, attempt)
		next := time.Now().UTC().Add(delay)
		rec.Status, rec.NextTry = records.StatusQueued, &next
		_ = q.Records.Put(ctx, rec)
		_ = msg.NakWithDelay(delay)
		q.Log.Info("async attempt failed; retrying", "invocation", req.InvocationID, "attempt", attempt, "retry_in", delay, "error", out.Err.Message)
		return
	}
	// Out of attempts (or not worth retrying): dead-letter it.
	dead := nats.NewMsg(dlqSubject(req.InvocationID))
	for k, v := range msg.Headers() {
		if k != jetstream.MsgIDHeader {
			dead.Header[k] = v
		}
	}
	dead.Header.Set(headerLastError, string(out.Err.Code)+": "+out.Err.Message)
	dead.Header.Set(headerAttempts, strconv.Itoa(attempt))
	dead.Data = msg.Data()
	if _, err := q.JS.PublishMsg(ctx, dead); err != nil {
		q.Log.Error("could not dead-letter an invocation; it will be retried", "invocation", req.InvocationID, "error", err)
		_ = msg.NakWithDelay(q.cfg.RetryCap)
		return
	}
	rec.Status = records.StatusDead
	_ = q.Records.Put(ctx, rec)
	d.callback(ctx, rec)
	_ = msg.Ack()
	q.Metrics.finished.WithLabelValues(req.Namespace, req.Function, records.StatusDead).Inc()
	q.Log.Warn("async invocation dead-lettered", "invocation", req.InvocationID, "attempts", attempt, "error", out.Err.Message)
}

// execute runs one attempt of a queued invocation, unless its function
// has been deleted since it was queued: that call fails at once with
// function_not_found, which is not retried.
func (d *dispatcher) execute(ctx context.Context, inv *invocation.Invocation) invocation.Outcome {
	if _, err := d.q.Functions.Lookup(ctx, inv.Namespace, inv.Function); errors.Is(err, registry.ErrNotFound) {
		return invocation.Outcome{Status: http.StatusNotFound, Total: time.Since(inv.Start),
			Err: apierr.New(http.StatusNotFound, apierr.FunctionNotFound, "function %q in namespace %q was deleted after the invocation was queued", inv.Function, inv.Namespace)}
	}
	return d.q.Executor.Execute(ctx, inv, scheduler.Async)
}

// keepInProgress tells JetStream the delivery is still being worked on,
// every third of AckWait, until the returned stop is called.
func (d *dispatcher) keepInProgress(msg jetstream.Msg) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(d.q.cfg.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// noCapacity reports whether a call failed before reaching a runner
// because none had room or none is up.
func noCapacity(err *apierr.Error) bool {
	return err.Code == apierr.Overloaded || err.Code == apierr.NoRunners || err.Code == apierr.Code(wire.CodeConcurrencyLimit)
}

// retryable reports whether another attempt could succeed: not when the
// function is gone (execute) or the runner found the request itself
// malformed.
func retryable(err *apierr.Error) bool {
	switch err.Code {
	case apierr.FunctionNotFound, apierr.Code(wire.CodeBadRequest):
		return false
	}
	return true
}

// backoff is the delay before attempt+1: base × 2^(attempt-1), capped,
// with ±20% jitter so retries of a failed burst spread out.
func backoff(base, ceiling time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	jitter := time.Duration(float64(d) * (rand.Float64()*0.4 - 0.2))
	return d + jitter
}

// callback POSTs a finished invocation's result to its callback URL, with
// retries; the outcome is recorded. It is at-least-once: a gateway that
// crashes after delivering and before recording delivers again.
func (d *dispatcher) callback(ctx context.Context, rec *records.Record) {
	q := d.q
	cb := rec.Callback
	if cb == nil || cb.Delivered || !rec.Finished() {
		return
	}
	var body []byte
	if rec.Status == records.StatusSucceeded && rec.Result != nil {
		body, _ = q.Outputs.Get(ctx, rec.Result)
	}
	for cb.Attempts < q.cfg.CallbackAttempts {
		cb.Attempts++
		status, err := d.postCallback(ctx, rec, body)
		cb.StatusCode = status
		if err == nil && status < 300 {
			cb.Delivered, cb.Error = true, ""
			break
		}
		if err != nil {
			cb.Error = err.Error()
		} else {
			cb.Error = "callback answered " + strconv.Itoa(status)
		}
		if cb.Attempts < q.cfg.CallbackAttempts {
			time.Sleep(backoff(q.cfg.RetryBase, q.cfg.RetryCap, cb.Attempts)) // pacing retries to a remote server
		}
	}
	_ = q.Records.Put(ctx, rec)
}

func (d *dispatcher) postCallback(ctx context.Context, rec *records.Record, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rec.Callback.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(invocation.HeaderID, rec.ID)
	req.Header.Set("Hearth-Status", rec.Status)
	req.Header.Set("Hearth-Function", rec.Function)
	if rec.Error != nil {
		req.Header.Set("Hearth-Error", string(rec.Error.Code)+": "+rec.Error.Message)
	}
	resp, err := d.q.callback.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
