// Package guest lets a Go program be a Hearth function with the reactor
// ABI: the instance stays alive between calls, so a warm call costs
// microseconds instead of a Go runtime start-up.
//
//	package main
//
//	import "github.com/hearthfn/hearth/sdk/guest"
//
//	func init() {
//		guest.Handle(func(req guest.Request) (guest.Response, error) {
//			return guest.Response{Body: req.Body}, nil
//		})
//	}
//
//	func main() {}
//
// [Handle] registers the [Handler] that answers every call with a
// [Response]; an error it returns fails the call. [Log] writes to the log
// of the call that is running.
//
// Build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o fn.wasm .
// The ABI underneath is described in docs/abi.md; internal/abi names its
// exports.
package guest
