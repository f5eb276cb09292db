package async

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/transport"
	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// The async invocation streams.
const (
	AsyncStream   = "HEARTH_ASYNC" // accepted invocations, a work queue
	AsyncSubjects = "hearth.async.>"
	DLQStream     = "HEARTH_DLQ" // invocations that ran out of attempts
	DLQSubjects   = "hearth.dlq.>"
	// DispatcherConsumer is the durable consumer all gateways share.
	DispatcherConsumer = "hearth-dispatchers"
)

// Headers of async messages.
const (
	headerMeta      = "Hearth-Async"
	headerLastError = "Hearth-Last-Error"
	headerAttempts  = "Hearth-Attempts"
	headerSourceSeq = "Hearth-Async-Seq" // of a dead letter: the async message's stream sequence
)

// Config configures intake and the dispatcher; zero fields take the
// defaults of the gateway's Config.
type Config struct {
	Dispatchers      int           // async invocations run at once
	MaxAttempts      int           // attempts of an async invocation
	RetryBase        time.Duration // first retry delay, doubling
	RetryCap         time.Duration // longest retry delay
	AckWait          time.Duration // redelivery after a dispatcher stops answering
	CallbackAttempts int           // deliveries of a callback
	Replicas         int           // JetStream replicas of the streams
	// FinishRetry is how long a dispatcher retries storing a record (and
	// dead-lettering) before it gives the message back; default 30 s,
	// about a JetStream leader election. The message stays in progress
	// meanwhile.
	FinishRetry time.Duration
	// PublishTimeout bounds how long Enqueue retries a publish whose ack
	// did not come (a leader election) when its context has no deadline;
	// default 10 s.
	PublishTimeout time.Duration
}

