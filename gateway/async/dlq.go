package async

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/registry"
)

// DeadLetter is an invocation that ran out of attempts.
type DeadLetter struct {
	ID        string    `json:"id"`
	Namespace string    `json:"namespace"`
	Function  string    `json:"function"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	QueuedAt  time.Time `json:"queued_at"`
	DeadAt    time.Time `json:"dead_at"`
}

func deadLetter(headers nats.Header, at time.Time) (*DeadLetter, *meta, error) {
	m, err := decodeMeta(headers)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed dead letter: %w", err)
	}
	attempts, _ := strconv.Atoi(headers.Get(headerAttempts))
	return &DeadLetter{ID: m.Req.InvocationID, Namespace: m.Req.Namespace, Function: m.Req.Function,
		Attempts: attempts, LastError: headers.Get(headerLastError), QueuedAt: m.QueuedAt, DeadAt: at}, m, nil
}

// DeadLetters lists the dead letters of a namespace, oldest first; fn,
// when set, keeps those of one function.
func (q *Queue) DeadLetters(ctx context.Context, ns, fn string) ([]*DeadLetter, error) {
	cons, err := q.dlq.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	out := []*DeadLetter{}
	info, err := q.dlq.Info(ctx)
	if err != nil {
		return nil, err
	}
	remaining := int(info.State.Msgs)
	for remaining > 0 {
		batch, err := cons.FetchNoWait(min(remaining, 256))
		if err != nil {
			return nil, err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, _ := msg.Metadata()
			dl, _, err := deadLetter(msg.Headers(), md.Timestamp)
			if err == nil && dl.Namespace == ns && (fn == "" || dl.Function == fn) {
				out = append(out, dl)
			}
		}
		if n == 0 {
			break
		}
		remaining -= n
	}
	return out, nil
}

// Replay queues the dead letter of invocation id again with fresh
// attempts, under the same id, running the function's latest version (as
// it is now, typically fixed since, like a redrive in Lambda). allow
// (nil: any) may refuse by the dead letter's namespace, before anything
// changes.
func (q *Queue) Replay(ctx context.Context, id string, allow func(namespace string) error) error {
	if !records.ValidID(id) {
		return apierr.New(http.StatusBadRequest, apierr.InvalidID, "%q is not an invocation id", id)
	}
	raw, err := q.dlq.GetLastMsgForSubject(ctx, dlqSubject(id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return apierr.New(http.StatusNotFound, apierr.NotInDLQ, "invocation %s is not in the dead-letter queue (list it with GET /v1/dlq)", id)
	}
	if err != nil {
		return err
	}
	_, m, err := deadLetter(raw.Header, raw.Time)
	if err != nil {
		return err
	}
	if allow != nil {
		if err := allow(m.Req.Namespace); err != nil {
			return err
		}
	}
	fn, err := q.Functions.Lookup(ctx, m.Req.Namespace, m.Req.Function)
	if errors.Is(err, registry.ErrNotFound) {
		return apierr.New(http.StatusNotFound, apierr.FunctionNotFound, "function %q of invocation %s no longer exists in namespace %q; deploy it again, then replay", m.Req.Function, id, m.Req.Namespace)
	}
	if err != nil {
		return err
	}
	invocation.WithVersion(m.Req, fn.Latest())
	inv := &invocation.Invocation{Namespace: m.Req.Namespace, Function: m.Req.Function, Req: m.Req, Body: raw.Data}
	// The record continues: reset it for the fresh attempts.
	if rec, err := q.Records.GetFor(ctx, inv.Namespace, inv.Function, id); err == nil {
		rec.Status, rec.Attempts, rec.Error, rec.NextTry, rec.FinishedAt = records.StatusQueued, 0, nil, nil, nil
		if rec.Callback != nil {
			rec.Callback.Delivered, rec.Callback.Attempts, rec.Callback.Error = false, 0, ""
		}
		_ = q.Records.Put(ctx, rec)
	}
	// Same id, so the record continues; a new dedupe id, so the stream
	// takes it again.
	if _, err := q.Enqueue(ctx, inv, m.Mode, m.CallbackURL, id+"-replay-"+nuid.Next()); err != nil {
		return err
	}
	q.Metrics.replays.WithLabelValues(inv.Namespace, inv.Function).Inc()
	if err := q.dlq.DeleteMsg(ctx, raw.Sequence); err != nil {
		q.Log.Warn("replayed dead letter not removed from the DLQ", "invocation", id, "error", err)
	}
	return nil
}
