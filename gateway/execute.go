package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// maxAttempts bounds how many runners one call is offered to when runners
// do not answer (they died before taking it).
const maxAttempts = 3

// errRunnerLost ends a call whose runner died while running it.
var errRunnerLost = errors.New("runner lost")

// outcome is how one execution of an invocation ended.
type outcome struct {
	resp     *wire.Response // the runner's answer; nil when none came
	output   []byte         // the output, fetched from the store if claim-checked
	decision scheduler.Decision
	placed   string    // decision.String(), formatted once
	err      *apiError // nil on success
	status   int       // HTTP status of the outcome
	total    time.Duration
}

// call runs a sync invocation for an HTTP request and sets the Hearth-*
// headers from its outcome.
func (g *Gateway) call(c echo.Context, inv *invocation) (*wire.Response, []byte, error) {
	out := g.execute(c.Request().Context(), inv, scheduler.Sync)
	g.recordSync(inv, out, "sync")
	h := c.Response().Header()
	if out.placed != "" {
		h.Set("Hearth-Placement", out.placed)
	}
	if out.resp != nil {
		h.Set(headerColdStart, strconv.FormatBool(out.resp.Cold))
		h.Set("Server-Timing", serverTiming(out))
		if out.resp.Runner != "" {
			h.Set("Hearth-Runner", out.resp.Runner)
		}
	}
	if out.err != nil {
		if out.err.Status == http.StatusTooManyRequests || out.err.Status == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		return nil, nil, out.err
	}
	return out.resp, out.output, nil
}

// serverTiming is the Server-Timing header of a call that a runner
// answered: queue (gateway, NATS and waiting), init and run, in ms.
func serverTiming(out outcome) string {
	queue := out.total - time.Duration(out.resp.InitMicros+out.resp.RunMicros)*time.Microsecond
	b := make([]byte, 0, 64)
	b = append(b, "queue;dur="...)
	b = strconv.AppendFloat(b, ms(queue), 'f', 3, 64)
	b = append(b, ", init;dur="...)
	b = strconv.AppendFloat(b, float64(out.resp.InitMicros)/1000, 'f', 3, 64)
	b = append(b, ", run;dur="...)
	b = strconv.AppendFloat(b, float64(out.resp.RunMicros)/1000, 'f', 3, 64)
	return string(b)
}

