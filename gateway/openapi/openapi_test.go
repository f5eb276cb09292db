package openapi_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/openapi"
)

func TestPath(t *testing.T) {
	for in, want := range map[string]string{
		"/healthz":                              "/healthz",
		"/v1/functions/:name":                   "/v1/functions/{name}",
		"/v1/functions/:name/aliases/:alias":    "/v1/functions/{name}/aliases/{alias}",
		"/fn/:name/*":                           "/fn/{name}/{path}",
		"/function/:name/*":                     "/function/{name}/{path}",
		"/v1/functions/:name/versions/:version": "/v1/functions/{name}/versions/{version}",
	} {
		if got := openapi.Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocumentRefusesUndescribed: a route without an operation, and an
// operation without a route, are errors that name them.
func TestDocumentRefusesUndescribed(t *testing.T) {
	_, err := openapi.Document([]openapi.Route{
		{Method: "GET", Path: "/healthz", Need: "none"},
		{Method: "PATCH", Path: "/v1/new-route", Need: "read", Where: auth.InRequest},
	})
	if err == nil {
		t.Fatal("Document accepted a route without an operation")
	}
	for _, mention := range []string{"route PATCH /v1/new-route has no operation", "operation GET /readyz", "matches no route"} {
		if !strings.Contains(err.Error(), mention) {
			t.Errorf("error %q does not say %q", err, mention)
		}
	}
	if _, err := openapi.Document([]openapi.Route{{Method: "GET", Path: "/healthz", Need: "superuser"}}); err == nil || !strings.Contains(err.Error(), `unknown need "superuser"`) {
		t.Errorf("a route of an unknown need: %v", err)
	}
}

// TestCommittedDocumentIsValid loads docs/openapi.json (the served bytes:
// the gateway's TestOpenAPIDocument) with kin-openapi and validates it as
// OpenAPI 3.1, its schemas as JSON Schema 2020-12; and checks that every
// operation has an id, a unique one, and answers in the error shape.
func TestCommittedDocumentIsValid(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, ok := ids[op.OperationID]; ok {
				t.Errorf("%s and %s have the operationId %s", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			def := op.Responses.Default()
			if def == nil || def.Value == nil || def.Value.Content.Get("application/json") == nil {
				t.Errorf("%s has no default answer in the error shape", where)
				continue
			}
			if got := def.Value.Content.Get("application/json").Schema.Ref; got != "#/components/schemas/Error" {
				t.Errorf("%s: the default answer is %q, not the Error schema", where, got)
			}
		}
	}

	// The error shape is the one of API.md.
	errSchema := doc.Components.Schemas["Error"].Value
	for _, body := range []string{
		`{"error":{"code":"function_not_found","message":"no function"}}`,
		`{"error":{"code":"function_failed","message":"trap","stderr":"panic"}}`,
	} {
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		if err := errSchema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range []string{`{"error":"x"}`, `{"error":{"code":"x"}}`, `{"message":"x"}`, `{"error":{"code":"x","message":"y","extra":1}}`} {
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		if err := errSchema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err == nil {
			t.Errorf("the Error schema accepts %s", body)
		}
	}
}
