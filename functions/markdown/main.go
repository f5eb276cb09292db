// Command markdown is Hearth's markdown example, a Go reactor built with
// sdk/guest: it renders Markdown (CommonMark with GitHub's tables,
// strikethrough, task lists and autolinks, through
// github.com/yuin/goldmark) to HTML, served through /fn/markdown with
// Content-Type text/html.
//
//	curl --data-binary @README.md http://127.0.0.1:8080/fn/markdown > readme.html
//	curl --data-binary @README.md 'http://127.0.0.1:8080/fn/markdown?fragment=1'
//
// A page is a whole HTML document, titled by its first heading; with
// ?fragment=1 the answer is the rendered HTML alone. Raw HTML in the input
// is left out (goldmark's default), so a page is safe to serve.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o markdown.wasm .
package main

import (
	"net/url"

	"github.com/hearthfn/hearth/functions/markdown/render"
	"github.com/hearthfn/hearth/sdk/guest"
)

func init() { guest.Handle(handle) }

func handle(req guest.Request) (guest.Response, error) {
	q, _ := url.ParseQuery(req.Query)
	var out []byte
	var err error
	if q.Get("fragment") != "" && q.Get("fragment") != "0" {
		out, err = render.Fragment(req.Body)
	} else {
		out, err = render.Page(req.Body)
	}
	if err != nil {
		return guest.Response{}, err
	}
	return guest.Response{
		Header: guest.Header{"Content-Type": {"text/html; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}},
		Body:   out,
	}, nil
}

func main() {}
