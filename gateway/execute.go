package gateway

// The invocation core, part 2: one execution of an invocation. Execute
// asks the scheduler for a runner (place), hands the call to the transport
// that reaches it (one call site: Local in this process, NATS otherwise),
// offers it to another runner when the first did not take it, and maps
// how it ended to an Outcome.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/transport"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// maxAttempts bounds how many runners one call is offered to when runners
// do not answer (they died before taking it).
const maxAttempts = 3

// runnerClient carries a placed call to a runner: transport.Local or
// transport.NATS. target is nil when the call is not placed (no
// heartbeats yet): any runner takes it.
type runnerClient interface {
	Call(ctx context.Context, req *wire.Request, body []byte, target *scheduler.Runner) (*wire.Response, []byte, error)
}

// Execute runs one execution of an invocation and reports how it ended. A
// runner that does not take the call (no responders: it died; or it is
// draining) is dropped from the table and the call goes to another; a
// runner that dies while running it fails the call fast with 503.
func (g *Gateway) Execute(ctx context.Context, inv *invocation.Invocation, class scheduler.Class) (out invocation.Outcome) {
	if g.leader != nil {
		g.leader.Begin(inv.Namespace, inv.Function)
		defer g.leader.End(inv.Namespace, inv.Function)
	}
	defer func() {
		out.Total = time.Since(inv.Start)
		if out.Err != nil {
			out.Status = out.Err.Status
		}
		g.metrics.count(inv, &out)
		g.logOutcome(ctx, inv, &out)
	}()
	timeout := time.Duration(inv.Req.TimeoutMs)*time.Millisecond + g.cfg.InvokeGrace
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	inv.Req.Gateway = g.id // runners count their calls in flight per gateway
	if out.Err = g.grantSecrets(ctx, inv); out.Err != nil {
		return out
	}
	body := inv.Body
	if inv.Req.BodyRef != "" {
		body = nil // claim-checked at async intake
	}
	var (
		resp      *wire.Response
		output    []byte
		err       error
		excluded  []string
		skipLocal bool // the local runner refused an unplaced call
	)
	for attempt := 1; ; attempt++ {
		placing := time.Now()
		d, release, perr := g.place(ctx, inv, class, excluded)
		out.Waited += time.Since(placing)
		if perr != nil {
			g.metrics.placed(failedReason(perr))
			out.Err = g.placementError(perr, timeout)
			return out
		}
		g.metrics.placed(d.Reason)
		if d.Reason != "" {
			out.Placed = d.String()
		}
		if g.log.Enabled(ctx, slog.LevelDebug) { // formatting the decision is not free on the hot path
			g.log.Debug("placed", inv.Req.LogArgs("function", inv.Function, "decision", out.Placed, "attempt", attempt)...)
		}
		client, isLocal := g.clientFor(d.Runner, skipLocal)
		resp, output, err = client.Call(ctx, inv.Req, body, d.Runner)
		release()
		if err == nil {
			break
		}
		if takeElsewhere(err) && attempt < maxAttempts {
			if d.Runner != nil {
				g.metrics.failovers.Inc()
				g.sched.Table().MarkDead(d.Runner.ID)
				excluded = append(excluded, d.Runner.ID)
				g.log.Warn("runner did not take the call; trying another", inv.Req.LogArgs("function", inv.Function, "runner", d.Runner.ID)...)
				continue
			}
			if isLocal { // not placed yet, and the local runner is not taking work: any runner NATS reaches
				g.metrics.failovers.Inc()
				skipLocal = true
				continue
			}
		}
		out.Resp = resp
		out.Err = callError(err, timeout)
		return out
	}

	out.Resp = resp
	if resp.Error != nil {
		out.Err = runnerError(resp.Error)
		out.Err.Stderr = resp.Stderr
		return out
	}
	out.Output = output
	out.Status = resp.Status
	if out.Status == 0 {
		out.Status = http.StatusOK
	}
	return out
}

// logOutcome logs how a call ended: at Info when the platform failed it
// (5xx but a function's own failure, which the runner logs), at Debug
// otherwise, which costs nothing unless debug is on.
func (g *Gateway) logOutcome(ctx context.Context, inv *invocation.Invocation, out *invocation.Outcome) {
	level := slog.LevelDebug
	if out.Err != nil && out.Status >= http.StatusInternalServerError && out.Err.Code != apierr.Code(wire.CodeFunctionFailed) {
		level = slog.LevelInfo
	}
	if !g.log.Enabled(ctx, level) {
		return
	}
	args := inv.Req.LogArgs("function", inv.Function, "status", out.Status, "duration", out.Total)
	if out.Resp != nil {
		args = append(args, "runner", out.Resp.Runner, "cold", out.Resp.Cold)
	}
	if out.Err != nil {
		g.log.Log(ctx, level, "call failed", append(args, "code", out.Err.Code, "error", out.Err.Message)...)
		return
	}
	g.log.Log(ctx, level, "call done", args...)
}

