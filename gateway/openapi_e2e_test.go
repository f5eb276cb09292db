package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/openapi"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// docsOpenAPI is the committed copy of the document.
const docsOpenAPI = "../docs/openapi.json"

var updateOpenAPI = flag.Bool("update", false, "write the served OpenAPI document to docs/openapi.json")

// servedOpenAPI fetches GET /v1/openapi.json from a dev stack.
func servedOpenAPI(t *testing.T, base string) []byte {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/openapi.json", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return body
}

// TestOpenAPIDocument checks the served document against the route table
// both ways (a route missing from the document fails, and so does a path
// or method of the document that no route has), with each operation's
// security, scope, namespace and audit action as the route's rule has
// them; that docs/openapi.json is the same bytes (go test ./gateway/ -run
// TestOpenAPIDocument -update writes it); and that kin-openapi loads and
// validates it as OpenAPI 3.1.
func TestOpenAPIDocument(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	served := servedOpenAPI(t, s.GatewayURL)

	if *updateOpenAPI {
		if err := os.WriteFile(docsOpenAPI, served, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(docsOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, served) {
		t.Errorf("docs/openapi.json differs from GET /v1/openapi.json; write it again with go test ./gateway/ -run TestOpenAPIDocument -update")
	}

	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(served, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	documented := map[string]map[string]any{} // "GET /v1/functions/{name}" → operation
	for path, item := range doc.Paths {
		for field, raw := range item {
			if field == "parameters" || field == "summary" || field == "description" {
				continue // the path item's own fields; the rest are methods
			}
			var op map[string]any
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", field, path, err)
			}
			documented[strings.ToUpper(field)+" "+path] = op
		}
	}
	want := map[string]gateway.RouteInfo{}
	for _, r := range s.Gateway.Routes() {
		methods := []string{r.Method}
		if r.Method == "ANY" {
			methods = openapi.AnyMethods
		}
		for _, m := range methods {
			want[m+" "+openapi.Path(r.Path)] = r
		}
	}
	for k, r := range want {
		op, ok := documented[k]
		if !ok {
			t.Errorf("route %s %s (%s) is not in the document", r.Method, r.Path, k)
			continue
		}
		if got := op["x-hearth-scope"]; got != r.Need {
			t.Errorf("%s: x-hearth-scope %v, the route needs %q", k, got, r.Need)
		}
		if got := op["x-hearth-namespace"]; got != openapi.WhereName(r.Where) {
			t.Errorf("%s: x-hearth-namespace %v, the route's is %q", k, got, openapi.WhereName(r.Where))
		}
		if got, _ := op["x-hearth-audit"].(string); got != r.Action {
			t.Errorf("%s: x-hearth-audit %q, the route's action %q", k, got, r.Action)
		}
		sec, _ := op["security"].([]any)
		if (r.Need == "none") != (len(sec) == 0) {
			t.Errorf("%s: security %v for a route that needs %q", k, op["security"], r.Need)
		}
		responses, _ := op["responses"].(map[string]any)
		for _, status := range []string{"401", "403"} {
			if _, has := responses[status]; has != (r.Need != "none") {
				t.Errorf("%s: response %s documented %v for a route that needs %q", k, status, has, r.Need)
			}
		}
	}
	for k := range documented {
		if _, ok := want[k]; !ok {
			t.Errorf("the document has %s, which no route has", k)
		}
	}

	loader := openapi3.NewLoader()
	loaded, err := loader.LoadFromData(served)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if !loaded.IsOpenAPI31OrLater() {
		t.Fatal("kin-openapi does not read the document as OpenAPI 3.1")
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
}

// TestOpenAPIAuth: with keys on, the document needs a valid key (API.md:
// only /healthz and /readyz need none), and any valid key will do, of any
// scope and any namespace: it describes the API, not a namespace.
func TestOpenAPIAuth(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	_, kInvokeOther := a.key("invoke-other", "other", "invoke")
	_, kRead := a.key("read", "default", "read")
	for _, tc := range []struct {
		what, key string
		status    int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"not a key", "hk_nope", http.StatusUnauthorized},
		{"an invoke key of another namespace", kInvokeOther, http.StatusOK},
		{"a read key", kRead, http.StatusOK},
		{"the admin key", testAdminKey, http.StatusOK},
	} {
		resp, body := a.call(tc.key, http.MethodGet, "/v1/openapi.json", "", nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %.200s, want %d", tc.what, resp.StatusCode, body, tc.status)
			continue
		}
		if tc.status == http.StatusUnauthorized {
			stacktest.WantError(t, resp, body, tc.status, "unauthorized")
		} else if !json.Valid(body) || !bytes.Contains(body, []byte(`"openapi": "3.1.0"`)) {
			t.Errorf("%s: the answer is not the document: %.200s", tc.what, body)
		}
	}
}

// TestOpenAPIResponses validates real answers of the dev stack against
// the document's schemas and headers with kin-openapi: successes, the
// error shape, the Hearth-* headers and the OpenFaaS routes.
func TestOpenAPIResponses(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	doc, err := openapi3.NewLoader().LoadFromData(servedOpenAPI(t, base))
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	stacktest.MustDeploy(t, base, "spec-fn", stacktest.ExampleWasm(t, "reverse"),
		`{"memory_mb":64,"env":{"GREETING":"hi"},"labels":{"team":"a"},"triggers":[{"type":"cron","schedule":"@yearly"}]}`)
	if resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/spec-fn/invoke", "", []byte("abc")); resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		method, path, ctype, body string
		header                    map[string]string
		status                    int
	}{
		{"GET", "/healthz", "", "", nil, 200},
		{"GET", "/readyz", "", "", nil, 200},
		{"GET", "/v1/functions", "", "", nil, 200},
		{"GET", "/v1/functions?limit=0", "", "", nil, 400},
		{"GET", "/v1/functions/spec-fn", "", "", nil, 200},
		{"GET", "/v1/functions/nope", "", "", nil, 404},
		{"GET", "/v1/functions/spec-fn?namespace=Bad_NS", "", "", nil, 400},
		{"GET", "/v1/functions/spec-fn/versions/1", "", "", nil, 200},
		{"GET", "/v1/functions/spec-fn/aliases", "", "", nil, 200},
		{"PUT", "/v1/functions/spec-fn/aliases/prod", "application/json", `{"version":1}`, nil, 201},
		{"GET", "/v1/functions/spec-fn/triggers", "", "", nil, 200},
		{"POST", "/v1/functions/spec-fn/invoke", "", "abc", nil, 200},
		{"POST", "/v1/functions/spec-fn/invoke", "", "abc", map[string]string{"Prefer": "respond-async"}, 202},
		{"POST", "/v1/functions/nope/invoke", "", "abc", nil, 404},
		{"GET", "/v1/functions/spec-fn/invocations", "", "", nil, 200},
		{"GET", "/v1/runners", "", "", nil, 200},
		{"GET", "/v1/autoscaler", "", "", nil, 200},
		{"GET", "/v1/secrets", "", "", nil, 200},
		{"GET", "/v1/keys", "", "", nil, 409},
		{"GET", "/v1/audit", "", "", nil, 200},
		{"GET", "/v1/dlq", "", "", nil, 200},
		{"GET", "/system/functions", "", "", nil, 200},
		{"GET", "/system/function/spec-fn", "", "", nil, 200},
		{"GET", "/system/function/nope", "", "", nil, 404},
		{"GET", "/system/info", "", "", nil, 200},
		{"POST", "/system/functions", "application/json", `{"service":"x","image":"y"}`, nil, 405},
		{"POST", "/async-function/spec-fn", "", "abc", nil, 202},
	} {
		name := tc.method + " " + tc.path
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s: not in the document: %v", name, err)
			continue
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %.300s, want %d", name, resp.StatusCode, body, tc.status)
			continue
		}
		if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 resp.StatusCode,
			Header:                 resp.Header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}); err != nil {
			t.Errorf("%s: the answer does not match the document: %v\n%.500s", name, err, body)
		}
	}
}
