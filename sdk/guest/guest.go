package guest

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hearthfn/hearth/internal/abi"
)

// Header holds HTTP-style headers, keyed by canonical name.
type Header map[string][]string

// Get returns the first value of the header name (any case).
func (h Header) Get(name string) string {
	if v := h[canonical(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of name.
func (h Header) Set(name, value string) { h[canonical(name)] = []string{value} }

// Request is one invocation.
type Request struct {
	Method string
	Path   string
	Query  string
	Header Header
	Body   []byte
}

// Response is what the handler answers. A zero Status means 200.
type Response struct {
	Status int
	Header Header
	Body   []byte
}

// Handler handles one invocation. An error fails the invocation (the
// caller gets a 502 with the error's text).
type Handler func(Request) (Response, error)

var handler Handler

// Handle registers the function's handler; call it from an init function.
func Handle(h Handler) { handler = h }

// Log writes a line to the invocation's log (stderr), which Hearth captures
// per invocation.
func Log(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// parseMeta reads the request line and headers the host sends:
// "METHOD PATH[?QUERY]\n" then "Name: value\n" lines.
func parseMeta(meta string) Request {
	req := Request{Method: "POST", Path: "/"}
	line, rest, _ := strings.Cut(meta, "\n")
	if method, target, ok := strings.Cut(line, " "); ok {
		req.Method = method
		req.Path, req.Query, _ = strings.Cut(target, "?")
	}
	n := strings.Count(rest, "\n") + 1
	req.Header = make(Header, n)
	// One backing array for the first value of every header: one
	// allocation, not one per header. Each slice's capacity is 1, so a
	// second value of the same name moves that header's slice out.
	first := make([]string, n)
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		if name, value, ok := strings.Cut(line, ": "); ok {
			k := canonical(name)
			if v, ok := req.Header[k]; ok {
				req.Header[k] = append(v, value)
				continue
			}
			first[0] = value
			req.Header[k], first = first[:1:1], first[1:]
		}
	}
	return req
}

// encodeResponse writes the response as the host reads it: a CGI-style
// header block with Status first, an empty line, the body.
func encodeResponse(dst []byte, resp Response, err error) []byte {
	dst = dst[:0]
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		dst = append(dst, "Status: 500\n"+abi.ErrorHeader+": "...)
		dst = append(dst, msg...)
		return append(dst, "\n\n"...)
	}
	status := resp.Status
	if status == 0 {
		status = 200
	}
	dst = append(dst, "Status: "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, '\n')
	for name, values := range resp.Header {
		for _, v := range values {
			dst = append(dst, canonical(name)...)
			dst = append(dst, ": "...)
			dst = append(dst, strings.ReplaceAll(v, "\n", " ")...)
			dst = append(dst, '\n')
		}
	}
	dst = append(dst, '\n')
	return append(dst, resp.Body...)
}

// canonical is the canonical MIME form of a header name (content-type →
// Content-Type), without net/textproto, to keep guest modules small.
func canonical(name string) string {
	if isCanonical(name) {
		return name
	}
	b := []byte(name)
	upper := true
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

func isCanonical(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}