// withDefaults fills the fields the gateway's Config has no default for
// (and the others, for a Queue made without a gateway).
func (c Config) withDefaults() Config {
	if c.Dispatchers <= 0 {
		c.Dispatchers = 256
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryCap <= 0 {
		c.RetryCap = time.Minute
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.CallbackAttempts <= 0 {
		c.CallbackAttempts = 3
	}
	if c.FinishRetry <= 0 {
		c.FinishRetry = 30 * time.Second
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 10 * time.Second
	}
	return c
}

// Executor runs one execution of an invocation: the gateway's invocation
// core.
type Executor interface {
	Execute(ctx context.Context, inv *invocation.Invocation, class scheduler.Class) invocation.Outcome
}

// Functions finds the function an invocation calls.
type Functions interface {
	Lookup(ctx context.Context, namespace, name string) (*registry.Function, error)
}

// Deps are what the queue works with.
type Deps struct {
	JS        jetstream.JetStream
	Store     transport.ObjectStore // claim-checked bodies
	Records   *records.Store
	Outputs   *records.Outputs
	Functions Functions
	Executor  Executor
	// InlineLimit is the largest body kept inside a stream message.
	InlineLimit func() int
	Metrics     *Metrics
	Log         *slog.Logger
	// Tracer, when it exports, records a span for each attempt.
	Tracer *tracing.Tracer
}

// Queue is the async intake, dispatcher and dead-letter queue.
type Queue struct {
	Deps
	cfg      Config
	async    jetstream.Stream
	dlq      jetstream.Stream
	dispatch *dispatcher
	callback *http.Client
}

// Open creates the async and dead-letter streams if needed. While
// JetStream is not ready (a fresh cluster electing its meta leader,
// another gateway creating the same streams) it retries, logging each
// retry, up to jsopen.Timeout.
func Open(ctx context.Context, cfg Config, deps Deps) (*Queue, error) {
	cfg = cfg.withDefaults()
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	q := &Queue{Deps: deps, cfg: cfg, callback: &http.Client{Timeout: 10 * time.Second}}
	streams := []struct {
		stream *jetstream.Stream
		cfg    jetstream.StreamConfig
	}{
		{&q.async, jetstream.StreamConfig{
			Name:        AsyncStream,
			Description: "Hearth async invocations",
			Subjects:    []string{AsyncSubjects},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
			Duplicates:  10 * time.Minute,
		}},
		{&q.dlq, jetstream.StreamConfig{
			Name:        DLQStream,
			Description: "Hearth async invocations that ran out of attempts",
			Subjects:    []string{DLQSubjects},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
			MaxAge:      7 * 24 * time.Hour,
		}},
	}
	for _, st := range streams {
		err := jsopen.Retry(ctx, deps.Log, "stream "+st.cfg.Name, func(ctx context.Context) (err error) {
			*st.stream, err = deps.JS.CreateOrUpdateStream(ctx, st.cfg)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("gateway: stream %s: %w", st.cfg.Name, err)
		}
	}
	if deps.Metrics != nil {
		deps.Metrics.streams.queue.Store(q)
	}
	return q, nil
}

// meta travels with an async invocation in its stream message.
type meta struct {
	Req         *wire.Request `json:"req"`
	Mode        string        `json:"mode"`
	CallbackURL string        `json:"callback_url,omitempty"`
	QueuedAt    time.Time     `json:"queued_at"`
	MaxAttempts int           `json:"max_attempts"`
}

// asyncSubject is the subject of an async invocation in the stream: the id
// in it lets a gateway find a queued invocation, which has no record yet.
func asyncSubject(ns, fn, id string) string { return "hearth.async." + ns + "." + fn + "." + id }
func dlqSubject(id string) string           { return "hearth.dlq." + id }

// IdempotentID derives the invocation id from an Idempotency-Key, so a
// retried submission gets the same id and JetStream drops the duplicate.
func IdempotentID(ns, fn, key string) (string, error) {
	if len(key) > 255 {
		return "", apierr.New(http.StatusBadRequest, apierr.InvalidIdempotency, "Idempotency-Key is longer than 255 characters")
	}
	sum := sha256.Sum256([]byte(ns + "\x00" + fn + "\x00" + key))
	return "i" + hex.EncodeToString(sum[:11]), nil
}

// CheckCallbackURL refuses a callback URL that is not absolute http(s).
func CheckCallbackURL(callback string) error {
	u, err := url.Parse(callback)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return apierr.New(http.StatusBadRequest, apierr.InvalidCallbackURL, "Hearth-Callback-Url %q is not an absolute http(s) URL", callback)
	}
	return nil
}

// Enqueue publishes an invocation to the async stream (the body inline, or
// claim-checked in the object store) and returns its id once the stream
// has it. msgID overrides the dedupe id (cron ticks, replays). The stream's
// message is the invocation's only state until a dispatcher starts it and
// writes its record: a queued invocation is read from the stream (Queued).
//
// A publish whose ack does not come in time may still have been stored
// (the stream's leader stored and replicated it, then died before it
// answered). So it is published again, with the same dedupe id, until an
// ack comes, the error is not transient, or ctx's deadline (PublishTimeout
// without one) passes: the stream drops a copy it already has and acks it
// as a duplicate, so a retry never queues the invocation twice.
func (q *Queue) Enqueue(ctx context.Context, inv *invocation.Invocation, mode, callback, msgID string) (string, error) {
	id := inv.Req.InvocationID
	m := meta{Req: inv.Req, Mode: mode, CallbackURL: callback, QueuedAt: time.Now().UTC(), MaxAttempts: q.cfg.MaxAttempts}
	body := inv.Body
	if len(body) > q.InlineLimit() {
		key, err := transport.PutPayload(ctx, q.Store, id, body)
		if err != nil {
			return "", apierr.New(http.StatusServiceUnavailable, apierr.StorageUnavailable, "could not store the request body: %v", err)
		}
		m.Req.BodyRef, body = key, nil
	}
	msg := nats.NewMsg(asyncSubject(inv.Namespace, inv.Function, id))
	msg.Header.Set(headerMeta, string(m.appendJSON(make([]byte, 0, 1024))))
	msg.Data = body
	if msgID == "" {
		msgID = id
	}
	ack, err := q.publish(ctx, msg, msgID)
	if err != nil {
		return "", err
	}
	if ack.Duplicate {
		q.Metrics.duplicates.Inc()
	}
	q.Metrics.accepted.WithLabelValues(inv.Namespace, inv.Function).Inc()
	return id, nil
}

// publishAttempt bounds how long one publish waits for its ack.
const publishAttempt = 2 * time.Second

// publish publishes an async message with dedupe id msgID, again while its
// ack does not come (Enqueue). The ack says Duplicate only when the
// stream had the message before the first attempt: a duplicate answering
// a retry is the first attempt's own copy.
func (q *Queue) publish(ctx context.Context, msg *nats.Msg, msgID string) (*jetstream.PubAck, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(q.cfg.PublishTimeout)
	}
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		actx, cancel := context.WithTimeout(ctx, max(min(publishAttempt, time.Until(deadline)), 10*time.Millisecond))
		ack, err := q.JS.PublishMsg(actx, msg, jetstream.WithMsgID(msgID))
		cancel()
		if err == nil {
			if try > 1 {
				q.Log.Info("async invocation queued after retrying its publish", "subject", msg.Subject, "attempts", try, "stored_before", ack.Duplicate)
				ack.Duplicate = false
			}
			return ack, nil
		}
		if ctx.Err() != nil {
			return nil, apierr.New(http.StatusServiceUnavailable, apierr.QueueUnavailable, "the invocation was not confirmed as queued: %v", ctx.Err())
		}
		delay := wait + time.Duration(rand.Int64N(int64(wait)/2+1))
		if !jsopen.Transient(err) || time.Now().Add(delay).After(deadline) {
			return nil, apierr.New(http.StatusServiceUnavailable, apierr.QueueUnavailable, "could not queue the invocation (%d attempts): %v", try, err)
		}
		q.Log.Warn("async publish not acknowledged; publishing again with the same id", "subject", msg.Subject, "attempt", try, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, apierr.New(http.StatusServiceUnavailable, apierr.QueueUnavailable, "the invocation was not confirmed as queued: %v", ctx.Err())
		}
		wait = min(2*wait, time.Second)
	}
}

