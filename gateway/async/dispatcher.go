package async

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/tracing"
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
	err := jsopen.Retry(ctx, q.Log, "consumer "+DispatcherConsumer, func(ctx context.Context) (err error) {
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

// settlement is how a delivery ends: acknowledged (the invocation is
// finished and its final record stored), given back to the stream to be
// delivered again after delay, or terminated (a malformed message).
type settlement struct {
	how   settleHow
	delay time.Duration
}

type settleHow int

const (
	settleAck settleHow = iota
	settleNak
	settleTerm
)

var acked = settlement{how: settleAck}

// delivery is one delivery of an async message.
type delivery struct {
	msg jetstream.Msg
	m   *meta
	seq uint64 // the message's stream sequence: the same on every redelivery
	n   int    // deliveries so far, this one included
}

// run runs one delivery of an async invocation. The message is kept in
// progress from its arrival until it is settled, so that neither a long
// run nor the retries of storing its record let JetStream redeliver it
// meanwhile.
func (d *dispatcher) run(msg jetstream.Msg) {
	stop := d.keepInProgress(msg)
	s := d.handle(msg)
	stop()
	switch s.how {
	case settleAck:
		_ = msg.Ack()
	case settleNak:
		if s.delay > 0 {
			_ = msg.NakWithDelay(s.delay)
		} else {
			_ = msg.Nak()
		}
	case settleTerm:
		_ = msg.Term()
	}
}

// later gives a delivery back, to be delivered again after the backoff of
// its n deliveries.
func (d *dispatcher) later(n int) settlement {
	return settlement{how: settleNak, delay: backoff(d.q.cfg.RetryBase, d.q.cfg.RetryCap, n)}
}

func (d *dispatcher) handle(msg jetstream.Msg) settlement {
	q := d.q
	ctx := context.Background()
	m, err := decodeMeta(msg.Headers())
	if err != nil {
		q.Log.Error("dropping a malformed async message", "subject", msg.Subject(), "error", err)
		return settlement{how: settleTerm}
	}
	md, err := msg.Metadata()
	if err != nil {
		return settlement{how: settleNak}
	}
	dl := delivery{msg: msg, m: m, seq: md.Sequence.Stream, n: int(md.NumDelivered)}
	req := m.Req
	rec, err := d.readRecord(ctx, req)
	if err != nil {
		// Not knowing whether it has finished, it must not run again.
		q.Log.Warn("could not read the record of an async invocation; it will be redelivered", req.LogArgs("error", err)...)
		return d.later(dl.n)
	}
	started := rec != nil
	if !started { // not started before: the message has it all
		rec = m.queuedRecord()
	}
	if rec.Status == records.StatusSucceeded || rec.Status == records.StatusDead {
		// A redelivery of work already done (the ack was lost): finish the
		// callback if it is owed, and complete the message.
		return d.settleFinished(ctx, dl, rec)
	}
	if dl.n > 1 && (!started || rec.Status == records.StatusRunning) {
		// An earlier delivery may have run it and failed to store its final
		// record: then it kept the outcome aside, and the invocation is
		// finished from it, without running the function again.
		kept, err := d.keptOutcome(ctx, req.InvocationID, dl.seq)
		if err != nil {
			q.Log.Warn("could not read the kept outcome of an async invocation; it will be redelivered", req.LogArgs("error", err)...)
			return d.later(dl.n)
		}
		if kept != nil {
			q.Log.Info("finishing an async invocation from its kept outcome, without running it again", req.LogArgs("status", kept.Status)...)
			return d.finish(ctx, dl, kept, nil, true)
		}
	}

	// Attempts count the runs that reached a runner (and a delivery whose
	// gateway died mid-run); waiting for capacity does not use them up.
	// The run starts once its record says so, so that every attempt is
	// counted.
	attempt := rec.Attempts + 1
	now := time.Now().UTC()
	if attempt == 1 {
		q.Metrics.wait.WithLabelValues(req.Namespace, req.Function).Observe(now.Sub(m.QueuedAt).Seconds())
	}
	rec.Status, rec.Attempts, rec.StartedAt, rec.NextTry = records.StatusRunning, attempt, &now, nil
	rec.Timings = records.Timings{QueuedMs: invocation.Ms(now.Sub(m.QueuedAt))}
	if err := d.persist(ctx, q.cfg.FinishRetry, func(ctx context.Context) error { return q.Records.Put(ctx, rec) }, nil); err != nil {
		q.Log.Warn("could not record the start of an async invocation; not running it yet", req.LogArgs("error", err)...)
		return d.later(dl.n)
	}

	out := d.execute(ctx, &invocation.Invocation{Namespace: req.Namespace, Function: req.Function, Req: req, Body: msg.Data(), Start: time.Now()})

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
			err := d.persist(ctx, q.cfg.FinishRetry, func(ctx context.Context) (err error) {
				result, err = q.Outputs.PutResult(ctx, req.InvocationID, out.Output, out.ContentType())
				return err
			}, nil)
			if err != nil {
				out.Err = apierr.New(http.StatusServiceUnavailable, apierr.StorageUnavailable, "could not store the result: %v", err)
				rec.Error = &apierr.Detail{Code: out.Err.Code, Message: out.Err.Message}
			}
		}
		if out.Err == nil {
			rec.Status, rec.Result = records.StatusSucceeded, result
			return d.finish(ctx, dl, rec, &out.Output, false)
		}
	}

	maxAttempts := m.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = q.cfg.MaxAttempts
	}
	if noCapacity(out.Err) {
		// Every runner was busy (or none is up): the function did not run.
		// The invocation waits, durably, however long that lasts.
		delay := backoff(q.cfg.RetryBase, q.cfg.RetryCap, dl.n)
		next := time.Now().UTC().Add(delay)
		rec.Attempts--
		rec.Status, rec.NextTry = records.StatusQueued, &next
		d.putOnce(ctx, rec)
		q.Metrics.retries.WithLabelValues(req.Namespace, req.Function, retryNoCapacity).Inc()
		return settlement{how: settleNak, delay: delay}
	}
	if attempt < maxAttempts && retryable(out.Err) {
		delay := backoff(q.cfg.RetryBase, q.cfg.RetryCap, attempt)
		next := time.Now().UTC().Add(delay)
		rec.Status, rec.NextTry = records.StatusQueued, &next
		d.putOnce(ctx, rec)
		q.Metrics.retries.WithLabelValues(req.Namespace, req.Function, retryFailed).Inc()
		q.Log.Info("async attempt failed; retrying", req.LogArgs("attempt", attempt, "retry_in", delay, "error", out.Err.Message)...)
		return settlement{how: settleNak, delay: delay}
	}
	// Out of attempts (or not worth retrying): dead-letter it.
	rec.Status = records.StatusDead
	return d.finish(ctx, dl, rec, nil, false)
}

