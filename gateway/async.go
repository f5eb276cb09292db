package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/wire"
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
	headerAsyncMeta = "Hearth-Async"
	headerLastError = "Hearth-Last-Error"
)

// asyncMeta travels with an async invocation in its stream message.
type asyncMeta struct {
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

// wantsAsync reports whether the request asks for an async invocation.
func wantsAsync(c echo.Context) bool {
	if v := c.QueryParam("async"); v == "true" || v == "1" {
		return true
	}
	for _, p := range c.Request().Header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "respond-async") {
				return true
			}
		}
	}
	return false
}

// idempotentID derives the invocation id from an Idempotency-Key, so a
// retried submission gets the same id and JetStream drops the duplicate.
func idempotentID(ns, fn, key string) string {
	sum := sha256.Sum256([]byte(ns + "\x00" + fn + "\x00" + key))
	return "i" + hex.EncodeToString(sum[:11])
}

// accept stores an async invocation durably and answers 202 once the
// stream has it.
func (g *Gateway) accept(c echo.Context, inv *invocation, mode string) error {
	callback := c.Request().Header.Get("Hearth-Callback-Url")
	if callback != "" {
		u, err := url.Parse(callback)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return newError(http.StatusBadRequest, "invalid_callback_url", "Hearth-Callback-Url %q is not an absolute http(s) URL", callback)
		}
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 255 {
			return newError(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key is longer than 255 characters")
		}
		inv.req.InvocationID = idempotentID(inv.ns, inv.name, key)
		c.Response().Header().Set(headerInvocationID, inv.req.InvocationID)
	}
	id, err := g.enqueue(c.Request().Context(), inv, mode, callback, "")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/invocations/"+id)
	body := appendJSONString(append(make([]byte, 0, 64), `{"id":`...), id)
	body = append(body, `,"status":"`+StatusQueued+`"}`+"\n"...)
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, body)
}

// enqueue publishes an invocation to the async stream (the body inline, or
// claim-checked in the object store). msgID overrides the dedupe id (cron
// ticks, replays). The stream's message is the invocation's only state
// until a dispatcher starts it and writes its record: a queued invocation
// is read from the stream (queuedRecord).
func (g *Gateway) enqueue(ctx context.Context, inv *invocation, mode, callback, msgID string) (string, error) {
	id := inv.req.InvocationID
	meta := asyncMeta{Req: inv.req, Mode: mode, CallbackURL: callback, QueuedAt: time.Now().UTC(), MaxAttempts: g.cfg.MaxAttempts}
	body := inv.body
	if len(body) > g.inlineLimit() {
		key := wire.PayloadKey(id)
		if err := g.store.Put(ctx, key, body, "application/octet-stream"); err != nil {
			return "", newError(http.StatusServiceUnavailable, "storage_unavailable", "could not store the request body: %v", err)
		}
		meta.Req.BodyRef, body = key, nil
	}
	msg := nats.NewMsg(asyncSubject(inv.ns, inv.name, id))
	msg.Header.Set(headerAsyncMeta, string(meta.appendJSON(make([]byte, 0, 1024))))
	msg.Data = body
	if msgID == "" {
		msgID = id
	}
	future, err := g.js.PublishMsgAsync(msg, jetstream.WithMsgID(msgID))
	if err != nil {
		return "", newError(http.StatusServiceUnavailable, "queue_unavailable", "could not queue the invocation: %v", err)
	}
	select {
	case ack := <-future.Ok():
		if ack.Duplicate {
			g.metrics.asyncDuplicates.Inc()
		}
	case err := <-future.Err():
		return "", newError(http.StatusServiceUnavailable, "queue_unavailable", "could not queue the invocation: %v", err)
	case <-ctx.Done():
		return "", newError(http.StatusServiceUnavailable, "queue_unavailable", "the invocation was not confirmed as queued: %v", ctx.Err())
	}
	g.metrics.asyncAccepted.WithLabelValues(inv.ns, inv.name).Inc()
	return id, nil
}

// queuedRecord reads the record of an invocation that is in the async
// stream and has not started: its message is all there is of it.
func (g *Gateway) queuedRecord(ctx context.Context, id string) (*Record, error) {
	if !validID(id) { // the id goes into a subject
		return nil, errNoRecord
	}
	raw, err := g.async.GetLastMsgForSubject(ctx, asyncSubject("*", "*", id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, errNoRecord
	}
	if err != nil {
		return nil, err
	}
	return queuedFromHeader(raw.Header)
}

// queuedRecords reads the records of a function's newest invocations
// that are in the async stream and have not started, newest first, at
// most limit. A work-queue stream takes no second consumer, so it reads
// messages by sequence: windows back from the stream's end, each twice the
// last, until it has limit of them or reaches the start.
func (g *Gateway) queuedRecords(ctx context.Context, ns, fn string, limit int) ([]*Record, error) {
	info, err := g.async.Info(ctx)
	if err != nil {
		return nil, err
	}
	filter := asyncSubject(ns, fn, "*")
	first, end := info.State.FirstSeq, info.State.LastSeq+1
	var out []*Record
	for window := uint64(4 * limit); end > first && len(out) < limit; window *= 2 {
		start := end - min(window, end-first)
		var found []*Record // oldest first
		for seq := start; seq < end; {
			raw, err := g.async.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
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

func queuedFromHeader(h nats.Header) (*Record, error) {
	meta, err := decodeAsyncHeader(h)
	if err != nil {
		return nil, err
	}
	return meta.queuedRecord(), nil
}

// queuedRecord is the record of the invocation before it has started: all
// that its message says of it.
func (m *asyncMeta) queuedRecord() *Record {
	req := m.Req
	rec := &Record{ID: req.InvocationID, Namespace: req.Namespace, Function: req.Function, Version: req.Version, Mode: m.Mode, Status: StatusQueued, QueuedAt: m.QueuedAt}
	if m.CallbackURL != "" {
		rec.Callback = &CallbackInfo{URL: m.CallbackURL}
	}
	return rec
}

// openStreams creates the async and dead-letter streams if needed.
func openStreams(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, jetstream.Stream, error) {
	async, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AsyncStream,
		Description: "Hearth async invocations",
		Subjects:    []string{AsyncSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  10 * time.Minute,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: stream %s: %w", AsyncStream, err)
	}
	dlq, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DLQStream,
		Description: "Hearth async invocations that ran out of attempts",
		Subjects:    []string{DLQSubjects},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxAge:      7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: stream %s: %w", DLQStream, err)
	}
	return async, dlq, nil
}

var errNotAsync = errors.New("not an async message")

func decodeAsync(msg jetstream.Msg) (*asyncMeta, error) { return decodeAsyncHeader(msg.Headers()) }

func decodeAsyncHeader(h nats.Header) (*asyncMeta, error) {
	raw := h.Get(headerAsyncMeta)
	if raw == "" {
		return nil, errNotAsync
	}
	var meta asyncMeta
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return nil, fmt.Errorf("decode async meta: %w", err)
	}
	if meta.Req == nil || !validID(meta.Req.InvocationID) {
		return nil, errors.New("async message without an invocation")
	}
	return &meta, nil
}
