package gateway

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// dispatcher runs async invocations: a durable pull consumer shared by all
// gateways, so each accepted invocation is run by one of them; a failed
// attempt is retried with exponential backoff and jitter, and after
// MaxAttempts it moves to the dead-letter stream.
type dispatcher struct {
	g       *Gateway
	cons    jetstream.ConsumeContext
	sem     chan struct{}
	running sync.WaitGroup

	mu      sync.Mutex
	stopped bool // no new runs: a delivery after stop goes back to the stream
}

func (g *Gateway) startDispatcher(ctx context.Context) error {
	cons, err := g.js.CreateOrUpdateConsumer(ctx, AsyncStream, jetstream.ConsumerConfig{
		Durable:       DispatcherConsumer,
		Description:   "Hearth gateways running async invocations",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       g.cfg.AckWait,
		MaxDeliver:    -1, // attempts are counted and bounded by the dispatcher
		MaxAckPending: 4096,
	})
	if err != nil {
		return fmt.Errorf("gateway: dispatcher consumer: %w", err)
	}
	d := &dispatcher{g: g, sem: make(chan struct{}, g.cfg.Dispatchers)}
	cc, err := cons.Consume(d.receive, jetstream.PullMaxMessages(g.cfg.Dispatchers))
	if err != nil {
		return fmt.Errorf("gateway: dispatcher: %w", err)
	}
	d.cons = cc
	g.dispatch = d
	return nil
}

// stop stops taking messages and waits for those being run.
func (d *dispatcher) stop() {
	d.cons.Stop()
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.running.Wait()
}

func (d *dispatcher) receive(msg jetstream.Msg) {
	d.sem <- struct{}{}
	// A delivery can still arrive while the consumer stops; it must not
	// start a run that stop does not wait for.
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
	g := d.g
	ctx := context.Background()
	meta, err := decodeAsync(msg)
	if err != nil {
		g.log.Error("dropping a malformed async message", "subject", msg.Subject(), "error", err)
		_ = msg.Term()
		return
	}
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Nak()
		return
	}
	deliveries := int(md.NumDelivered)
	req := meta.Req
	rec, err := g.records.getFor(ctx, req.Namespace, req.Function, req.InvocationID)
	if err != nil { // not started before: the message has it all
		rec = meta.queuedRecord()
	}
	if rec.Status == StatusSucceeded || rec.Status == StatusDead {
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
	rec.Status, rec.Attempts, rec.StartedAt, rec.NextTry = StatusRunning, attempt, &now, nil
	rec.Timings = Timings{QueuedMs: ms(now.Sub(meta.QueuedAt))}
	_ = g.records.put(ctx, rec)

	// Keep the delivery ours while the function runs.
	stopProgress := d.keepInProgress(msg)
	inv := &invocation{ns: req.Namespace, name: req.Function, req: req, body: msg.Data(), start: time.Now()}
	out := g.execute(ctx, inv, scheduler.Async)
	stopProgress()

	rec.applyOutcome(out, time.Now().UTC())
	if out.resp != nil && out.resp.Stderr != "" {
		if ref, err := g.outputs.putLogs(ctx, req.InvocationID, []byte(out.resp.Stderr)); err == nil {
			rec.Logs = ref
		}
	}
	if out.err == nil {
		// An output the runner already stored (claim check) stays where it is.
		result := &ObjectRef{Key: out.resp.OutputRef, Size: len(out.output)}
		if out.resp.OutputRef == "" {
			var err error
			if result, err = g.outputs.putResult(ctx, req.InvocationID, out.output, contentType(out)); err != nil {
				out.err = newError(http.StatusServiceUnavailable, "storage_unavailable", "could not store the result: %v", err)
				rec.Error = &errorDetail{Code: out.err.Code, Message: out.err.Message}
			}
		}
		if out.err == nil {
			rec.Status, rec.Result = StatusSucceeded, result
			if req.BodyRef != "" {
				g.deleteLater(req.BodyRef)
			}
			_ = g.records.put(ctx, rec)
			d.callback(ctx, rec)
			_ = msg.Ack()
			g.metrics.asyncDone.WithLabelValues(req.Namespace, req.Function, StatusSucceeded).Inc()
			return
		}
	}

	maxAttempts := meta.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = g.cfg.MaxAttempts
	}
	if noCapacity(out.err) {
		// Every runner was busy (or none is up): the function did not run.
		// The invocation waits, durably, however long that lasts.
		delay := backoff(g.cfg.RetryBase, g.cfg.RetryCap, deliveries)
		next := time.Now().UTC().Add(delay)
		rec.Attempts--
		rec.Status, rec.NextTry = StatusQueued, &next
		_ = g.records.put(ctx, rec)
		_ = msg.NakWithDelay(delay)
		return
	}
	if attempt < maxAttempts && retryable(out.err) {
		delay := backoff(g.cfg.RetryBase, g.cfg.RetryCap, attempt)
		next := time.Now().UTC().Add(delay)
		rec.Status, rec.NextTry = StatusQueued, &next
		_ = g.records.put(ctx, rec)
		_ = msg.NakWithDelay(delay)
		g.log.Info("async attempt failed; retrying", "invocation", req.InvocationID, "attempt", attempt, "retry_in", delay, "error", out.err.Message)
		return
	}
	// Out of attempts (or not worth retrying): dead-letter it.
	dead := nats.NewMsg(dlqSubject(req.InvocationID))
	for k, v := range msg.Headers() {
		if k != jetstream.MsgIDHeader {
			dead.Header[k] = v
		}
	}
	dead.Header.Set(headerLastError, out.err.Code+": "+out.err.Message)
	dead.Header.Set("Hearth-Attempts", strconv.Itoa(attempt))
	dead.Data = msg.Data()
	if _, err := g.js.PublishMsg(ctx, dead); err != nil {
		g.log.Error("could not dead-letter an invocation; it will be retried", "invocation", req.InvocationID, "error", err)
		_ = msg.NakWithDelay(g.cfg.RetryCap)
		return
	}
	rec.Status = StatusDead
	_ = g.records.put(ctx, rec)
	d.callback(ctx, rec)
	_ = msg.Ack()
	g.metrics.asyncDone.WithLabelValues(req.Namespace, req.Function, StatusDead).Inc()
	g.log.Warn("async invocation dead-lettered", "invocation", req.InvocationID, "attempts", attempt, "error", out.err.Message)
}

