package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// invocation is one sync call on its way through the gateway.
type invocation struct {
	ns, name string
	fn       *registry.Function
	req      *wire.Request
	body     []byte
	start    time.Time
}

// invoke answers POST /v1/functions/{name}/invoke: the body is the input,
// the response body the output.
func (g *Gateway) invoke(c echo.Context) error {
	inv, err := g.prepare(c, "/")
	if err != nil {
		return err
	}
	resp, output, err := g.call(c, inv)
	if err != nil {
		return err
	}
	ctype := "application/octet-stream"
	if ct := http.Header(resp.Headers).Get("Content-Type"); ct != "" {
		ctype = ct
	}
	return c.Blob(http.StatusOK, ctype, output)
}

// passthrough answers ANY /fn/{name}/{path...}: method, path, query and
// headers reach the function, and its CGI headers shape the response.
func (g *Gateway) passthrough(c echo.Context) error {
	inv, err := g.prepare(c, "/"+c.Param("*"))
	if err != nil {
		return err
	}
	resp, output, err := g.call(c, inv)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	for name, values := range resp.Headers {
		if hopByHop[http.CanonicalHeaderKey(name)] || strings.HasPrefix(http.CanonicalHeaderKey(name), "Hearth-") {
			continue
		}
		for _, v := range values {
			h.Add(name, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if h.Get("Content-Type") == "" && len(output) > 0 {
		h.Set("Content-Type", http.DetectContentType(output))
	}
	return c.Blob(status, h.Get("Content-Type"), output)
}

// hopByHop are headers a function may not set on the response.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Proxy-Authenticate": true, "Trailer": true, "Te": true,
}

// prepare looks up the function and reads the request into an invocation.
func (g *Gateway) prepare(c echo.Context, path string) (*invocation, error) {
	start := time.Now()
	ns, name, err := target(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	fn, err := g.registry.Lookup(ctx, ns, name)
	if err != nil {
		return nil, registryError(err, ns, name)
	}
	body, err := readLimited(c.Request().Body, int64(g.cfg.MaxPayload), "request body")
	if err != nil {
		return nil, err
	}
	version := fn.Latest()
	id := nuid.Next()
	c.Response().Header().Set(headerInvocationID, id)
	r := c.Request()
	headers := make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		if k == "Authorization" || k == "Cookie" {
			continue // credentials for the platform are not the function's
		}
		headers[k] = v
	}
	return &invocation{
		ns: ns, name: name, fn: fn, body: body, start: start,
		req: &wire.Request{
			InvocationID: id,
			Namespace:    ns,
			Function:     name,
			Version:      version.Version,
			Digest:       version.DigestHex(),
			ABI:          version.ABI,
			Concurrency:  version.Spec.Concurrency,
			TimeoutMs:    version.Spec.TimeoutMs,
			MemoryMB:     version.Spec.MemoryMB,
			Env:          version.Spec.Env,
			Method:       r.Method,
			Path:         path,
			Query:        r.URL.RawQuery,
			Headers:      headers,
		},
	}, nil
}

// maxAttempts bounds how many runners one call is offered to when runners
// do not answer (they died before taking it).
const maxAttempts = 3

// errRunnerLost ends a call whose runner died while running it.
var errRunnerLost = errors.New("runner lost")

// call places the invocation on a runner, sends it and waits for the
// answer. A runner that does not take the call (no responders: it died) is
// dropped from the table and the call goes to another; a runner that dies
// while running it fails the call fast with 503. It sets the Hearth-*
// headers and records metrics; errors come back as API errors.
func (g *Gateway) call(c echo.Context, inv *invocation) (*wire.Response, []byte, error) {
	timeout := time.Duration(inv.req.TimeoutMs)*time.Millisecond + g.cfg.InvokeGrace
	ctx, cancel := context.WithTimeout(c.Request().Context(), timeout)
	defer cancel()
	h := c.Response().Header()

	var reply *nats.Msg
	var excluded []string
	for attempt := 1; ; attempt++ {
		d, release, err := g.sched.Acquire(ctx, inv.ns, inv.name, scheduler.Sync, scheduler.Request{Digest: inv.req.Digest}, excluded)
		subject := wire.InvokeSubject
		switch {
		case err == nil:
			subject = wire.RunnerSubject(d.Runner.ID)
		case errors.Is(err, scheduler.ErrNoRunners) && len(excluded) == 0:
			// No heartbeats yet (a gateway just started): any runner.
			d, release = scheduler.Decision{Reason: "any"}, func() {}
		case errors.Is(err, scheduler.ErrOverloaded):
			h.Set("Retry-After", "1")
			g.record(inv, http.StatusTooManyRequests, nil)
			return nil, nil, newError(http.StatusTooManyRequests, "overloaded", "every runner is at capacity; retry after a second")
		default:
			apiErr := g.transportError(err, timeout)
			if apiErr.Status == http.StatusServiceUnavailable {
				h.Set("Retry-After", "1")
			}
			g.record(inv, apiErr.Status, nil)
			return nil, nil, apiErr
		}
		h.Set("Hearth-Placement", d.String())
		g.log.Debug("placed", "function", inv.name, "invocation", inv.req.InvocationID, "decision", d.String(), "attempt", attempt)
		reply, err = g.send(ctx, subject, inv, d.Runner)
		release()
		if err == nil {
			break
		}
		if errors.Is(err, nats.ErrNoResponders) && d.Runner != nil && attempt < maxAttempts {
			g.sched.Table().MarkDead(d.Runner.ID)
			excluded = append(excluded, d.Runner.ID)
			g.log.Warn("runner did not take the call; trying another", "runner", d.Runner.ID, "invocation", inv.req.InvocationID)
			continue
		}
		apiErr := g.transportError(err, timeout)
		if errors.Is(err, errRunnerLost) {
			apiErr = newError(http.StatusServiceUnavailable, "runner_lost", "the runner running the call stopped answering; the call may have run partly — retry if it is safe")
		}
		if apiErr.Status == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		g.record(inv, apiErr.Status, nil)
		return nil, nil, apiErr
	}

	resp, output, err := wire.DecodeResponse(reply)
	if err != nil {
		g.record(inv, http.StatusBadGateway, nil)
		return nil, nil, newError(http.StatusBadGateway, "bad_runner_response", "the runner sent a malformed answer: %v", err)
	}
	h.Set(headerColdStart, strconv.FormatBool(resp.Cold))
	total := time.Since(inv.start)
	queue := total - time.Duration(resp.InitMicros+resp.RunMicros)*time.Microsecond
	h.Set("Server-Timing", fmt.Sprintf("queue;dur=%.3f, init;dur=%.3f, run;dur=%.3f",
		ms(queue), float64(resp.InitMicros)/1000, float64(resp.RunMicros)/1000))
	if resp.Runner != "" {
		h.Set("Hearth-Runner", resp.Runner)
	}
	if resp.Error != nil {
		apiErr := runnerError(resp.Error)
		apiErr.Stderr = resp.Stderr
		if apiErr.Status == http.StatusTooManyRequests || apiErr.Status == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		g.record(inv, apiErr.Status, resp)
		return nil, nil, apiErr
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	g.record(inv, status, resp)
	return resp, output, nil
}

// send makes the NATS request; when the call was placed on a runner, the
// request ends early if that runner is declared dead meanwhile.
func (g *Gateway) send(ctx context.Context, subject string, inv *invocation, r *scheduler.Runner) (*nats.Msg, error) {
	msg, err := wire.EncodeRequest(subject, inv.req, inv.body)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return g.nc.RequestMsgWithContext(ctx, msg)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-r.Dead():
			cancel(errRunnerLost)
		case <-ctx.Done():
		}
	}()
	reply, err := g.nc.RequestMsgWithContext(ctx, msg)
	if err != nil && context.Cause(ctx) == errRunnerLost {
		return nil, errRunnerLost
	}
	return reply, err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// transportError maps a failed NATS request to an API error.
func (g *Gateway) transportError(err error, timeout time.Duration) *apiError {
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, scheduler.ErrNoRunners):
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
func (g *Gateway) record(inv *invocation, status int, resp *wire.Response) {
	cold := resp != nil && resp.Cold
	m := g.metrics
	m.invocations.WithLabelValues(inv.ns, inv.name, strconv.Itoa(status), strconv.FormatBool(cold)).Inc()
	m.duration.WithLabelValues(inv.ns, inv.name).Observe(time.Since(inv.start).Seconds())
	if cold {
		m.coldStarts.WithLabelValues(inv.ns, inv.name).Inc()
		m.initTime.WithLabelValues(inv.ns, inv.name).Observe(float64(resp.InitMicros) / 1e6)
	}
}