// Queued reads the record of an invocation that is in the async stream
// and has not started: its message is all there is of it.
func (q *Queue) Queued(ctx context.Context, id string) (*records.Record, error) {
	if !records.ValidID(id) { // the id goes into a subject
		return nil, records.ErrNoRecord
	}
	raw, err := q.async.GetLastMsgForSubject(ctx, asyncSubject("*", "*", id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, records.ErrNoRecord
	}
	if err != nil {
		return nil, err
	}
	return queuedFromHeader(raw.Header)
}

// QueuedList reads the records of a function's newest invocations that
// are in the async stream and have not started, newest first, at most
// limit. A work-queue stream takes no second consumer, so it reads
// messages by sequence: windows back from the stream's end, each twice the
// last, until it has limit of them or reaches the start.
func (q *Queue) QueuedList(ctx context.Context, ns, fn string, limit int) ([]*records.Record, error) {
	info, err := q.async.Info(ctx)
	if err != nil {
		return nil, err
	}
	filter := asyncSubject(ns, fn, "*")
	first, end := info.State.FirstSeq, info.State.LastSeq+1
	var out []*records.Record
	for window := uint64(4 * limit); end > first && len(out) < limit; window *= 2 {
		start := end - min(window, end-first)
		var found []*records.Record // oldest first
		for seq := start; seq < end; {
			raw, err := q.async.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			if raw.Sequence >= end {
				break
			}
			if rec, err := queuedFromHeader(raw.Header); err == nil {
				found = append(found, rec)
			}
			seq = raw.Sequence + 1
		}
		for i := len(found) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, found[i])
		}
		end = start
	}
	return out, nil
}

func queuedFromHeader(h nats.Header) (*records.Record, error) {
	m, err := decodeMeta(h)
	if err != nil {
		return nil, err
	}
	return m.queuedRecord(), nil
}

// queuedRecord is the record of the invocation before it has started: all
// that its message says of it.
func (m *meta) queuedRecord() *records.Record {
	req := m.Req
	rec := &records.Record{ID: req.InvocationID, Namespace: req.Namespace, Function: req.Function, Version: req.Version, Mode: m.Mode, Status: records.StatusQueued, QueuedAt: m.QueuedAt,
		TraceID: tracing.TraceID(req.Traceparent), RequestID: req.RequestID}
	if m.CallbackURL != "" {
		rec.Callback = &records.CallbackInfo{URL: m.CallbackURL}
	}
	return rec
}

var errNotAsync = errors.New("not an async message")

func decodeMeta(h nats.Header) (*meta, error) {
	raw := h.Get(headerMeta)
	if raw == "" {
		return nil, errNotAsync
	}
	var m meta
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("decode async meta: %w", err)
	}
	if m.Req == nil || !records.ValidID(m.Req.InvocationID) {
		return nil, errors.New("async message without an invocation")
	}
	return &m, nil
}

// appendJSON appends the metadata as JSON, the same document json.Marshal
// makes of it (TestMetaJSON keeps them equal): every async accept encodes
// one.
func (m *meta) appendJSON(b []byte) []byte {
	b = append(b, `{"req":`...)
	if m.Req == nil {
		b = append(b, "null"...)
	} else {
		b = m.Req.AppendJSON(b)
	}
	b = append(b, `,"mode":`...)
	b = wire.AppendJSONString(b, m.Mode)
	if m.CallbackURL != "" {
		b = append(b, `,"callback_url":`...)
		b = wire.AppendJSONString(b, m.CallbackURL)
	}
	b = append(b, `,"queued_at":`...)
	b = wire.AppendJSONTime(b, m.QueuedAt)
	b = append(b, `,"max_attempts":`...)
	b = strconv.AppendInt(b, int64(m.MaxAttempts), 10)
	return append(b, '}')
}
