package gateway

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nuid"

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
func (g *Gateway) prepare(c echo.Context, path string) (*invocation, error) {
	start := time.Now()
	ns, fn, version, err := g.resolve(c) // NAME, NAME@VERSION or NAME:ALIAS (aliases.go)
	if err != nil {
		return nil, err
	}
	name := fn.Name
	r := c.Request()
	body, err := readBody(r, int64(g.cfg.MaxPayload))
	if err != nil {
		return nil, err
	}
	id := nuid.Next()
	c.Response().Header().Set(headerInvocationID, id)
	// The function sees the request's headers but not credentials meant
	// for the platform; without any, the request's own map is shared (it
	// is only read, and only while the request is served).
	headers := r.Header
	if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		headers = make(map[string][]string, len(r.Header))
		for k, v := range r.Header {
			if k != "Authorization" && k != "Cookie" {
				headers[k] = v
			}
		}
	}
	return &invocation{
		ns: ns, name: name, fn: fn, body: body, start: start,
		req: withVersion(&wire.Request{
			InvocationID: id,
			Namespace:    ns,
			Function:     name,
			Method:       r.Method,
			Path:         path,
			Query:        r.URL.RawQuery,
			Headers:      headers,
		}, version),
	}, nil
}

// readBody reads an invocation's body, at most limit bytes. With a known
// Content-Length it reads into one buffer of that size (net/http stops the
// body there) instead of growing one as it goes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > limit {
		return readLimited(r.Body, limit, "request body") // chunked, or too large: its error
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, readError(err, "request body")
	}
	return body, nil
}

// withVersion sets what a runner needs to know of the function version.
func withVersion(req *wire.Request, v registry.Version) *wire.Request {
	req.Version = v.Version
	req.Digest = v.DigestHex()
	req.ABI = v.ABI
	req.Concurrency = v.Spec.Concurrency
	req.TimeoutMs = v.Spec.TimeoutMs
	req.MemoryMB = v.Spec.MemoryMB
	req.Env = v.Spec.Env
	return req
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
