package gateway

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go/jetstream"
)

// recordSync writes the record (and log) of a finished sync call in the
// background, so the caller does not wait for it. When the writer falls
// behind, records are dropped and counted, never the call.
func (g *Gateway) recordSync(inv *invocation, out outcome, mode string) {
	rec := &Record{ID: inv.req.InvocationID, Namespace: inv.ns, Function: inv.name, Version: inv.req.Version,
		Mode: mode, Attempts: 1, QueuedAt: inv.start.UTC()}
	started := inv.start.UTC()
	rec.StartedAt = &started
	rec.applyOutcome(out, time.Now().UTC())
	rec.Status = StatusSucceeded
	if out.err != nil {
		rec.Status = StatusFailed
	}
	var logs []byte
	if out.resp != nil && out.resp.Stderr != "" {
		logs = []byte(out.resp.Stderr)
	}
	select {
	case g.recordQueue <- pendingRecord{rec, logs}:
	default:
		g.metrics.recordsDropped.Inc()
	}
}

type pendingRecord struct {
	rec  *Record
	logs []byte
}

// recordBatch is how many records the writer sends before it waits for
// their acknowledgements.
const recordBatch = 256

// writeRecords drains the record queue until it is closed. It takes what
// is queued, up to recordBatch records, publishes them all to their KV
// subjects without waiting, then waits for JetStream's acknowledgements of
// the batch: one round trip per batch instead of one per record, so the
// writer keeps up with every sync call a gateway can take.
func (g *Gateway) writeRecords() {
	defer close(g.recordsDone)
	batch := make([]pendingRecord, 0, recordBatch)
	for p := range g.recordQueue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < recordBatch {
			select {
			case p, ok := <-g.recordQueue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		g.writeBatch(batch)
	}
}

// writeBatch stores a batch of records, and their logs, and waits until
// JetStream has them. Only the last message of the batch to each bucket
// asks for an acknowledgement: JetStream stores a connection's messages to
// one stream in order, so its ack says the ones before it were processed,
// and the others cost no ack message each way.
func (g *Gateway) writeBatch(batch []pendingRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type message struct {
		id, subject string
		data        []byte
	}
	var records, logs []message
	for _, p := range batch {
		if p.logs != nil {
			if len(p.logs) <= inlineOutputMax {
				ref := g.outputs.logsRef(p.rec.ID, len(p.logs))
				logs = append(logs, message{p.rec.ID, g.outputs.subject(ref), p.logs})
				p.rec.Logs = ref
			} else if ref, err := g.outputs.putLogs(ctx, p.rec.ID, p.logs); err == nil {
				p.rec.Logs = ref
			}
		}
		records = append(records, message{p.rec.ID, g.records.subject(p.rec), p.rec.appendJSON(make([]byte, 0, 512))})
	}
	var acks []jetstream.PubAckFuture
	for _, msgs := range [][]message{logs, records} {
		for i, m := range msgs {
			if i < len(msgs)-1 {
				if err := g.nc.Publish(m.subject, m.data); err != nil {
					g.log.Warn("could not write an invocation record", "invocation", m.id, "error", err)
				}
				continue
			}
			f, err := g.js.PublishAsync(m.subject, m.data)
			if err != nil {
				g.log.Warn("could not write an invocation record", "invocation", m.id, "error", err)
				continue
			}
			acks = append(acks, f)
		}
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			g.log.Warn("could not write invocation records", "records", len(batch), "error", err)
		case <-ctx.Done():
			g.log.Warn("could not write invocation records", "records", len(batch), "error", ctx.Err())
		}
	}
}

// getInvocation answers GET /v1/invocations/{id}.
func (g *Gateway) getInvocation(c echo.Context) error {
	rec, err := g.findRecord(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (g *Gateway) findRecord(c echo.Context) (*Record, error) {
	id := c.Param("id")
	rec, err := g.lookupRecord(c.Request().Context(), id)
	if errors.Is(err, errNoRecord) {
		return nil, newError(http.StatusNotFound, "invocation_not_found", "no invocation %q (records are kept for %s)", id, g.cfg.Retention)
	}
	return rec, err
}

// lookupRecord finds an invocation's record, or a queued invocation in the async
// stream. A dispatcher writes the record before it takes the message off
// the stream, so an invocation that is in neither the first time has
// started meanwhile, and the second look at the records finds it.
func (g *Gateway) lookupRecord(ctx context.Context, id string) (*Record, error) {
	rec, err := g.records.get(ctx, id)
	if !errors.Is(err, errNoRecord) {
		return rec, err
	}
	rec, err = g.queuedRecord(ctx, id)
	if !errors.Is(err, errNoRecord) {
		return rec, err
	}
	return g.records.get(ctx, id)
}

// getResult answers GET /v1/invocations/{id}/result with the stored output.
func (g *Gateway) getResult(c echo.Context) error {
	rec, err := g.findRecord(c)
	if err != nil {
		return err
	}
	switch rec.Status {
	case StatusQueued, StatusRunning:
		return newError(http.StatusConflict, "not_finished", "invocation %s is %s; poll GET /v1/invocations/%s until it has finished", rec.ID, rec.Status, rec.ID)
	case StatusSucceeded:
		if rec.Result != nil {
			data, err := g.outputs.get(c.Request().Context(), rec.Result)
			if errors.Is(err, errNoOutput) {
				return newError(http.StatusNotFound, "result_expired", "the result of %s is no longer stored", rec.ID)
			}
			if err != nil {
				return err
			}
			return c.Blob(http.StatusOK, "application/octet-stream", data)
		}
		return newError(http.StatusNotFound, "no_result", "invocation %s was synchronous: its output went to the caller and is not stored", rec.ID)
	}
	msg := "invocation " + rec.ID + " " + rec.Status
	if rec.Error != nil {
		msg += ": " + rec.Error.Message
	}
	return newError(http.StatusNotFound, "no_result", "%s; it has no result", msg)
}

// getLogs answers GET /v1/invocations/{id}/logs with the captured log.
func (g *Gateway) getLogs(c echo.Context) error {
	rec, err := g.findRecord(c)
	if err != nil {
		return err
	}
	if rec.Logs == nil {
		return c.String(http.StatusOK, "")
	}
	data, err := g.outputs.get(c.Request().Context(), rec.Logs)
	if errors.Is(err, errNoOutput) {
		return c.String(http.StatusOK, "")
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", data)
}

// listInvocations answers GET /v1/functions/{name}/invocations?limit=N:
// the newest records of a function.
func (g *Gateway) listInvocations(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	limit := 50
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return newError(http.StatusBadRequest, "invalid_parameter", "limit must be a number from 1 to 1000, not %q", s)
		}
		limit = n
	}
	recs, err := g.listRecords(c.Request().Context(), ns, name, limit)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []*Record{}
	}
	return c.JSON(http.StatusOK, map[string]any{"invocations": recs})
}

// listRecords returns the newest invocations of a function, newest first:
// its records and its queued invocations in the async stream (read first:
// one that starts meanwhile then has a record; one found in both is
// listed once, from its record).
func (g *Gateway) listRecords(ctx context.Context, ns, fn string, limit int) ([]*Record, error) {
	queued, err := g.queuedRecords(ctx, ns, fn, limit)
	if err != nil {
		return nil, err
	}
	recs, err := g.records.list(ctx, ns, fn, limit)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[r.ID] = true
	}
	for _, r := range queued {
		if !have[r.ID] {
			recs = append(recs, r)
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].QueuedAt.After(recs[j].QueuedAt) })
	if len(recs) > limit {
		recs = recs[:limit]
	}
	return recs, nil
}
