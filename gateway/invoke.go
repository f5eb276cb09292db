package gateway

// The invocation core, part 1: an HTTP request becomes an invocation and
// its outcome becomes the answer. Read top-down: invoke and passthrough
// (the two routes) → prepare (resolve the function, read the body) →
// call (execute.go: place, send, map the outcome) → the answer; or accept,
// for an async call, which queues it (gateway/async).

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// invoke answers POST /v1/functions/{name}/invoke: the body is the input,
// the response body the output.
func (g *Gateway) invoke(c echo.Context) error {
	inv, err := g.prepare(c, "/")
	if err != nil {
		return err
	}
	if wantsAsync(c) {
		return g.accept(c, inv, "async")
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
func (g *Gateway) prepare(c echo.Context, path string) (*invocation.Invocation, error) {
	start := time.Now()
	ns, fn, version, err := g.resolve(c) // NAME, NAME@VERSION or NAME:ALIAS (resolve.go)
	if err != nil {
		return nil, err
	}
	if err := g.limitFunction(c, ns, fn.Name, version.Spec.RateLimit); err != nil {
		return nil, err
	}
	r := c.Request()
	body, err := readBody(r, int64(g.cfg.MaxPayload))
	if err != nil {
		return nil, err
	}
	id := nuid.Next()
	c.Response().Header().Set(invocation.HeaderID, id)
	// The function sees the request's headers but not credentials meant
	// for the platform: they are taken out of the request's own map (the
	// guard has read the key already; the request is this handler's), which
	// is then shared with the call, read only while the request is served.
	headers := r.Header
	delete(headers, "Authorization")
	delete(headers, "Cookie")
	traceparent, requestID := traceOf(c)
	return &invocation.Invocation{
		Namespace: ns, Function: fn.Name, Body: body, Start: start, Records: version.Spec.Records,
		Req: invocation.WithVersion(&wire.Request{
			InvocationID: id,
			Namespace:    ns,
			Function:     fn.Name,
			Method:       r.Method,
			Path:         path,
			Query:        r.URL.RawQuery,
			Headers:      headers,
			Traceparent:  traceparent,
			RequestID:    requestID,
		}, version),
	}, nil
}

// call runs a sync invocation for an HTTP request, records it, and sets
// the Hearth-* headers from its outcome.
func (g *Gateway) call(c echo.Context, inv *invocation.Invocation) (*wire.Response, []byte, error) {
	out := g.Execute(c.Request().Context(), inv, scheduler.Sync)
	g.recordSync(inv, &out, "sync")
	h := c.Response().Header()
	if out.Placed != "" {
		h.Set("Hearth-Placement", out.Placed)
	}
	if out.Resp != nil {
		h.Set(invocation.HeaderColdStart, strconv.FormatBool(out.Resp.Cold))
		h.Set("Server-Timing", serverTiming(&out))
		if out.Resp.Runner != "" {
			h.Set("Hearth-Runner", out.Resp.Runner)
		}
	}
	if out.Err != nil {
		if out.Err.Status == http.StatusTooManyRequests || out.Err.Status == http.StatusServiceUnavailable {
			h.Set("Retry-After", "1")
		}
		return nil, nil, out.Err
	}
	return out.Resp, out.Output, nil
}

// recordSync hands the record (and log) of a finished sync call to the
// writer, so the caller does not wait for it, unless the function's
// records policy leaves it out.
func (g *Gateway) recordSync(inv *invocation.Invocation, out *invocation.Outcome, mode string) {
	if !registry.RecordsSync(inv.Records, out.Err != nil) {
		return
	}
	var logs []byte
	if out.Resp != nil && out.Resp.Stderr != "" {
		logs = []byte(out.Resp.Stderr)
	}
	g.writer.Submit(records.Sync(inv, out, mode), logs)
}

// serverTiming is the Server-Timing header of a call that a runner
// answered: queue (gateway, NATS and waiting), init and run, in ms.
func serverTiming(out *invocation.Outcome) string {
	queue := out.Total - time.Duration(out.Resp.InitMicros+out.Resp.RunMicros)*time.Microsecond
	b := make([]byte, 0, 64)
	b = append(b, "queue;dur="...)
	b = strconv.AppendFloat(b, invocation.Ms(queue), 'f', 3, 64)
	b = append(b, ", init;dur="...)
	b = strconv.AppendFloat(b, float64(out.Resp.InitMicros)/1000, 'f', 3, 64)
	b = append(b, ", run;dur="...)
	b = strconv.AppendFloat(b, float64(out.Resp.RunMicros)/1000, 'f', 3, 64)
	return string(b)
}

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

// accept queues an async invocation durably and answers 202 once the
// stream has it.
func (g *Gateway) accept(c echo.Context, inv *invocation.Invocation, mode string) error {
	callback := c.Request().Header.Get("Hearth-Callback-Url")
	if callback != "" {
		if err := async.CheckCallbackURL(callback); err != nil {
			return err
		}
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		id, err := async.IdempotentID(inv.Namespace, inv.Function, key)
		if err != nil {
			return err
		}
		inv.Req.InvocationID = id
		c.Response().Header().Set(invocation.HeaderID, id)
	}
	id, err := g.queue.Enqueue(c.Request().Context(), inv, mode, callback, "")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/invocations/"+id)
	body := wire.AppendJSONString(append(make([]byte, 0, 64), `{"id":`...), id)
	body = append(body, `,"status":"`+records.StatusQueued+`"}`+"\n"...)
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, body)
}
