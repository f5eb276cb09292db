package gateway

// Trace context: every request continues the caller's trace (a valid
// traceparent header) or starts one (none, or a malformed one: never an
// error), and the answer carries the gateway's span as its traceparent.
// An invocation sends that span to the runner as the parent of its own
// (wire.Request.Traceparent), and its record and log lines carry the
// trace id (internal/tracing).

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/internal/tracing"
)

// headerTraceparent is the traceparent header as net/http keys it.
const headerTraceparent = "Traceparent"

// untraced are the routes whose spans are not exported (they still
// answer with a traceparent): scrapes and probes, which would drown the
// calls in a trace store.
var untraced = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// traceRequests is the middleware of trace context. With export on
// (--otlp-endpoint), the request's span is named by its route and carries
// the function, the invocation id and the status.
func (g *Gateway) traceRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		var parent tracing.SpanContext
		if v := r.Header[headerTraceparent]; len(v) == 1 {
			parent, _ = tracing.Parse(v[0])
		}
		tracer := g.tracer
		if untraced[c.Path()] {
			tracer = nil
		}
		span := tracer.Start(r.Context(), parent, r.Method+" "+c.Path(), tracing.KindServer)
		h := c.Response().Header()
		h[headerTraceparent] = []string{span.Traceparent()}
		err := next(c)
		if !span.Recording() {
			return err
		}
		if err != nil {
			c.Error(err) // the status is known once the error is written
			err = nil
		}
		status := c.Response().Status
		span.String("http.request.method", r.Method)
		span.String("http.route", c.Path())
		span.Int("http.response.status_code", status)
		span.String("hearth.request_id", h.Get(headerRequestID))
		span.String("hearth.invocation_id", h.Get(invocation.HeaderID))
		span.String("hearth.function", c.Param("name"))
		if status >= http.StatusInternalServerError {
			span.Fail(http.StatusText(status))
		}
		span.End()
		return err
	}
}

// traceOf is the traceparent and request id the request's invocation
// carries to the runner: the gateway's span, set by traceRequests.
func traceOf(c echo.Context) (traceparent, requestID string) {
	h := c.Response().Header()
	if v := h[headerTraceparent]; len(v) > 0 {
		traceparent = v[0]
	}
	if v := h[headerRequestID]; len(v) > 0 {
		requestID = v[0]
	}
	return traceparent, requestID
}