// putOnce stores a record that is not final: the message stays in the
// stream whatever happens, so a failure only leaves the record behind
// until the next delivery writes it.
func (d *dispatcher) putOnce(ctx context.Context, rec *records.Record) {
	if err := d.q.Records.Put(ctx, rec); err != nil {
		d.q.Log.Warn("could not update the record of an async invocation", rec.LogArgs("status", rec.Status, "error", err)...)
	}
}

// finish completes an invocation whose outcome is known (rec, succeeded
// or dead; output is the result in memory, nil when it must be read
// back): it dead-letters it if it is dead, stores its final record,
// delivers its callback and stores the record again, and acknowledges the
// message only once all of that is stored. Each store is retried for
// FinishRetry while the message is kept in progress. On the first failure
// the outcome is kept aside in the object store (keepOutcome), keyed by
// the invocation and tied to this message's stream sequence; if a store
// still fails, the message is given back, and its redelivery finishes the
// invocation from the kept outcome instead of running the function again.
// fromKept says rec is such a kept outcome.
func (d *dispatcher) finish(ctx context.Context, dl delivery, rec *records.Record, output *[]byte, fromKept bool) settlement {
	q := d.q
	id := rec.ID
	kept := fromKept
	keep := func(error) {
		if err := d.keepOutcome(ctx, dl.seq, rec); err != nil {
			q.Log.Error("could not keep the outcome of an async invocation aside", dl.m.Req.LogArgs("error", err)...)
			return
		}
		kept = true
	}
	if rec.Status == records.StatusDead {
		if err := d.deadLetter(ctx, dl, rec, fromKept); err != nil {
			q.Log.Error("could not dead-letter an async invocation; it will be redelivered", dl.m.Req.LogArgs("error", err)...)
			keep(err)
			return settlement{how: settleNak, delay: q.cfg.RetryCap}
		}
	}
	put := func() error {
		return d.persist(ctx, q.cfg.FinishRetry, func(ctx context.Context) error { return q.Records.Put(ctx, rec) }, keep)
	}
	if err := put(); err != nil {
		q.Log.Error("could not store the final record of an async invocation; it will be redelivered and finished from its kept outcome",
			"invocation", id, "status", rec.Status, "kept", kept, "error", err)
		return d.later(dl.n)
	}
	if d.callback(ctx, rec, output) {
		if err := put(); err != nil {
			q.Log.Error("could not record the callback of an async invocation; it will be redelivered", dl.m.Req.LogArgs("error", err)...)
			return d.later(dl.n)
		}
	}
	if kept {
		d.dropKeptOutcome(id)
	}
	if rec.Status == records.StatusSucceeded && dl.m.Req.BodyRef != "" {
		transport.DeleteLater(q.Store, dl.m.Req.BodyRef, q.Log)
	}
	q.Metrics.finished.WithLabelValues(rec.Namespace, rec.Function, rec.Status).Inc()
	if rec.Status == records.StatusDead {
		q.Metrics.deadLetters.WithLabelValues(rec.Namespace, rec.Function).Inc()
		q.Log.Warn("async invocation dead-lettered", dl.m.Req.LogArgs("attempts", rec.Attempts, "error", errorText(rec))...)
	}
	return acked
}

