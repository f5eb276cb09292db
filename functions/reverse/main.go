// Command reverse is Hearth's Go reactor example: it answers with its input
// reversed. A warm call reuses the instance, so it costs microseconds.
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o reverse.wasm .
package main

import "github.com/hearthfn/hearth/sdk/guest"

func init() {
	guest.Handle(func(req guest.Request) (guest.Response, error) {
		out := make([]byte, len(req.Body))
		for i, b := range req.Body {
			out[len(out)-1-i] = b
		}
		return guest.Response{Body: out}, nil
	})
}

func main() {}
