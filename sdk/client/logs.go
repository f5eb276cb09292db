package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// LogEvent is one event of a function's log stream: a finished
// invocation and what it wrote to stderr (the OpenAPI schema LogEvent).
type LogEvent struct {
	ID         string     `json:"id"` // the invocation's id
	Function   string     `json:"function"`
	Version    int        `json:"version"`
	Mode       string     `json:"mode"`   // sync, async, cron or nats
	Status     string     `json:"status"` // succeeded or failed (dead for async)
	QueuedAt   time.Time  `json:"queued_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Logs       string     `json:"logs"` // empty when it wrote nothing (or its log expired)
}

// MaxLogsBacklog is the most invocations FollowLogs can be asked to send
// before the new ones.
const MaxLogsBacklog = 1000

// FollowLogs streams the logs of a function's invocations from the
// gateway's server-sent events (GET /v1/functions/{name}/logs?follow=true):
// first the newest backlog finished ones (0 to MaxLogsBacklog), oldest
// first, then each one as it finishes. fn is called for each event, in
// order, on the caller's goroutine; an error it returns ends the stream
// and is returned.
//
// FollowLogs returns ctx's error once ctx is done, and nil when the
// gateway ends the stream (it shuts down). It does not reconnect: the
// gateway does not resume a stream from Last-Event-ID, so a reconnect
// would send the backlog again; call FollowLogs again (with backlog 0 to
// skip it, or dedupe by LogEvent.ID) when that is wanted. The gateway's
// keepalive comments are read and skipped. The first request is resent on
// 429 and 503 as other GETs are (Client.MaxRetries).
func (c *Client) FollowLogs(ctx context.Context, name string, backlog int, fn func(LogEvent) error) error {
	if backlog < 0 || backlog > MaxLogsBacklog {
		return fmt.Errorf("hearth: a logs backlog is 0 to %d invocations, not %d", MaxLogsBacklog, backlog)
	}
	path := functionPath(name) + "/logs?follow=true&limit=" + strconv.Itoa(backlog)
	req, err := c.request(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.roundTrip(req, resendIdempotent)
	if err != nil {
		return fmt.Errorf("hearth: follow logs of %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp)
	}
	// Closing the body when ctx is done ends a read that waits for the
	// next event (the transport does it too; this keeps it so with any
	// RoundTripper).
	stop := context.AfterFunc(ctx, func() { resp.Body.Close() })
	defer stop()
	sr := newSSEReader(resp.Body)
	for {
		ev, err := sr.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("hearth: read the log stream of %s: %w", name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err() // no event after the caller stopped
		}
		if ev.Type != "logs" {
			continue // an event type of a later gateway
		}
		var le LogEvent
		if err := json.Unmarshal([]byte(ev.Data), &le); err != nil {
			return fmt.Errorf("hearth: a log event of %s is not JSON: %w", name, err)
		}
		if err := fn(le); err != nil {
			return err
		}
	}
}
