package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// faasFunction is the part of OpenFaaS's FunctionStatus the tests read.
type faasFunction struct {
	Name              string            `json:"name"`
	Image             string            `json:"image"`
	Namespace         string            `json:"namespace"`
	EnvVars           map[string]string `json:"envVars"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	Limits            struct{ Memory string }
	InvocationCount   float64   `json:"invocationCount"`
	Replicas          int       `json:"replicas"`
	AvailableReplicas int       `json:"availableReplicas"`
	CreatedAt         time.Time `json:"createdAt"`
}

// TestOpenFaaSFunctionRoute: /function/{name}[/{path}] is /fn/: the same
// answer as Hearth's routes, the method, path and query reaching the
// function, X-Call-Id naming the invocation, and NAME.NAMESPACE or
// ?namespace= choosing the namespace; bad names and namespaces are 400,
// unknown functions 404, all in the JSON error shape.
func TestOpenFaaSFunctionRoute(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	if resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/greet?namespace=team", "application/wasm", stacktest.ExampleWasm(t, "hello")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy into team: %d %s", resp.StatusCode, body)
	}
	if resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/penv?namespace=team", "application/wasm", testmodules.PrintEnv); resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy printenv: %d %s", resp.StatusCode, body)
	}
	stacktest.Call(t, http.MethodPut, base+"/v1/functions/greet/aliases/prod?namespace=team", "application/json", []byte(`{"version":1}`))

	// The same answer as Hearth's own routes.
	_, want := stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "", []byte("faas"))
	for _, path := range []string{"/function/hello", "/function/hello.default", "/function/hello/", "/function/greet.team", "/function/greet?namespace=team", "/function/greet:prod.team", "/function/greet@1.team"} {
		want := string(want)
		if strings.Contains(path, "greet") {
			want = "Hello, faas!\n"
		}
		resp, body := stacktest.Call(t, http.MethodPost, base+path, "text/plain", []byte("faas"))
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("POST %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
			continue
		}
		id := resp.Header.Get("Hearth-Invocation-Id")
		if id == "" || resp.Header.Get("X-Call-Id") != id {
			t.Errorf("POST %s: X-Call-Id %q, Hearth-Invocation-Id %q", path, resp.Header.Get("X-Call-Id"), id)
		}
		if resp.Header.Get("Hearth-Request-Id") == "" || resp.Header.Get("Server-Timing") == "" || resp.Header.Get("Hearth-Cold-Start") == "" {
			t.Errorf("POST %s: Hearth headers missing: %v", path, resp.Header)
		}
	}

	// Method, path and query reach the function, as on /fn/.
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp, body := stacktest.Call(t, method, base+"/function/penv.team/a/b?x=1&y=2", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s /function/penv.team/a/b: %d %s", method, resp.StatusCode, body)
		}
		env, err := testmodules.DecodeEnv(body)
		if err != nil {
			t.Fatal(err)
		}
		if env["REQUEST_METHOD"] != method || env["PATH_INFO"] != "/a/b" || env["QUERY_STRING"] != "x=1&y=2" {
			t.Errorf("%s: the function saw method %q, path %q, query %q", method, env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"])
		}
	}

	// Bad input.
	for _, tc := range []struct {
		method, path  string
		status        int
		code, mention string
	}{
		{"POST", "/function/nope", 404, "function_not_found", `"nope"`},
		{"POST", "/function/greet", 404, "function_not_found", `namespace "default"`},
		{"POST", "/function/nope.team", 404, "function_not_found", `namespace "team"`},
		{"POST", "/function/greet:staging.team", 404, "alias_not_found", "staging"},
		{"POST", "/function/greet@7.team", 404, "version_not_found", "7"},
		{"POST", "/function/Bad_Name", 400, "invalid_name", "Bad_Name"},
		{"POST", "/function/greet.Bad_NS", 400, "invalid_name", "namespace"},
		{"POST", "/function/greet.", 400, "invalid_name", "namespace"},
		{"POST", "/function/.team", 400, "invalid_name", "function name"},
		{"POST", "/function/greet.team.more", 400, "invalid_name", "greet.team"},
		{"POST", "/function/greet.team?namespace=other", 400, "invalid_parameter", `"other"`},
		{"POST", "/function/greet?namespace=Bad_NS", 400, "invalid_name", "namespace"},
		{"GET", "/function/", 404, "not_found", "no such route"},
		{"GET", "/async-function/hello", 405, "method_not_allowed", ""},
	} {
		resp, body := stacktest.Call(t, tc.method, base+tc.path, "", []byte("x"))
		stacktest.WantError(t, resp, body, tc.status, tc.code)
		if !strings.Contains(stacktest.ErrorMessage(body), tc.mention) {
			t.Errorf("%s %s: message %q does not mention %q", tc.method, tc.path, stacktest.ErrorMessage(body), tc.mention)
		}
	}
	// A header that names another namespace than the name's is refused too.
	resp, body := stacktest.Do(t, http.MethodPost, base+"/function/greet.team", "", nil, map[string]string{"Hearth-Namespace": "default"})
	stacktest.WantError(t, resp, body, 400, "invalid_parameter")
}

// TestOpenFaaSAsyncFunction: /async-function/{name} queues the call (202
// with X-Call-Id, the invocation's id) and POSTs the result to
// X-Callback-Url; bad callback URLs and unknown functions are refused
// before anything is queued.
func TestOpenFaaSAsyncFunction(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	type delivery struct{ id, status, path, body string }
	got := make(chan delivery, 4)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("Hearth-Invocation-Id"), r.Header.Get("Hearth-Status"), r.URL.Path, string(body)}
	}))
	defer cb.Close()

	resp, body := stacktest.Do(t, http.MethodPost, base+"/async-function/hello", "text/plain", []byte("later"), map[string]string{"X-Callback-Url": cb.URL + "/done"})
	var accepted struct{ ID, Status string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &accepted) != nil || accepted.ID == "" || accepted.Status != "queued" {
		t.Fatalf("POST /async-function/hello: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Call-Id") != accepted.ID || resp.Header.Get("Location") != "/v1/invocations/"+accepted.ID {
		t.Fatalf("X-Call-Id %q, Location %q for invocation %s", resp.Header.Get("X-Call-Id"), resp.Header.Get("Location"), accepted.ID)
	}
	select {
	case d := <-got:
		if d.id != accepted.ID || d.status != "succeeded" || d.path != "/done" || d.body != "Hello, later!\n" {
			t.Fatalf("callback %+v, want the result of %s at /done", d, accepted.ID)
		}
	case <-time.After(waitFor):
		t.Fatal("the callback was not called")
	}
	rec := stacktest.WaitStatus(t, base, accepted.ID, "succeeded")
	if rec.Mode != "async" || rec.Callback == nil || rec.Callback.URL != cb.URL+"/done" {
		t.Fatalf("record %+v", rec)
	}

	// NAME.NAMESPACE and a path after the name, without a callback.
	if resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/penv?namespace=team", "application/wasm", testmodules.PrintEnv); resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy printenv: %d %s", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodPost, base+"/async-function/penv.team/x/y?q=1", "", nil)
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &accepted) != nil {
		t.Fatalf("POST /async-function/penv.team/x/y: %d %s", resp.StatusCode, body)
	}
	if rec := stacktest.WaitStatus(t, base, accepted.ID, "succeeded"); rec.Namespace != "team" || rec.Function != "penv" {
		t.Fatalf("record %+v", rec)
	}
	_, out := stacktest.Call(t, http.MethodGet, base+"/v1/invocations/"+accepted.ID+"/result", "", nil)
	env, err := testmodules.DecodeEnv(out)
	if err != nil {
		t.Fatal(err)
	}
	if env["PATH_INFO"] != "/x/y" || env["QUERY_STRING"] != "q=1" {
		t.Fatalf("the async call saw path %q, query %q", env["PATH_INFO"], env["QUERY_STRING"])
	}

	// Bad input: nothing is queued.
	queuedBefore := invocationsOf(t, base, "hello")
	for _, tc := range []struct {
		path          string
		header        map[string]string
		status        int
		code, mention string
	}{
		{"/async-function/hello", map[string]string{"X-Callback-Url": "ftp://example/x"}, 400, "invalid_callback_url", "X-Callback-Url"},
		{"/async-function/hello", map[string]string{"X-Callback-Url": "not a url"}, 400, "invalid_callback_url", "X-Callback-Url"},
		{"/async-function/hello", map[string]string{"X-Callback-Url": cb.URL, "Hearth-Callback-Url": cb.URL + "/other"}, 400, "invalid_callback_url", "different"},
		{"/async-function/nope", nil, 404, "function_not_found", `"nope"`},
		{"/async-function/hello.Bad_NS", nil, 400, "invalid_name", "namespace"},
		{"/async-function/Bad_Name", nil, 400, "invalid_name", "Bad_Name"},
	} {
		resp, body := stacktest.Do(t, http.MethodPost, base+tc.path, "", []byte("x"), tc.header)
		stacktest.WantError(t, resp, body, tc.status, tc.code)
		if !strings.Contains(stacktest.ErrorMessage(body), tc.mention) {
			t.Errorf("%s %v: message %q does not mention %q", tc.path, tc.header, stacktest.ErrorMessage(body), tc.mention)
		}
	}
	if n := invocationsOf(t, base, "hello"); n != queuedBefore {
		t.Fatalf("refused async calls queued invocations: %d, before %d", n, queuedBefore)
	}
}

// invocationsOf counts the records of a function of namespace default.
func invocationsOf(t *testing.T, base, fn string) int {
	t.Helper()
	_, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/"+fn+"/invocations?limit=1000", "", nil)
	var out struct{ Invocations []json.RawMessage }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return len(out.Invocations)
}

// TestOpenFaaSSystemRoutes: /system/functions and /system/function/{name}
// list and show functions in OpenFaaS's shape from the registry, the
// runner table and the invocation counter; ?namespace= picks the
// namespace; /system/info names the provider; deploying or deleting
// through /system/functions is refused with the route to use, and
// changes nothing.
func TestOpenFaaSSystemRoutes(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	resp, body := stacktest.DeployWithSpec(t, base, "rev?namespace=team", stacktest.ExampleWasm(t, "reverse"),
		`{"description":"reverses","memory_mb":64,"env":{"MODE":"fast"},"labels":{"tier":"web"}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy rev: %d %s", resp.StatusCode, body)
	}
	for range 3 {
		if resp, body := stacktest.Call(t, http.MethodPost, base+"/function/rev.team", "", []byte("abc")); resp.StatusCode != http.StatusOK || string(body) != "cba" {
			t.Fatalf("call rev: %d %s", resp.StatusCode, body)
		}
	}

	get := func(path string, v any) {
		t.Helper()
		resp, body := stacktest.Call(t, http.MethodGet, base+path, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	var list []faasFunction
	get("/system/functions", &list)
	names := map[string]faasFunction{}
	for _, f := range list {
		names[f.Name] = f
	}
	for _, ex := range []string{"echo", "hello", "reverse", "reverse-c"} {
		f, ok := names[ex]
		if !ok || f.Namespace != "default" || !strings.HasPrefix(f.Image, "sha256:") || f.Labels == nil || f.Annotations["hearth/version"] != "1" {
			t.Errorf("the default namespace's %s: %+v (listed %v)", ex, f, ok)
		}
	}
	if _, ok := names["rev"]; ok {
		t.Error("GET /system/functions lists team's rev in the default namespace")
	}

	// A function of namespace team: every field from its spec and calls;
	// replicas once the runner's heartbeat reports the warm instance.
	var team []faasFunction
	testutil.Eventually(t, 10*time.Second, func() error {
		get("/system/functions?namespace=team", &team)
		if len(team) != 1 || team[0].Replicas < 1 || team[0].AvailableReplicas < 1 {
			return fmt.Errorf("team's functions %+v, want rev with a warm instance on an available runner", team)
		}
		return nil
	})
	f := team[0]
	if f.Name != "rev" || f.Namespace != "team" || f.InvocationCount != 3 || f.EnvVars["MODE"] != "fast" || f.Labels["tier"] != "web" ||
		f.Annotations["hearth/description"] != "reverses" || f.Annotations["hearth/abi"] != "reactor" || f.Limits.Memory != "64Mi" || f.CreatedAt.IsZero() {
		t.Errorf("team's rev: %+v", f)
	}
	var one faasFunction
	get("/system/function/rev?namespace=team", &one)
	if one.Name != "rev" || one.Image != f.Image || one.InvocationCount != 3 {
		t.Errorf("GET /system/function/rev: %+v, listed as %+v", one, f)
	}
	var empty []faasFunction
	if get("/system/functions?namespace=nobody-here", &empty); empty == nil || len(empty) != 0 {
		t.Errorf("an empty namespace lists %v, want []", empty)
	}

	var info struct {
		Provider struct {
			Provider, Orchestration string
			Version                 struct{ SHA, Release string }
		}
		Version struct{ SHA, Release string }
		Arch    string
	}
	get("/system/info", &info)
	if info.Provider.Provider != "hearth" || info.Provider.Orchestration != "hearth" || info.Provider.Version.Release == "" || info.Version.Release == "" || info.Arch != runtime.GOARCH {
		t.Errorf("GET /system/info: %+v", info)
	}

	// Bad input.
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, mention      string
	}{
		{"GET", "/system/function/nope", "", 404, "function_not_found", `"nope"`},
		{"GET", "/system/function/rev", "", 404, "function_not_found", `namespace "default"`},
		{"GET", "/system/function/Bad_Name", "", 400, "invalid_name", "Bad_Name"},
		{"GET", "/system/function/rev.team", "", 400, "invalid_name", "rev.team"},
		{"GET", "/system/functions?namespace=Bad_NS", "", 400, "invalid_name", "namespace"},
		{"GET", "/system/function/rev?namespace=-x", "", 400, "invalid_name", "namespace"},
		{"POST", "/system/functions", `{"service":"new-fn","image":"ghcr.io/x/y:1"}`, 405, "method_not_allowed", "PUT /v1/functions/{name}"},
		{"PUT", "/system/functions", `{"service":"rev","image":"ghcr.io/x/y:2"}`, 405, "method_not_allowed", "PUT /v1/functions/{name}"},
		{"DELETE", "/system/functions", `{"functionName":"hello"}`, 405, "method_not_allowed", "DELETE /v1/functions/{name}"},
		{"PATCH", "/system/functions", `{}`, 405, "method_not_allowed", ""},
	} {
		resp, body := stacktest.Call(t, tc.method, base+tc.path, "application/json", []byte(tc.body))
		stacktest.WantError(t, resp, body, tc.status, tc.code)
		if !strings.Contains(stacktest.ErrorMessage(body), tc.mention) {
			t.Errorf("%s %s: message %q does not mention %q", tc.method, tc.path, stacktest.ErrorMessage(body), tc.mention)
		}
		if tc.status == http.StatusMethodNotAllowed && !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, resp.Header.Get("Allow"))
		}
	}
	var after []faasFunction
	get("/system/functions", &after)
	if len(after) != len(list) {
		t.Fatalf("refused deploys and deletes changed the list: %d functions, before %d", len(after), len(list))
	}
	if resp, _ := stacktest.Call(t, http.MethodGet, base+"/v1/functions/new-fn", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /system/functions created new-fn: %d", resp.StatusCode)
	}
}

