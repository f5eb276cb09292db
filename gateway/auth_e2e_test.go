package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

const testAdminKey = "bootstrap-admin-key-for-tests-0123456789"

// authStack is a dev stack with auth on and the bootstrap admin key.
type authStack struct {
	t    *testing.T
	s    *stack.Stack
	base string
}

func newAuthStack(t *testing.T, cfg gateway.Config) *authStack {
	cfg.Auth, cfg.AdminKey = true, testAdminKey
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: cfg})
	return &authStack{t: t, s: s, base: s.GatewayURL}
}

// call makes a request with key as its bearer token ("" for none).
func (a *authStack) call(key, method, path, ctype string, body []byte) (*http.Response, []byte) {
	a.t.Helper()
	return stacktest.CallAs(a.t, key, method, a.base+path, ctype, body)
}

// must makes a request as the admin and fails the test unless it answers
// want.
func (a *authStack) must(want int, method, path, ctype string, body []byte) []byte {
	a.t.Helper()
	resp, out := a.call(testAdminKey, method, path, ctype, body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	return out
}

// key creates a key and returns its id and the key.
func (a *authStack) key(name, namespace string, scopes ...string) (id, key string) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "scopes": scopes, "namespace": namespace})
	out := a.must(http.StatusCreated, http.MethodPost, "/v1/keys", "application/json", body)
	var k struct{ ID, Key string }
	if err := json.Unmarshal(out, &k); err != nil || k.ID == "" || !strings.HasPrefix(k.Key, "hk_") {
		a.t.Fatalf("key answer %s", out)
	}
	return k.ID, k.Key
}

// submit queues an async call as the admin and waits until it is status.
func (a *authStack) submit(fn, status string) string {
	a.t.Helper()
	out := a.must(http.StatusAccepted, http.MethodPost, "/v1/functions/"+fn+"/invoke?async=true", "", []byte("x"))
	var r struct{ ID string }
	if err := json.Unmarshal(out, &r); err != nil || r.ID == "" {
		a.t.Fatalf("async answer %s", out)
	}
	testutil.Eventually(a.t, 20*time.Second, func() error {
		_, rec := a.call(testAdminKey, http.MethodGet, "/v1/invocations/"+r.ID, "", nil)
		var got struct{ Status string }
		_ = json.Unmarshal(rec, &got)
		if got.Status != status {
			return fmt.Errorf("invocation %s is %q, want %q", r.ID, got.Status, status)
		}
		return nil
	})
	return r.ID
}

// authRow says how to call one route and what each kind of key gets.
type authRow struct {
	url, ctype string
	body       []byte
	need       string // none, read, records, invoke, deploy, admin, cluster
	ok         int    // the right key's status
	// otherNS is the status a key of another namespace gets (0: 403), and
	// otherCheck, when set, checks its answer (a filtered list).
	otherNS    int
	otherCheck func(t *testing.T, body []byte)
}