// settleFinished completes a redelivery of an invocation whose record is
// already final: its callback, if one is owed, then the ack.
func (d *dispatcher) settleFinished(ctx context.Context, dl delivery, rec *records.Record) settlement {
	q := d.q
	if d.callback(ctx, rec, nil) {
		if err := d.persist(ctx, q.cfg.FinishRetry, func(ctx context.Context) error { return q.Records.Put(ctx, rec) }, nil); err != nil {
			q.Log.Error("could not record the callback of an async invocation; it will be redelivered", dl.m.Req.LogArgs("error", err)...)
			return d.later(dl.n)
		}
	}
	return acked
}

// deadLetter publishes the dead letter of a dead invocation to the DLQ,
// tied to the message's stream sequence. After a redelivery (check), one
// published by an earlier delivery of the same message is not published
// again.
func (d *dispatcher) deadLetter(ctx context.Context, dl delivery, rec *records.Record, check bool) error {
	q := d.q
	seq := strconv.FormatUint(dl.seq, 10)
	if check {
		raw, err := q.dlq.GetLastMsgForSubject(ctx, dlqSubject(rec.ID))
		if err == nil && raw.Header.Get(headerSourceSeq) == seq {
			return nil
		}
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return err
		}
	}
	dead := nats.NewMsg(dlqSubject(rec.ID))
	for k, v := range dl.msg.Headers() {
		if k != jetstream.MsgIDHeader {
			dead.Header[k] = v
		}
	}
	dead.Header.Set(headerLastError, errorText(rec))
	dead.Header.Set(headerAttempts, strconv.Itoa(rec.Attempts))
	dead.Header.Set(headerSourceSeq, seq)
	dead.Data = dl.msg.Data()
	return d.persist(ctx, q.cfg.FinishRetry, func(ctx context.Context) error {
		_, err := q.JS.PublishMsg(ctx, dead, jetstream.WithMsgID(rec.ID+"-dead-"+seq))
		return err
	}, nil)
}

func errorText(rec *records.Record) string {
	if rec.Error == nil {
		return ""
	}
	return string(rec.Error.Code) + ": " + rec.Error.Message
}

// readRecord reads an invocation's record, nil when it has none, retrying
// an error for FinishRetry: a delivery that cannot tell whether its
// invocation has finished must not run it.
func (d *dispatcher) readRecord(ctx context.Context, req *wire.Request) (*records.Record, error) {
	var rec *records.Record
	err := d.persist(ctx, d.q.cfg.FinishRetry, func(ctx context.Context) error {
		r, err := d.q.Records.GetFor(ctx, req.Namespace, req.Function, req.InvocationID)
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, records.ErrNoRecord):
			rec = nil
			return nil
		case errors.As(err, &syntax) || errors.As(err, &typ):
			d.q.Log.Error("ignoring an unreadable record", req.LogArgs("error", err)...)
			rec = nil
			return nil
		}
		rec = r
		return err
	}, nil)
	return rec, err
}

// keptOutcome is the final record kept aside for an invocation by an
// earlier delivery of the same message that could not store it.
type keptOutcome struct {
	Seq    uint64          `json:"seq"` // the message's stream sequence
	Record *records.Record `json:"record"`
}

// outcomeKey is where an invocation's kept outcome is in the object store.
func outcomeKey(id string) string { return "outcomes/" + id }

func (d *dispatcher) keepOutcome(ctx context.Context, seq uint64, rec *records.Record) error {
	if d.q.Store == nil {
		return errors.New("no object store")
	}
	data, err := json.Marshal(keptOutcome{Seq: seq, Record: rec})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return d.q.Store.Put(ctx, outcomeKey(rec.ID), data, "application/json")
}

// keptOutcome reads the outcome an earlier delivery of the message with
// stream sequence seq kept aside: nil when there is none (or one kept for
// another message of the same id, such as before a DLQ replay).
func (d *dispatcher) keptOutcome(ctx context.Context, id string, seq uint64) (*records.Record, error) {
	if d.q.Store == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := d.q.Store.Get(ctx, outcomeKey(id))
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var k keptOutcome
	if err := json.Unmarshal(data, &k); err != nil || k.Record == nil || k.Record.ID != id {
		d.q.Log.Error("ignoring an unreadable kept outcome", "invocation", id, "error", err)
		return nil, nil
	}
	if k.Seq != seq {
		return nil, nil
	}
	return k.Record, nil
}