// place asks the scheduler for a runner, waiting for capacity up to the
// queue wait. With no heartbeats yet (a gateway just started) the call
// goes to any runner, unplaced; the autoscaler counts such calls, which
// no runner entry holds.
func (g *Gateway) place(ctx context.Context, inv *invocation.Invocation, class scheduler.Class, excluded []string) (scheduler.Decision, func(), error) {
	d, release, err := g.sched.Acquire(ctx, inv.Namespace, inv.Function, class, scheduler.Request{Digest: inv.Req.Digest}, excluded)
	if errors.Is(err, scheduler.ErrNoRunners) && len(excluded) == 0 {
		g.unplaced.Add(1)
		return scheduler.Decision{Reason: "any"}, func() { g.unplaced.Add(-1) }, nil
	}
	return d, release, err
}

// clientFor is the transport that reaches runner r: this process's runner
// directly, any other through NATS. An unplaced call (r nil) goes to the
// local runner when there is one, unless skipLocal.
func (g *Gateway) clientFor(r *scheduler.Runner, skipLocal bool) (runnerClient, bool) {
	if g.local != nil && ((r == nil && !skipLocal) || (r != nil && r.ID == g.local.R.ID())) {
		return g.local, true
	}
	return g.nats, false
}

// takeElsewhere reports whether a call the runner did not take (it is gone,
// or draining) may go to another runner.
func takeElsewhere(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, wire.ErrNotTaking)
}

// failedReason is how hearth_scheduler_decisions_total counts a
// placement that failed with err.
func failedReason(err error) string {
	if errors.Is(err, scheduler.ErrOverloaded) {
		return reasonOverloaded
	}
	return reasonNoRunners
}

// placementError maps a failed placement to an API error.
func (g *Gateway) placementError(err error, timeout time.Duration) *apierr.Error {
	if errors.Is(err, scheduler.ErrOverloaded) {
		return apierr.New(http.StatusTooManyRequests, apierr.Overloaded, "every runner is at capacity; retry after a second")
	}
	return callError(err, timeout)
}

// callError maps a failed call to an API error.
func callError(err error, timeout time.Duration) *apierr.Error {
	var (
		malformed *transport.MalformedResponse
		storage   *transport.StorageError
	)
	switch {
	case errors.As(err, &storage):
		status := http.StatusServiceUnavailable
		if storage.Op == transport.OpReadOutput {
			status = http.StatusBadGateway
		}
		return apierr.New(status, apierr.StorageUnavailable, "%v", storage)
	case errors.As(err, &malformed):
		return apierr.New(http.StatusBadGateway, apierr.BadRunnerResponse, "the runner sent a malformed answer: %v", malformed.Err)
	case errors.Is(err, transport.ErrRunnerLost):
		return apierr.New(http.StatusServiceUnavailable, apierr.RunnerLost, "the runner running the call stopped answering; the call may have run partly — retry if it is safe")
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, scheduler.ErrNoRunners), errors.Is(err, wire.ErrNotTaking):
		return apierr.New(http.StatusServiceUnavailable, apierr.NoRunners, "no runner is available to run the function; start one with `hearth runner` and try again")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return apierr.New(http.StatusGatewayTimeout, apierr.Timeout, "no answer from a runner within %s", timeout)
	case errors.Is(err, context.Canceled):
		return apierr.New(499, apierr.Canceled, "the client went away")
	}
	return apierr.New(http.StatusBadGateway, apierr.RunnerUnreachable, "could not reach a runner: %v", err)
}

// runnerError maps a runner's error to the API's status codes.
func runnerError(e *wire.Error) *apierr.Error {
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
	return &apierr.Error{Status: status, Code: apierr.Code(e.Code), Message: e.Message}
}

// grantSecrets sets the env the runner is sent: the version's env and
// the secrets its spec grants, decrypted just before the call (never into
// the async stream or a record). A secret that is gone fails the call: the
// function does not run without it.
func (g *Gateway) grantSecrets(ctx context.Context, inv *invocation.Invocation) *apierr.Error {
	fn, err := g.registry.Lookup(ctx, inv.Namespace, inv.Function)
	if err != nil {
		return nil // the call fails on its own for a function that is gone
	}
	v, ok := fn.Version(inv.Req.Version)
	if !ok || len(v.Spec.Secrets) == 0 {
		return nil
	}
	env, err := g.callEnv(inv.Namespace, v)
	if err != nil {
		return apierr.New(http.StatusBadGateway, codeSecretUnavailable, "%s cannot run: %s", inv.Function, err.Error())
	}
	inv.Req.Env = env
	return nil
}

// callEnv is the env of a call of version v: its spec's env and, under
// their variable names, the secrets it grants.
func (g *Gateway) callEnv(ns string, v registry.Version) (map[string]string, error) {
	if len(v.Spec.Secrets) == 0 {
		return v.Spec.Env, nil
	}
	secretEnv, err := g.secrets.Env(ns, v.Spec.Secrets)
	if err != nil {
		return nil, err
	}
	env := make(map[string]string, len(v.Spec.Env)+len(secretEnv))
	for k, val := range v.Spec.Env {
		env[k] = val
	}
	for k, val := range secretEnv {
		env[k] = val
	}
	return env, nil
}
