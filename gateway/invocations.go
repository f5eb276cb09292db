package gateway

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/records"
)

// getInvocation answers GET /v1/invocations/{id}.
func (g *Gateway) getInvocation(c echo.Context) error {
	rec, err := g.findRecord(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

// findRecord finds the invocation a request addresses by id, refusing
// (403) a key that does not cover its namespace.
func (g *Gateway) findRecord(c echo.Context) (*records.Record, error) {
	id := c.Param("id")
	rec, err := g.lookupRecord(c.Request().Context(), id)
	if errors.Is(err, records.ErrNoRecord) {
		return nil, apierr.New(http.StatusNotFound, apierr.InvocationNotFound, "no invocation %q (records are kept for %s)", id, g.cfg.Retention)
	}
	if err != nil {
		return nil, err
	}
	if err := auth.CheckNamespace(c, rec.Namespace); err != nil {
		return nil, err
	}
	return rec, nil
}

// lookupRecord finds an invocation's record, or a queued invocation in the
// async stream. A dispatcher writes the record before it takes the message
// off the stream, so an invocation that is in neither the first time has
// started meanwhile, and the second look at the records finds it.
func (g *Gateway) lookupRecord(ctx context.Context, id string) (*records.Record, error) {
	rec, err := g.records.Get(ctx, id)
	if !errors.Is(err, records.ErrNoRecord) {
		return rec, err
	}
	rec, err = g.queue.Queued(ctx, id)
	if !errors.Is(err, records.ErrNoRecord) {
		return rec, err
	}
	return g.records.Get(ctx, id)
}

// getResult answers GET /v1/invocations/{id}/result with the stored output.
func (g *Gateway) getResult(c echo.Context) error {
	rec, err := g.findRecord(c)
	if err != nil {
		return err
	}
	switch rec.Status {
	case records.StatusQueued, records.StatusRunning:
		return apierr.New(http.StatusConflict, apierr.NotFinished, "invocation %s is %s; poll GET /v1/invocations/%s until it has finished", rec.ID, rec.Status, rec.ID)
	case records.StatusSucceeded:
		if rec.Result != nil {
			data, err := g.outputs.Get(c.Request().Context(), rec.Result)
			if errors.Is(err, records.ErrNoOutput) {
				return apierr.New(http.StatusNotFound, apierr.ResultExpired, "the result of %s is no longer stored", rec.ID)
			}
			if err != nil {
				return err
			}
			return c.Blob(http.StatusOK, "application/octet-stream", data)
		}
		return apierr.New(http.StatusNotFound, apierr.NoResult, "invocation %s was synchronous: its output went to the caller and is not stored", rec.ID)
	}
	msg := "invocation " + rec.ID + " " + rec.Status
	if rec.Error != nil {
		msg += ": " + rec.Error.Message
	}
	return apierr.New(http.StatusNotFound, apierr.NoResult, "%s; it has no result", msg)
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
	data, err := g.outputs.Get(c.Request().Context(), rec.Logs)
	if errors.Is(err, records.ErrNoOutput) {
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
			return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "limit must be a number from 1 to 1000, not %q", s)
		}
		limit = n
	}
	recs, err := g.listRecords(c.Request().Context(), ns, name, limit)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []*records.Record{}
	}
	return c.JSON(http.StatusOK, map[string]any{"invocations": recs})
}

// listRecords returns the newest invocations of a function, newest first:
// its records and its queued invocations in the async stream (read first:
// one that starts meanwhile then has a record; one found in both is
// listed once, from its record).
func (g *Gateway) listRecords(ctx context.Context, ns, fn string, limit int) ([]*records.Record, error) {
	queued, err := g.queue.QueuedList(ctx, ns, fn, limit)
	if err != nil {
		return nil, err
	}
	recs, err := g.records.List(ctx, ns, fn, limit)
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

// listDLQ answers GET /v1/dlq[?function=NAME]: dead letters, oldest first.
func (g *Gateway) listDLQ(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	out, err := g.queue.DeadLetters(ctx, ns, c.QueryParam("function"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"dead_letters": out})
}

// replayDLQ answers POST /v1/dlq/{id}/replay: the invocation is queued
// again with fresh attempts, under the same id.
func (g *Gateway) replayDLQ(c echo.Context) error {
	id := c.Param("id")
	if err := g.queue.Replay(c.Request().Context(), id, func(ns string) error { replayNamespace(c, ns); return auth.CheckNamespace(c, ns) }); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/invocations/"+id)
	return c.JSON(http.StatusAccepted, map[string]string{"id": id, "status": records.StatusQueued})
}