// execute places the invocation on a runner, sends it and waits for the
// answer. A runner that does not take the call (no responders: it died) is
// dropped from the table and the call goes to another; a runner that dies
// while running it fails the call fast with 503. Bodies and outputs above
// the NATS message limit travel through the object store (claim check).
func (g *Gateway) execute(ctx context.Context, inv *invocation, class scheduler.Class) (out outcome) {
	if g.autoscale != nil {
		g.autoscale.begin(inv.ns, inv.name)
		defer g.autoscale.end(inv.ns, inv.name)
	}
	defer func() {
		out.total = time.Since(inv.start)
		if out.decision.Reason != "" {
			out.placed = out.decision.String()
		}
		if out.err != nil {
			out.status = out.err.Status
		}
		g.record(inv, out)
	}()
	timeout := time.Duration(inv.req.TimeoutMs)*time.Millisecond + g.cfg.InvokeGrace
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	inv.req.Gateway = g.id // runners count their calls in flight per gateway
	body := inv.body
	if inv.req.BodyRef != "" {
		body = nil
	}
	var (
		resp     *wire.Response
		output   []byte
		excluded []string
	)
	for attempt := 1; ; attempt++ {
		d, release, err := g.sched.Acquire(ctx, inv.ns, inv.name, class, scheduler.Request{Digest: inv.req.Digest}, excluded)
		switch {
		case err == nil:
		case errors.Is(err, scheduler.ErrNoRunners) && len(excluded) == 0:
			// No heartbeats yet (a gateway just started): any runner. The
			// autoscaler counts these calls, which no runner entry holds.
			g.unplaced.Add(1)
			d, release = scheduler.Decision{Reason: "any"}, func() { g.unplaced.Add(-1) }
		case errors.Is(err, scheduler.ErrOverloaded):
			out.err = newError(http.StatusTooManyRequests, "overloaded", "every runner is at capacity; retry after a second")
			return out
		default:
			out.err = g.transportError(err, timeout)
			return out
		}
		out.decision = d
		if g.log.Enabled(ctx, slog.LevelDebug) { // formatting the decision is not free on the hot path
			g.log.Debug("placed", "function", inv.name, "invocation", inv.req.InvocationID, "decision", d.String(), "attempt", attempt)
		}
		local := g.localRunner(d.Runner)
		if local != nil {
			// The runner shares this process: hand the call over directly.
			resp, output, err = local.Invoke(ctx, inv.req, body)
			if errors.Is(err, wire.ErrNotTaking) && d.Runner == nil {
				local = nil // not placed yet: any runner NATS reaches
			}
		}
		if local == nil {
			if len(body) > g.inlineLimit() { // too big for a NATS message: claim check
				if body, err = g.claimCheck(ctx, inv, body); err != nil {
					release()
					out.err = newError(http.StatusServiceUnavailable, "storage_unavailable", "could not store the request body: %v", err)
					return out
				}
			}
			resp, output, err = g.send(ctx, inv, body, d.Runner)
		}
		release()
		if err == nil {
			break
		}
		if g.takeElsewhere(err) && d.Runner != nil && attempt < maxAttempts {
			g.sched.Table().MarkDead(d.Runner.ID)
			excluded = append(excluded, d.Runner.ID)
			g.log.Warn("runner did not take the call; trying another", "runner", d.Runner.ID, "invocation", inv.req.InvocationID)
			continue
		}
		var malformed *malformedResponse
		switch {
		case errors.As(err, &malformed):
			out.err = newError(http.StatusBadGateway, "bad_runner_response", "the runner sent a malformed answer: %v", malformed.err)
		case errors.Is(err, errRunnerLost):
			out.err = newError(http.StatusServiceUnavailable, "runner_lost", "the runner running the call stopped answering; the call may have run partly — retry if it is safe")
		default:
			out.err = g.transportError(err, timeout)
		}
		return out
	}

	out.resp = resp
	if resp.Error != nil {
		out.err = runnerError(resp.Error)
		out.err.Stderr = resp.Stderr
		return out
	}
	if resp.OutputRef != "" {
		var err error
		if output, err = g.store.Get(ctx, resp.OutputRef); err != nil {
			out.err = newError(http.StatusBadGateway, "storage_unavailable", "could not read the function's output: %v", err)
			return out
		}
	}
	out.output = output
	out.status = resp.Status
	if out.status == 0 {
		out.status = http.StatusOK
	}
	return out
}

// LocalRunner is a runner in the gateway's own process (`hearth dev`):
// calls placed on it are handed over directly instead of through NATS.
// *runner.Runner is one.
type LocalRunner interface {
	ID() string
	// Invoke runs one invocation; wire.ErrNotTaking when the runner is
	// not taking work.
	Invoke(ctx context.Context, req *wire.Request, body []byte) (*wire.Response, []byte, error)
}

// localRunner returns the runner of this process that r is, if any. A call
// not yet placed (no heartbeats yet) goes to a local runner when there is one.
func (g *Gateway) localRunner(r *scheduler.Runner) LocalRunner {
	if g.local == nil {
		return nil
	}
	if r == nil {
		return g.local
	}
	if r.ID == g.local.ID() {
		return g.local
	}
	return nil
}

// inlineLimit is the largest payload sent inside a NATS message.
func (g *Gateway) inlineLimit() int {
	if g.cfg.InlineLimit > 0 {
		return g.cfg.InlineLimit
	}
	return wire.InlineLimit(g.nc.MaxPayload())
}

// deleteLater removes a claim-checked payload once its call is over.
func (g *Gateway) deleteLater(key string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.store.Delete(ctx, key); err != nil {
			g.log.Warn("could not delete a claim-checked payload", "key", key, "error", err)
		}
	}()
}

