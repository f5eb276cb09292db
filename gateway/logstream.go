package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/records"
)

// logEvent is the data of one event of GET /v1/functions/{name}/logs: a
// finished invocation and what it wrote to stderr.
type logEvent struct {
	ID         string     `json:"id"`
	Function   string     `json:"function"`
	Version    int        `json:"version"`
	Mode       string     `json:"mode"`
	Status     string     `json:"status"`
	QueuedAt   time.Time  `json:"queued_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Logs       string     `json:"logs"`
}

// seenMax bounds the ids a followed stream remembers to send each
// invocation once (a finished record can be written again, e.g. when its
// callback is delivered).
const seenMax = 4096

// functionLogs answers GET /v1/functions/{name}/logs[?limit=N&follow=true]
// with a text/event-stream: an event "logs" per finished invocation, the
// newest limit of them oldest first, then (follow) each one that finishes
// after, with a comment line every Config.LogsHeartbeat, until the client
// goes away or the gateway shuts down.
func (g *Gateway) functionLogs(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	follow := false
	if s := c.QueryParam("follow"); s != "" {
		switch s {
		case "true", "1":
			follow = true
		case "false", "0":
		default:
			return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "follow must be true or false, not %q", truncated(s))
		}
	}
	limit := 20
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000 {
			return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "limit must be a number from 0 to 1000, not %q", truncated(s))
		}
		limit = n
	}
	ctx := c.Request().Context()
	// The watch starts before the list, so an invocation that finishes in
	// between is in one or the other (or both: sent once).
	var updates <-chan *records.Record
	if follow {
		w, err := g.records.Watch(ctx, ns, name)
		if err != nil {
			return err
		}
		defer func() { _ = w.Stop() }()
		ch := make(chan *records.Record)
		go func() {
			defer close(ch)
			for e := range w.Updates() {
				if r, ok := records.DecodeEntry(e); ok && r.Finished() {
					select {
					case ch <- r:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
		updates = ch
	}
	var backlog []*records.Record
	if limit > 0 {
		if backlog, err = g.records.List(ctx, ns, name, limit); err != nil {
			return err
		}
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Response().WriteHeader(http.StatusOK)
	seen := make(map[string]bool)
	var order []string
	send := func(r *records.Record) error {
		if seen[r.ID] || !r.Finished() {
			return nil
		}
		seen[r.ID] = true
		if order = append(order, r.ID); len(order) > seenMax {
			delete(seen, order[0])
			order = order[1:]
		}
		ev := logEvent{ID: r.ID, Function: r.Function, Version: r.Version, Mode: r.Mode, Status: r.Status, QueuedAt: r.QueuedAt, FinishedAt: r.FinishedAt}
		if r.Logs != nil {
			data, err := g.outputs.Get(ctx, r.Logs)
			if err != nil && !errors.Is(err, records.ErrNoOutput) {
				return err
			}
			ev.Logs = string(data)
		}
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		w := c.Response()
		buf := make([]byte, 0, len(data)+len(r.ID)+32)
		buf = append(buf, "event: logs\nid: "...)
		buf = append(buf, r.ID...)
		buf = append(buf, "\ndata: "...)
		buf = append(buf, data...)
		buf = append(buf, "\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	for i := len(backlog) - 1; i >= 0; i-- { // oldest first
		if err := send(backlog[i]); err != nil {
			return nil // the client went away or the log is unreadable: the stream ends
		}
	}
	if !follow {
		return nil
	}
	c.Response().Flush()
	g.metrics.logStreams.Inc()
	defer g.metrics.logStreams.Dec()
	beat := time.NewTicker(g.cfg.LogsHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.streams.Done():
			return nil
		case <-beat.C:
			if _, err := c.Response().Write([]byte(": keepalive\n\n")); err != nil {
				return nil
			}
			c.Response().Flush()
		case r, ok := <-updates:
			if !ok {
				return nil // the watch ended (NATS went away)
			}
			if err := send(r); err != nil {
				g.log.Debug("log stream ended", "function", name, "error", err)
				return nil
			}
		}
	}
}

// newLogStreams is the gauge of followed log streams open.
func newLogStreams() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hearth_log_streams",
		Help: "Followed log streams (GET /v1/functions/{name}/logs?follow=true) open.",
	})
}
