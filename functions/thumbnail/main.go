// Command thumbnail is Hearth's image example, a Go reactor built with
// sdk/guest: it shrinks a PNG or JPEG to a PNG thumbnail whose longer side
// is ?size= pixels (default 128, at most 2048), served with Content-Type
// image/png.
//
//	curl --data-binary @photo.png 'http://127.0.0.1:8080/fn/thumbnail?size=64' > thumb.png
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o thumbnail.wasm .
package main

import (
	"net/url"
	"strconv"

	"github.com/hearthfn/hearth/functions/thumbnail/thumb"
	"github.com/hearthfn/hearth/sdk/guest"
)

func init() { guest.Handle(handle) }

func handle(req guest.Request) (guest.Response, error) {
	q, _ := url.ParseQuery(req.Query)
	size := 128
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 2048 {
			return text(400, "size="+s+": give 1 to 2048 pixels\n"), nil
		}
		size = n
	}
	if len(req.Body) == 0 {
		return text(400, thumb.ErrEmpty.Error()+"\n"), nil
	}
	out, err := thumb.Thumbnail(req.Body, size)
	if err != nil {
		return text(400, err.Error()+"\n"), nil
	}
	return guest.Response{Header: guest.Header{"Content-Type": {"image/png"}}, Body: out}, nil
}

func text(status int, msg string) guest.Response {
	return guest.Response{Status: status, Header: guest.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(msg)}
}

func main() {}