// claimCheck stores a body too large for a NATS message in the object
// store, deleted once the call is over, and returns the message's body:
// none.
func (g *Gateway) claimCheck(ctx context.Context, inv *invocation, body []byte) ([]byte, error) {
	key := wire.PayloadKey(inv.req.InvocationID)
	if err := g.store.Put(ctx, key, body, "application/octet-stream"); err != nil {
		return body, err
	}
	inv.req.BodyRef = key
	context.AfterFunc(ctx, func() { g.deleteLater(key) })
	return nil, nil
}

// send makes the NATS request and decodes the answer; when the call was
// placed on a runner, the request ends early if that runner is declared
// dead meanwhile.
func (g *Gateway) send(ctx context.Context, inv *invocation, body []byte, r *scheduler.Runner) (*wire.Response, []byte, error) {
	subject := wire.InvokeSubject
	if r != nil {
		subject = wire.RunnerSubject(r.ID)
	}
	msg, err := wire.EncodeRequest(subject, inv.req, body)
	if err != nil {
		return nil, nil, err
	}
	var reply *nats.Msg
	if r == nil {
		reply, err = g.nc.RequestMsgWithContext(ctx, msg)
	} else {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(r.Context(), func() { cancel(errRunnerLost) })
		defer stop()
		reply, err = g.nc.RequestMsgWithContext(ctx, msg)
		if err != nil && context.Cause(ctx) == errRunnerLost {
			return nil, nil, errRunnerLost
		}
	}
	if err != nil {
		return nil, nil, err
	}
	resp, output, err := wire.DecodeResponse(reply)
	if err != nil {
		return nil, nil, &malformedResponse{err}
	}
	return resp, output, nil
}

// malformedResponse is a runner's answer that could not be decoded.
type malformedResponse struct{ err error }

func (m *malformedResponse) Error() string { return m.err.Error() }

// takeElsewhere reports whether a call the runner did not take (it is gone,
// or draining) may go to another runner.
func (g *Gateway) takeElsewhere(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, wire.ErrNotTaking)
}

// transportError maps a failed NATS request to an API error.
func (g *Gateway) transportError(err error, timeout time.Duration) *apiError {
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, scheduler.ErrNoRunners), errors.Is(err, wire.ErrNotTaking):
		return newError(http.StatusServiceUnavailable, "no_runners", "no runner is available to run the function; start one with `hearth runner` and try again")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return newError(http.StatusGatewayTimeout, wire.CodeTimeout, "no answer from a runner within %s", timeout)
	case errors.Is(err, context.Canceled):
		return newError(499, "canceled", "the client went away")
	}
	return newError(http.StatusBadGateway, "runner_unreachable", "could not reach a runner: %v", err)
}

// runnerError maps a runner's error to the API's status codes.
func runnerError(e *wire.Error) *apiError {
	status := http.StatusBadGateway
	switch e.Code {
	case wire.CodeTimeout:
		status = http.StatusGatewayTimeout
	case wire.CodeModuleUnavailable, wire.CodeDraining:
		status = http.StatusServiceUnavailable
	case wire.CodeConcurrencyLimit:
		status = http.StatusTooManyRequests
	case wire.CodeBadRequest, wire.CodeInternal:
		status = http.StatusInternalServerError
	}
	return &apiError{Status: status, Code: e.Code, Message: e.Message}
}

// record counts one finished invocation.
func (g *Gateway) record(inv *invocation, out outcome) {
	cold := out.resp != nil && out.resp.Cold
	m := g.metrics
	m.invocations.WithLabelValues(inv.ns, inv.name, strconv.Itoa(out.status), strconv.FormatBool(cold)).Inc()
	m.duration.WithLabelValues(inv.ns, inv.name).Observe(time.Since(inv.start).Seconds())
	if cold {
		m.coldStarts.WithLabelValues(inv.ns, inv.name).Inc()
		m.initTime.WithLabelValues(inv.ns, inv.name).Observe(float64(out.resp.InitMicros) / 1e6)
	}
}
