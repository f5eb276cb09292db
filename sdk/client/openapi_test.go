package client_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// recorder is a RoundTripper that notes the method and path of every
// request before it sends it.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent map[string]bool // "GET /v1/functions/x"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent[req.Method+" "+req.URL.EscapedPath()] = true
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// documentedRoutes reads the gateway's OpenAPI document (GET
// /v1/openapi.json, the bytes of docs/openapi.json) into a pattern per
// method and path template.
func documentedRoutes(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, gatewayURL+"/v1/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %s", resp.Status)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[^/]+\\\}`)
	routes := map[string]*regexp.Regexp{}
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "head", "post", "put", "patch", "delete", "options":
			default:
				continue // parameters, summary, description
			}
			re := "^" + param.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$"
			routes[strings.ToUpper(method)+" "+path] = regexp.MustCompile(re)
		}
	}
	if len(routes) < 20 {
		t.Fatalf("the document has %d operations", len(routes))
	}
	return routes
}

// TestClientRoutesInOpenAPI runs every method of the client through a
// recording RoundTripper and fails when one sent a method and path that
// no operation of the OpenAPI document has.
func TestClientRoutesInOpenAPI(t *testing.T) {
	rec := &recorder{next: http.DefaultTransport, sent: map[string]bool{}}
	exercise(t, newClient(rec))
	routes := documentedRoutes(t)
	var sent []string
	for s := range rec.sent {
		sent = append(sent, s)
	}
	sort.Strings(sent)
	used := map[string]bool{}
	for _, s := range sent {
		method, path, _ := strings.Cut(s, " ")
		var match []string
		for op, re := range routes {
			if strings.HasPrefix(op, method+" ") && re.MatchString(path) {
				match = append(match, op)
			}
		}
		if len(match) == 0 {
			t.Errorf("the client sent %s, which the OpenAPI document does not describe", s)
		}
		for _, m := range match {
			used[m] = true
		}
	}
	// The client's surface, by operation: a method dropped from exercise
	// (or a route renamed on one side) shows here.
	for _, op := range []string{
		"PUT /v1/functions/{name}", "GET /v1/functions", "GET /v1/functions/{name}", "DELETE /v1/functions/{name}",
		"POST /v1/functions/{name}/invoke", "GET /v1/functions/{name}/logs", "GET /v1/functions/{name}/invocations",
		"GET /v1/functions/{name}/versions", "GET /v1/functions/{name}/versions/{version}",
		"GET /v1/functions/{name}/aliases", "GET /v1/functions/{name}/aliases/{alias}", "PUT /v1/functions/{name}/aliases/{alias}", "DELETE /v1/functions/{name}/aliases/{alias}",
		"GET /v1/functions/{name}/triggers", "POST /v1/functions/{name}/triggers", "DELETE /v1/functions/{name}/triggers/{n}",
		"GET /v1/invocations/{id}", "GET /v1/invocations/{id}/result", "GET /v1/invocations/{id}/logs",
		"GET /v1/dlq", "POST /v1/dlq/{id}/replay",
		"GET /v1/secrets", "PUT /v1/secrets/{name}", "GET /v1/secrets/{name}", "DELETE /v1/secrets/{name}",
		"POST /v1/keys", "GET /v1/keys", "DELETE /v1/keys/{id}", "GET /v1/audit",
	} {
		if _, ok := routes[op]; !ok {
			t.Errorf("%s is not in the OpenAPI document", op)
		}
		if !used[op] {
			t.Errorf("the client's methods did not call %s", op)
		}
	}
}