// TestAuthEveryRoute calls every route of the router with no key, malformed
// keys, a revoked key, a key of the wrong scope, a key of another namespace
// and the right key. The rows are matched to the router's own route list,
// so a new route without a row fails here. Every refusal must change
// nothing: no version, alias, trigger, secret, key or invocation appears or
// goes, and no function runs.
func TestAuthEveryRoute(t *testing.T) {
	a := newAuthStack(t, gateway.Config{MaxAttempts: 1, RetryBase: 10 * time.Millisecond})
	echoWasm := stacktest.ExampleWasm(t, "echo")

	// The objects the routes address, all in namespace default.
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/fn", "application/wasm", echoWasm)
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/victim", "application/wasm", echoWasm)
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/bad", "application/wasm", testmodules.Trap)
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/fn/aliases/prod", "application/json", []byte(`{"version":1}`))
	a.must(http.StatusCreated, http.MethodPost, "/v1/functions/fn/triggers", "application/json", []byte(`{"type":"cron","schedule":"@yearly"}`))
	a.must(http.StatusCreated, http.MethodPut, "/v1/secrets/s1", "application/json", []byte(`{"value":"v1"}`))
	invID := a.submit("fn", "succeeded")
	deadID := a.submit("bad", "dead")

	_, kRead := a.key("read", "default", "read")
	_, kInvoke := a.key("invoke", "default", "invoke")
	_, kDeploy := a.key("deploy", "default", "deploy")
	_, kAdmin := a.key("admin", "default", "admin")
	_, kReadAll := a.key("read-all", "*", "read")
	_, kInvokeAll := a.key("invoke-all", "*", "invoke")
	_, kOther := a.key("other", "other", "admin")
	disposableID, _ := a.key("disposable", "default", "read")
	revokedID, kRevoked := a.key("revoked", "*", "admin")
	a.must(http.StatusNoContent, http.MethodDelete, "/v1/keys/"+revokedID, "", nil)

	notDefault := func(field string) func(t *testing.T, body []byte) {
		return func(t *testing.T, body []byte) {
			var out map[string][]map[string]any
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("answer %s", body)
			}
			for _, e := range out[field] {
				if e["namespace"] == "default" {
					t.Fatalf("a key of namespace other sees %v of namespace default", e)
				}
			}
		}
	}
	rows := map[string]authRow{
		"GET /healthz":    {url: "/healthz", need: "none", ok: 200},
		"GET /readyz":     {url: "/readyz", need: "none", ok: 200},
		"GET /metrics":    {url: "/metrics", need: "cluster", ok: 200},
		"GET /v1/runners": {url: "/v1/runners", need: "cluster", ok: 200},

		// The console's page and assets hold no data: no key (decision 0012).
		"GET /":              {url: "/", need: "none", ok: 200},
		"GET /console/*":     {url: "/console/js/main.js", need: "none", ok: 200},
		"GET /v1/autoscaler": {url: "/v1/autoscaler", need: "read", ok: 200},

		"GET /v1/functions":                         {url: "/v1/functions", need: "read", ok: 200},
		"GET /v1/functions/:name":                   {url: "/v1/functions/fn", need: "read", ok: 200},
		"GET /v1/functions/:name/versions":          {url: "/v1/functions/fn/versions", need: "read", ok: 200},
		"GET /v1/functions/:name/versions/:version": {url: "/v1/functions/fn/versions/1", need: "read", ok: 200},
		"GET /v1/functions/:name/aliases":           {url: "/v1/functions/fn/aliases", need: "read", ok: 200},
		"GET /v1/functions/:name/aliases/:alias":    {url: "/v1/functions/fn/aliases/prod", need: "read", ok: 200},
		"GET /v1/functions/:name/triggers":          {url: "/v1/functions/fn/triggers", need: "read", ok: 200},
		"GET /v1/functions/:name/invocations":       {url: "/v1/functions/fn/invocations", need: "records", ok: 200},
		"GET /v1/functions/:name/logs":              {url: "/v1/functions/fn/logs", need: "records", ok: 200},
		"GET /v1/secrets":                           {url: "/v1/secrets", need: "read", ok: 200},
		"GET /v1/secrets/:name":                     {url: "/v1/secrets/s1", need: "read", ok: 200},
		"GET /v1/invocations/:id":                   {url: "/v1/invocations/" + invID, need: "records", ok: 200},
		"GET /v1/invocations/:id/result":            {url: "/v1/invocations/" + invID + "/result", need: "records", ok: 200},
		"GET /v1/invocations/:id/logs":              {url: "/v1/invocations/" + invID + "/logs", need: "records", ok: 200},
		"GET /v1/dlq":                               {url: "/v1/dlq", need: "records", ok: 200},

		"POST /v1/functions/:name/invoke": {url: "/v1/functions/fn/invoke", body: []byte("hi"), need: "invoke", ok: 200},
		"ANY /fn/:name":                   {url: "/fn/fn", body: []byte("hi"), need: "invoke", ok: 200},
		"ANY /fn/:name/*":                 {url: "/fn/fn/a/b?q=1", body: []byte("hi"), need: "invoke", ok: 200},
		"POST /v1/dlq/:id/replay":         {url: "/v1/dlq/" + deadID + "/replay", need: "invoke", ok: 202},

		"PUT /v1/functions/:name":                   {url: "/v1/functions/newfn", ctype: "application/wasm", body: echoWasm, need: "deploy", ok: 201},
		"PUT /v1/functions/:name/aliases/:alias":    {url: "/v1/functions/fn/aliases/staging", ctype: "application/json", body: []byte(`{"version":1}`), need: "deploy", ok: 201},
		"DELETE /v1/functions/:name/aliases/:alias": {url: "/v1/functions/fn/aliases/staging", need: "deploy", ok: 204},
		"POST /v1/functions/:name/triggers":         {url: "/v1/functions/fn/triggers", ctype: "application/json", body: []byte(`{"type":"cron","schedule":"@monthly"}`), need: "deploy", ok: 201},
		"DELETE /v1/functions/:name/triggers/:n":    {url: "/v1/functions/fn/triggers/2", need: "deploy", ok: 201},
		"PUT /v1/secrets/:name":                     {url: "/v1/secrets/s2", ctype: "application/json", body: []byte(`{"value":"v2"}`), need: "deploy", ok: 201},
		"DELETE /v1/secrets/:name":                  {url: "/v1/secrets/s2", need: "deploy", ok: 204},
		"DELETE /v1/functions/:name":                {url: "/v1/functions/victim", need: "deploy", ok: 204},

		"POST /v1/keys":       {url: "/v1/keys", ctype: "application/json", body: []byte(`{"name":"made","scopes":["read"],"namespace":"default"}`), need: "admin", ok: 201},
		"GET /v1/keys":        {url: "/v1/keys", need: "admin", ok: 200, otherNS: 200, otherCheck: notDefault("keys")},
		"DELETE /v1/keys/:id": {url: "/v1/keys/" + disposableID, need: "admin", ok: 204, otherNS: 404},
		"GET /v1/audit":       {url: "/v1/audit", need: "admin", ok: 200, otherNS: 200, otherCheck: notDefault("entries")},

		"GET /v1/openapi.json": {url: "/v1/openapi.json", need: "records", ok: 200, otherNS: 200},

		// OpenFaaS compatibility: the rules of the routes they mirror.
		"ANY /function/:name":          {url: "/function/fn", body: []byte("hi"), need: "invoke", ok: 200},
		"ANY /function/:name/*":        {url: "/function/fn/a/b?q=1", body: []byte("hi"), need: "invoke", ok: 200},
		"POST /async-function/:name":   {url: "/async-function/fn", body: []byte("hi"), need: "invoke", ok: 202},
		"POST /async-function/:name/*": {url: "/async-function/fn/a", body: []byte("hi"), need: "invoke", ok: 202},
		"GET /system/functions":        {url: "/system/functions", need: "read", ok: 200},
		"POST /system/functions":       {url: "/system/functions", ctype: "application/json", body: []byte(`{"service":"x","image":"y"}`), need: "deploy", ok: 405},
		"PUT /system/functions":        {url: "/system/functions", ctype: "application/json", body: []byte(`{"service":"x","image":"y"}`), need: "deploy", ok: 405},
		"DELETE /system/functions":     {url: "/system/functions", ctype: "application/json", body: []byte(`{"functionName":"fn"}`), need: "deploy", ok: 405},
		"GET /system/function/:name":   {url: "/system/function/fn", need: "read", ok: 200},
		"GET /system/info":             {url: "/system/info", need: "records", ok: 200, otherNS: 200},
	}
	// The right key, and a key whose scopes fall short ("" when every
	// scope meets the need), for each need.
	right := map[string]string{"none": "", "read": kRead, "records": kInvoke, "invoke": kInvoke, "deploy": kDeploy, "admin": kAdmin, "cluster": kReadAll}
	short := map[string]string{"read": kInvoke, "invoke": kRead, "deploy": kInvoke, "admin": kDeploy, "cluster": kInvokeAll}

	// Every route the router serves has a row, and every row a route.
	type call struct{ method, key string }
	var calls []call
	seen := map[string]bool{}
	for _, r := range a.s.Gateway.Handler().(*echo.Echo).Routes() {
		k := r.Method + " " + r.Path
		if _, ok := rows[k]; !ok {
			k = "ANY " + r.Path
			if _, ok := rows[k]; !ok {
				t.Errorf("route %s %s has no row in TestAuthEveryRoute", r.Method, r.Path)
				continue
			}
		}
		if !seen[k] {
			seen[k] = true
			calls = append(calls, call{strings.Fields(k)[0], k})
		}
	}
	for k := range rows {
		if !seen[k] {
			t.Errorf("row %s matches no route", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// The routes as the gateway lists them carry the same needs.
	for _, r := range a.s.Gateway.Routes() {
		want := map[string]string{"none": "none", "read": "read", "records": "read or invoke", "invoke": "invoke", "deploy": "deploy", "admin": "admin", "cluster": "read"}[rows[r.Method+" "+r.Path].need]
		if r.Need != want {
			t.Errorf("%s %s needs %q, the test's row %q", r.Method, r.Path, r.Need, want)
		}
	}
	methodsOf := func(c call) []string {
		if c.method == "ANY" {
			return []string{http.MethodGet, http.MethodPost}
		}
		return []string{c.method}
	}

	before := snapshot(t, a)
	invocationsBefore := callsOf(t, a, "fn")
	if invocationsBefore == 0 {
		t.Fatal("the metric does not count fn's calls")
	}

	// Every refusal first: none may change anything.
	bad := map[string]string{
		"no key":          "",
		"basic":           "Basic dXNlcjpwYXNz",
		"empty bearer":    "Bearer ",
		"two tokens":      "Bearer a b",
		"wrong length":    "Bearer hk_abc",
		"huge":            "Bearer " + strings.Repeat("x", 100_000),
		"revoked":         "Bearer " + kRevoked,
		"mistyped secret": "Bearer " + kRead[:len(kRead)-1] + flip(kRead[len(kRead)-1]),
		"unknown key id":  "Bearer hk_aaaaaaaaaaaaaaaa_" + kRead[len("hk_")+17:],
	}
	for _, c := range calls {
		row := rows[c.key]
		for _, m := range methodsOf(c) {
			name := m + " " + row.url
			if row.need == "none" {
				for what, h := range bad {
					if resp, body := rawCall(t, a.base, h, m, row.url, row.ctype, row.body); resp.StatusCode != row.ok {
						t.Errorf("%s with %s: %d %.200s, want %d (open route)", name, what, resp.StatusCode, body, row.ok)
					}
				}
				continue
			}
			for what, h := range bad {
				resp, body := rawCall(t, a.base, h, m, row.url, row.ctype, row.body)
				if resp.StatusCode != http.StatusUnauthorized || code(body) != "unauthorized" || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s with %s: %d %.200s, want 401 unauthorized", name, what, resp.StatusCode, body)
				}
			}
			if k := short[row.need]; k != "" {
				if resp, body := a.call(k, m, row.url, row.ctype, row.body); resp.StatusCode != http.StatusForbidden || code(body) != "forbidden" {
					t.Errorf("%s with a key of too few scopes: %d %.200s, want 403 forbidden", name, resp.StatusCode, body)
				}
			}
			want := row.otherNS
			if want == 0 {
				want = http.StatusForbidden
			}
			resp, body := a.call(kOther, m, row.url, row.ctype, row.body)
			if resp.StatusCode != want || (want == http.StatusForbidden && code(body) != "forbidden") {
				t.Errorf("%s with a key of namespace other: %d %.200s, want %d", name, resp.StatusCode, body, want)
			} else if row.otherCheck != nil {
				row.otherCheck(t, body)
			}
		}
	}
	if after := snapshot(t, a); after != before {
		t.Fatalf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if n := callsOf(t, a, "fn"); n != invocationsBefore {
		t.Fatalf("refused requests ran fn: %v invocations, before %v", n, invocationsBefore)
	}

	// Then the right key on every route, in the table's order (creations
	// before their deletions).
	for _, r := range a.s.Gateway.Routes() {
		row := rows[r.Method+" "+r.Path]
		for _, m := range methodsOf(call{method: r.Method}) {
			resp, body := a.call(right[row.need], m, row.url, row.ctype, row.body)
			if resp.StatusCode != row.ok {
				t.Errorf("%s %s with the right key: %d %.300s, want %d", m, row.url, resp.StatusCode, body, row.ok)
			}
		}
	}
}

// callsOf counts the calls of a function of namespace default that the
// gateway has run (hearth_invocations_total, every code).
func callsOf(t *testing.T, a *authStack, fn string) float64 {
	t.Helper()
	text := string(a.must(http.StatusOK, http.MethodGet, "/metrics", "", nil))
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "hearth_invocations_total{") && strings.Contains(line, `function="`+fn+`",namespace="default"`) {
			sum += stacktest.SumSeries(line, "hearth_invocations_total")
		}
	}
	return sum
}

// snapshot is what refused requests must not change, as the admin sees it.
func snapshot(t *testing.T, a *authStack) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"/v1/functions", "/v1/functions/fn/versions", "/v1/functions/fn/aliases", "/v1/functions/fn/triggers", "/v1/secrets", "/v1/keys", "/v1/dlq"} {
		body := a.must(http.StatusOK, http.MethodGet, p, "", nil)
		var v any
		_ = json.Unmarshal(body, &v)
		fmt.Fprintf(&b, "%s=%d ", p, count(v))
	}
	return b.String()
}

// count is the length of the first list in a JSON answer.
func count(v any) int {
	if m, ok := v.(map[string]any); ok {
		for _, x := range m {
			if l, ok := x.([]any); ok {
				return len(l)
			}
		}
	}
	return -1
}

func rawCall(t *testing.T, base, authorization, method, path, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var h map[string]string
	if authorization != "" {
		h = map[string]string{"Authorization": authorization}
	}
	return stacktest.Do(t, method, base+path, ctype, body, h)
}

func code(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