func (d *dispatcher) dropKeptOutcome(id string) {
	if d.q.Store != nil {
		transport.DeleteLater(d.q.Store, outcomeKey(id), d.q.Log)
	}
}

// persistAttempt bounds one attempt of a store or read that persist
// retries.
const persistAttempt = 5 * time.Second

// persist runs op until it succeeds or budget has passed, with backoff
// between attempts, each bounded by persistAttempt; failed (when set) is
// called with the first error. It returns op's last error.
func (d *dispatcher) persist(ctx context.Context, budget time.Duration, op func(ctx context.Context) error, failed func(error)) error {
	deadline := time.Now().Add(budget)
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		actx, cancel := context.WithTimeout(ctx, max(min(persistAttempt, time.Until(deadline)), 100*time.Millisecond))
		err := op(actx)
		cancel()
		if err == nil {
			return nil
		}
		if try == 1 && failed != nil {
			failed(err)
		}
		delay := wait + time.Duration(rand.Int64N(int64(wait)/2+1))
		if time.Now().Add(delay).After(deadline) {
			return err
		}
		time.Sleep(delay) // backoff between attempts of a store that failed
		wait = min(2*wait, 2*time.Second)
	}
}

// execute runs one attempt of a queued invocation, unless its function
// has been deleted since it was queued: that call fails at once with
// function_not_found, which is not retried.
func (d *dispatcher) execute(ctx context.Context, inv *invocation.Invocation) (out invocation.Outcome) {
	if d.q.Tracer.Exporting() {
		// The attempt is a span of the trace of the request that queued
		// the invocation, and the parent of the runner's.
		parent, _ := tracing.Parse(inv.Req.Traceparent)
		span := d.q.Tracer.Start(ctx, parent, "async "+inv.Function, tracing.KindConsumer)
		inv.Req.Traceparent = span.Traceparent()
		defer func() {
			span.String("hearth.invocation_id", inv.Req.InvocationID)
			span.String("hearth.function", inv.Function)
			span.Int("hearth.status_code", out.Status)
			if out.Err != nil {
				span.Fail(out.Err.Message)
			}
			span.End()
		}()
	}
	if _, err := d.q.Functions.Lookup(ctx, inv.Namespace, inv.Function); errors.Is(err, registry.ErrNotFound) {
		return invocation.Outcome{Status: http.StatusNotFound, Total: time.Since(inv.Start),
			Err: apierr.New(http.StatusNotFound, apierr.FunctionNotFound, "function %q in namespace %q was deleted after the invocation was queued", inv.Function, inv.Namespace)}
	}
	return d.q.Executor.Execute(ctx, inv, scheduler.Async)
}

// keepInProgress tells JetStream the delivery is still being worked on,
// every third of AckWait, until the returned stop is called.
func (d *dispatcher) keepInProgress(msg jetstream.Msg) func() {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
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
	// Stop returns once no InProgress can follow: the ack or nak sent
	// next is the delivery's last word.
	return func() { close(done); <-exited }
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
// retries, and reports whether it changed the record's callback (which
// the caller then stores). output is the result in memory (nil: read it
// back from where the record says it is stored); a result that cannot be
// read fails the delivery attempt, it is never sent as an empty body. It
// is at-least-once: a gateway that crashes after delivering and before
// recording delivers again.
func (d *dispatcher) callback(ctx context.Context, rec *records.Record, output *[]byte) bool {
	q := d.q
	cb := rec.Callback
	if cb == nil || cb.Delivered || !rec.Finished() || cb.Attempts >= q.cfg.CallbackAttempts {
		return false
	}
	for cb.Attempts < q.cfg.CallbackAttempts {
		cb.Attempts++
		var body []byte
		var err error
		if rec.Status == records.StatusSucceeded && rec.Result != nil {
			if output != nil {
				body = *output
			} else if body, err = d.readResult(ctx, rec.Result); err != nil {
				err = fmt.Errorf("could not read the result to send: %w", err)
			}
		}
		status := 0
		if err == nil {
			status, err = d.postCallback(ctx, rec, body)
		}
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
	return true
}

// resultReadRetry bounds how long a callback retries reading a stored
// result: a replica that has not caught up with the write yet answers
// that it has none.
const resultReadRetry = 2 * time.Second

func (d *dispatcher) readResult(ctx context.Context, ref *records.ObjectRef) (body []byte, err error) {
	err = d.persist(ctx, min(resultReadRetry, d.q.cfg.FinishRetry), func(ctx context.Context) (err error) {
		body, err = d.q.Outputs.Get(ctx, ref)
		return err
	}, nil)
	return body, err
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
