package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
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

func deadLetter(headers nats.Header, at time.Time) (*DeadLetter, *asyncMeta, error) {
	var meta asyncMeta
	if err := json.Unmarshal([]byte(headers.Get(headerAsyncMeta)), &meta); err != nil || meta.Req == nil {
		return nil, nil, errors.New("malformed dead letter")
	}
	attempts, _ := strconv.Atoi(headers.Get("Hearth-Attempts"))
	return &DeadLetter{ID: meta.Req.InvocationID, Namespace: meta.Req.Namespace, Function: meta.Req.Function,
		Attempts: attempts, LastError: headers.Get(headerLastError), QueuedAt: meta.QueuedAt, DeadAt: at}, &meta, nil
}

// listDLQ answers GET /v1/dlq[?function=NAME]: dead letters, oldest first.
func (g *Gateway) listDLQ(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	fn := c.QueryParam("function")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	cons, err := g.dlq.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	out := []*DeadLetter{}
	info, err := g.dlq.Info(ctx)
	if err != nil {
		return err
	}
	remaining := int(info.State.Msgs)
	for remaining > 0 {
		batch, err := cons.FetchNoWait(min(remaining, 256))
		if err != nil {
			return err
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
	return c.JSON(http.StatusOK, map[string]any{"dead_letters": out})
}

// replayDLQ answers POST /v1/dlq/{id}/replay: the invocation is queued
// again with fresh attempts, under the same id.
func (g *Gateway) replayDLQ(c echo.Context) error {
	id := c.Param("id")
	if !validID(id) {
		return newError(http.StatusBadRequest, "invalid_id", "%q is not an invocation id", id)
	}
	ctx := c.Request().Context()
	raw, err := g.dlq.GetLastMsgForSubject(ctx, dlqSubject(id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return newError(http.StatusNotFound, "not_in_dlq", "invocation %s is not in the dead-letter queue (list it with GET /v1/dlq)", id)
	}
	if err != nil {
		return err
	}
	_, meta, err := deadLetter(raw.Header, raw.Time)
	if err != nil {
		return err
	}
	// A replay runs the function as it is now (typically fixed since), like
	// a redrive in Lambda.
	fn, err := g.registry.Lookup(ctx, meta.Req.Namespace, meta.Req.Function)
	if err != nil {
		return registryError(err, meta.Req.Namespace, meta.Req.Function)
	}
	withVersion(meta.Req, fn.Latest())
	inv := &invocation{ns: meta.Req.Namespace, name: meta.Req.Function, req: meta.Req, body: raw.Data}
	// Same id, so the record continues; a new dedupe id, so the stream
	// takes it again.
	if _, err := g.enqueueReplay(ctx, inv, meta); err != nil {
		return err
	}
	if err := g.dlq.DeleteMsg(ctx, raw.Sequence); err != nil {
		g.log.Warn("replayed dead letter not removed from the DLQ", "invocation", id, "error", err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/invocations/"+id)
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": StatusQueued})
}

func (g *Gateway) enqueueReplay(ctx context.Context, inv *invocation, meta *asyncMeta) (string, error) {
	rec, err := g.records.getFor(ctx, inv.ns, inv.name, inv.req.InvocationID)
	if err == nil {
		rec.Status, rec.Attempts, rec.Error, rec.NextTry, rec.FinishedAt = StatusQueued, 0, nil, nil, nil
		if rec.Callback != nil {
			rec.Callback.Delivered, rec.Callback.Attempts, rec.Callback.Error = false, 0, ""
		}
		_ = g.records.put(ctx, rec)
	}
	return g.enqueue(ctx, inv, meta.Mode, meta.CallbackURL, inv.req.InvocationID+"-replay-"+nuid.Next())
}