// TestOpenFaaSAuth: the OpenFaaS routes are guarded like the routes they
// mirror, and NAME.NAMESPACE is the namespace the key must cover.
func TestOpenFaaSAuth(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/greet?namespace=team", "application/wasm", stacktest.ExampleWasm(t, "hello"))
	_, kTeam := a.key("team-invoke", "team", "invoke")
	_, kDefault := a.key("default-invoke", "default", "invoke")
	_, kTeamRead := a.key("team-read", "team", "read")
	for _, tc := range []struct {
		what, key, method, path string
		status                  int
		code                    string
	}{
		{"no key", "", "POST", "/function/greet.team", 401, "unauthorized"},
		{"no key, async", "", "POST", "/async-function/greet.team", 401, "unauthorized"},
		{"no key, list", "", "GET", "/system/functions?namespace=team", 401, "unauthorized"},
		{"no key, info", "", "GET", "/system/info", 401, "unauthorized"},
		{"no key, deploy", "", "POST", "/system/functions", 401, "unauthorized"},
		{"team's key on team's function", kTeam, "POST", "/function/greet.team", 200, ""},
		{"team's key, ?namespace=", kTeam, "POST", "/function/greet?namespace=team", 200, ""},
		{"team's key, async", kTeam, "POST", "/async-function/greet.team", 202, ""},
		{"team's key without the namespace", kTeam, "POST", "/function/greet", 403, "forbidden"},
		{"default's key on team's function", kDefault, "POST", "/function/greet.team", 403, "forbidden"},
		{"default's key on team's function, async", kDefault, "POST", "/async-function/greet.team", 403, "forbidden"},
		{"a read key calls", kTeamRead, "POST", "/function/greet.team", 403, "forbidden"},
		{"a read key lists", kTeamRead, "GET", "/system/functions?namespace=team", 200, ""},
		{"a read key of team lists default", kTeamRead, "GET", "/system/functions", 403, "forbidden"},
		{"an invoke key lists", kTeam, "GET", "/system/functions?namespace=team", 403, "forbidden"},
		{"an invoke key reads info", kTeam, "GET", "/system/info", 200, ""},
		{"an invoke key deploys", kTeam, "POST", "/system/functions?namespace=team", 403, "forbidden"},
		{"the admin deploys", testAdminKey, "POST", "/system/functions", 405, "method_not_allowed"},
	} {
		resp, body := a.call(tc.key, tc.method, tc.path, "", []byte("x"))
		if tc.code != "" {
			if resp.StatusCode != tc.status {
				t.Errorf("%s: %d %.200s, want %d", tc.what, resp.StatusCode, body, tc.status)
				continue
			}
			stacktest.WantError(t, resp, body, tc.status, tc.code)
		} else if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %.200s, want %d", tc.what, resp.StatusCode, body, tc.status)
		}
	}
	var e struct{ Error struct{ Message string } }
	_, body := a.call(kDefault, "POST", "/function/greet.team", "", nil)
	if json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error.Message, `"team"`) {
		t.Errorf("the refusal does not name the namespace: %s", body)
	}
}
