// Command jsontransform is Hearth's JSON transform example, a Go reactor
// built with sdk/guest: it reshapes a JSON array of objects (or one
// object) as the query says, and answers JSON.
//
//	?pick=id,name       keep these fields, in this order
//	?rename=name:title  rename fields (old:new, comma-separated)
//	?sort=-price        sort an array by a field (- for descending)
//	?limit=10           keep the first N items
//
// The steps apply in that order (rename sees the picked names). Input that
// is not JSON, or a query it cannot apply, is a 400 with a JSON error.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o jsontransform.wasm .
package main

import (
	"encoding/json"
	"net/url"

	"github.com/hearthfn/hearth/functions/jsontransform/transform"
	"github.com/hearthfn/hearth/sdk/guest"
)

func init() { guest.Handle(handle) }

func handle(req guest.Request) (guest.Response, error) {
	q, err := url.ParseQuery(req.Query)
	if err != nil {
		return fail(400, "bad query: "+err.Error()), nil
	}
	out, err := transform.Apply(req.Body, transform.ParseOptions(q))
	if err != nil {
		return fail(400, err.Error()), nil
	}
	return guest.Response{Header: guest.Header{"Content-Type": {"application/json"}}, Body: out}, nil
}

// fail is an error answer in the API's JSON error shape.
func fail(status int, msg string) guest.Response {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "bad_input", "message": msg}})
	return guest.Response{Status: status, Header: guest.Header{"Content-Type": {"application/json"}}, Body: append(body, '\n')}
}

func main() {}