// keepInProgress tells JetStream the delivery is still being worked on,
// every third of AckWait, until the returned stop is called.
func (d *dispatcher) keepInProgress(msg jetstream.Msg) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(d.g.cfg.AckWait/3, 10*time.Millisecond))
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
func noCapacity(err *apiError) bool {
	return err.Code == "overloaded" || err.Code == "no_runners" || err.Code == wire.CodeConcurrencyLimit
}

// retryable reports whether another attempt could succeed: not when the
// function is gone or the request itself is bad.
func retryable(err *apiError) bool {
	switch err.Code {
	case "function_not_found", "invalid_name", "payload_too_large", wire.CodeBadRequest:
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

func contentType(out outcome) string {
	if out.resp != nil {
		if ct := http.Header(out.resp.Headers).Get("Content-Type"); ct != "" {
			return ct
		}
	}
	return "application/octet-stream"
}

// callback POSTs a finished invocation's result to its callback URL, with
// retries; the outcome is recorded. It is at-least-once: a gateway that
// crashes after delivering and before recording delivers again.
func (d *dispatcher) callback(ctx context.Context, rec *Record) {
	cb := rec.Callback
	if cb == nil || cb.Delivered || !rec.finished() {
		return
	}
	var body []byte
	if rec.Status == StatusSucceeded && rec.Result != nil {
		body, _ = d.g.outputs.get(ctx, rec.Result)
	}
	for cb.Attempts < d.g.cfg.CallbackAttempts {
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
		if cb.Attempts < d.g.cfg.CallbackAttempts {
			time.Sleep(backoff(d.g.cfg.RetryBase, d.g.cfg.RetryCap, cb.Attempts)) // pacing retries to a remote server
		}
	}
	_ = d.g.records.put(ctx, rec)
}

func (d *dispatcher) postCallback(ctx context.Context, rec *Record, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rec.Callback.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(headerInvocationID, rec.ID)
	req.Header.Set("Hearth-Status", rec.Status)
	req.Header.Set("Hearth-Function", rec.Function)
	if rec.Error != nil {
		req.Header.Set("Hearth-Error", rec.Error.Code+": "+rec.Error.Message)
	}
	resp, err := d.g.callbackClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
