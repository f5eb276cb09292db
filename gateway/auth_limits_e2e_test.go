package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestKeyRateLimit: past its rate_limit a key gets 429 rate_limited with
// Retry-After; another key is not affected, and tokens come back.
func TestKeyRateLimit(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	body, _ := json.Marshal(map[string]any{"name": "slow", "scopes": []string{"invoke"}, "namespace": "default", "rate_limit": map[string]any{"rps": 1, "burst": 2}})
	var slow struct{ Key string }
	_ = json.Unmarshal(a.must(http.StatusCreated, http.MethodPost, "/v1/keys", "application/json", body), &slow)
	_, fast := a.key("fast", "default", "invoke")

	limited := 0
	for range 5 {
		resp, out := a.call(slow.Key, http.MethodPost, "/v1/functions/hello/invoke", "", []byte("x"))
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			stacktest.WantError(t, resp, out, 429, "rate_limited")
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
	}
	if limited < 2 {
		t.Fatalf("%d of 5 calls limited at 1/s with a burst of 2", limited)
	}
	for range 5 {
		if resp, out := a.call(fast, http.MethodPost, "/v1/functions/hello/invoke", "", []byte("x")); resp.StatusCode != http.StatusOK {
			t.Fatalf("another key is limited: %d %s", resp.StatusCode, out)
		}
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if resp, _ := a.call(slow.Key, http.MethodPost, "/v1/functions/hello/invoke", "", []byte("x")); resp.StatusCode != http.StatusOK {
			return errTry(resp.StatusCode)
		}
		return nil
	})
	if n := stacktest.MetricSum(t, a.s, `hearth_auth_refused_total{reason="rate_limited"}`); n < 2 {
		t.Fatalf("hearth_auth_refused_total{reason=rate_limited} = %v", n)
	}
}

type errTry int

func (e errTry) Error() string { return "status " + strconv.Itoa(int(e)) }

// TestFunctionRateLimit: a spec's rate_limit caps the function's calls on
// the gateway, sync, async and /fn/ alike; a new version's limit applies.
func TestFunctionRateLimit(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "capped", stacktest.ExampleWasm(t, "echo"), `{"rate_limit":{"rps":0.5,"burst":3}}`)
	codes := map[int]int{}
	for _, path := range []string{"/v1/functions/capped/invoke", "/v1/functions/capped/invoke?async=true", "/fn/capped", "/v1/functions/capped/invoke", "/fn/capped/x"} {
		resp, out := stacktest.Call(t, http.MethodPost, base+path, "", []byte("x"))
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			stacktest.WantError(t, resp, out, 429, "rate_limited")
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if codes[429] != 2 || codes[200]+codes[202] != 3 {
		t.Fatalf("answers %v, want 3 accepted then 2 refused", codes)
	}
	// Other functions are not limited.
	if resp, out := stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "", nil); resp.StatusCode != 200 {
		t.Fatalf("hello: %d %s", resp.StatusCode, out)
	}
	// A version that raises the limit takes over at once.
	stacktest.MustDeploy(t, base, "capped", stacktest.ExampleWasm(t, "echo"), `{"rate_limit":{"rps":1000,"burst":1000}}`)
	if resp, out := stacktest.Call(t, http.MethodPost, base+"/v1/functions/capped/invoke", "", nil); resp.StatusCode != 200 {
		t.Fatalf("after raising the limit: %d %s", resp.StatusCode, out)
	}
	for _, spec := range []string{`{"rate_limit":{"rps":0}}`, `{"rate_limit":{"rps":-1}}`, `{"rate_limit":{"rps":1,"burst":-2}}`, `{"rate_limit":{"rps":"fast"}}`, `{"rate_limit":5}`} {
		resp, out := stacktest.DeployWithSpec(t, base, "capped", stacktest.ExampleWasm(t, "echo"), spec)
		stacktest.WantError(t, resp, out, 400, "invalid_spec")
	}
	if n := stacktest.MetricSum(t, s, `hearth_function_rate_limited_total{function="capped",namespace="default"}`); n != 2 {
		t.Fatalf("hearth_function_rate_limited_total = %v, want 2", n)
	}
}

// TestAudit: every change is in the audit log, newest first, with who,
// what, where and how it ended; refused attempts too; reads are not; a
// namespace's admin reads only its namespace's entries; only admin keys
// read it.
func TestAudit(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	echoWasm := stacktest.ExampleWasm(t, "echo")
	deployID, kDeploy := a.key("deployer", "team-a", "deploy")
	_, kNSAdmin := a.key("team-admin", "team-a", "admin")
	_, kRead := a.key("reader", "team-a", "read")

	ns := "?namespace=team-a"
	steps := []struct {
		key, method, path, ctype, body string
		status                         int
	}{
		{kDeploy, "PUT", "/v1/functions/f" + ns, "application/wasm", string(echoWasm), 201},
		{kDeploy, "PUT", "/v1/functions/f/aliases/prod" + ns, "application/json", `{"version":1}`, 201},
		{kDeploy, "POST", "/v1/functions/f/triggers" + ns, "application/json", `{"type":"cron","schedule":"@yearly"}`, 201},
		{kDeploy, "DELETE", "/v1/functions/f/triggers/1" + ns, "", "", 201},
		{kDeploy, "PUT", "/v1/secrets/db" + ns, "application/json", `{"value":"hunter2"}`, 201},
		{kDeploy, "DELETE", "/v1/secrets/db" + ns, "", "", 204},
		{kDeploy, "DELETE", "/v1/functions/f/aliases/prod" + ns, "", "", 204},
		{kRead, "DELETE", "/v1/functions/f" + ns, "", "", 403},                            // denied: scope
		{"", "PUT", "/v1/secrets/db" + ns, "application/json", `{"value":"x"}`, 401},      // denied: no key
		{kDeploy, "PUT", "/v1/functions/f?namespace=team-b", "application/wasm", "", 403}, // denied: namespace
		{kDeploy, "PUT", "/v1/functions/g" + ns, "application/wasm", "not wasm", 400},     // failed
		{kDeploy, "GET", "/v1/functions" + ns, "", "", 200},                               // a read: not audited
		{kDeploy, "DELETE", "/v1/functions/f" + ns, "", "", 204},
	}
	for _, s := range steps {
		resp, out := a.call(s.key, s.method, s.path, s.ctype, []byte(s.body))
		if resp.StatusCode != s.status {
			t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, resp.StatusCode, out, s.status)
		}
	}
	type entry struct{ Time, KeyID, Action, Namespace, Target, Outcome string }
	read := func(key, query string) []entry {
		resp, out := a.call(key, http.MethodGet, "/v1/audit"+query, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("audit: %d %s", resp.StatusCode, out)
		}
		var got struct {
			Entries []struct {
				Time      time.Time `json:"time"`
				KeyID     string    `json:"key_id"`
				Action    string    `json:"action"`
				Namespace string    `json:"namespace"`
				Target    string    `json:"target"`
				Outcome   string    `json:"outcome"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		var es []entry
		for _, e := range got.Entries {
			if e.Time.IsZero() {
				t.Fatalf("entry without time: %s", out)
			}
			es = append(es, entry{"", e.KeyID, e.Action, e.Namespace, e.Target, e.Outcome})
		}
		return es
	}
	got := read(testAdminKey, "?namespace=team-a")
	want := []entry{ // newest first
		{"", deployID, "function.delete", "team-a", "f", "success"},
		{"", deployID, "function.deploy", "team-a", "g", "failed"},
		{"", "", "secret.put", "team-a", "db", "denied"},
		{"", "", "function.delete", "team-a", "f", "denied"},
		{"", deployID, "alias.delete", "team-a", "f:prod", "success"},
		{"", deployID, "secret.delete", "team-a", "db", "success"},
		{"", deployID, "secret.put", "team-a", "db", "success"},
		{"", deployID, "trigger.delete", "team-a", "f/triggers/1", "success"},
		{"", deployID, "trigger.add", "team-a", "f", "success"},
		{"", deployID, "alias.set", "team-a", "f:prod", "success"},
		{"", deployID, "function.deploy", "team-a", "f", "success"},
	}
	// The refused delete by the reader carries the reader's key id.
	if len(got) < len(want) {
		t.Fatalf("audit has %d entries of team-a, want %d: %+v", len(got), len(want), got)
	}
	got = got[:len(want)]
	for i := range want {
		w := want[i]
		if w.Action == "function.delete" && w.Outcome == "denied" {
			if got[i].KeyID == "" || got[i].KeyID == deployID {
				t.Errorf("entry %d: the denied delete has key %q, want the reader's", i, got[i].KeyID)
			}
			got[i].KeyID = ""
		}
		if got[i] != w {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], w)
		}
	}
	// The namespace-denied deploy is in team-b's entries, and the admin
	// sees every namespace's.
	if b := read(testAdminKey, "?namespace=team-b"); len(b) != 1 || b[0].Outcome != "denied" || b[0].Action != "function.deploy" {
		t.Errorf("team-b's entries %+v", b)
	}
	all := read(testAdminKey, "")
	var keyCreates int
	for _, e := range all {
		if e.Action == "key.create" {
			keyCreates++
		}
	}
	if keyCreates != 3 {
		t.Errorf("%d key.create entries, want 3", keyCreates)
	}
	if got := read(testAdminKey, "?action=secret.put&limit=1"); len(got) != 1 || got[0].Outcome != "denied" {
		t.Errorf("filtered %+v", got)
	}
	// A namespace's admin reads its namespace only; others cannot read it.
	for _, e := range read(kNSAdmin, "") {
		if e.Namespace != "team-a" {
			t.Errorf("team-a's admin reads %+v", e)
		}
	}
	resp, out := a.call(kNSAdmin, http.MethodGet, "/v1/audit?namespace=team-b", "", nil)
	stacktest.WantError(t, resp, out, 403, "forbidden")
	resp, out = a.call(kDeploy, http.MethodGet, "/v1/audit", "", nil)
	stacktest.WantError(t, resp, out, 403, "forbidden")
	for _, q := range []string{"?limit=0", "?limit=5000", "?limit=x", "?action=function.explode", "?namespace=../x"} {
		resp, out := a.call(testAdminKey, http.MethodGet, "/v1/audit"+q, "", nil)
		if resp.StatusCode != 400 {
			t.Errorf("audit%s: %d %s, want 400", q, resp.StatusCode, out)
		}
	}
	// The secret's value is in no entry.
	_, raw := a.call(testAdminKey, http.MethodGet, "/v1/audit", "", nil)
	if strings.Contains(string(raw), "hunter2") {
		t.Fatal("a secret value is in the audit log")
	}
}

// TestRevocationAcrossGateways: a key revoked through one gateway is
// refused by another within seconds.
func TestRevocationAcrossGateways(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	other, err := a.s.StartExtraGateway(context.Background(), gateway.Config{Auth: true, AdminKey: testAdminKey})
	if err != nil {
		t.Fatal(err)
	}
	id, key := a.key("short-lived", "default", "invoke")
	testutil.Eventually(t, 5*time.Second, func() error {
		if resp, _ := stacktest.CallAs(t, key, http.MethodPost, other+"/v1/functions/hello/invoke", "", nil); resp.StatusCode != 200 {
			return errTry(resp.StatusCode)
		}
		return nil
	})
	a.must(http.StatusNoContent, http.MethodDelete, "/v1/keys/"+id, "", nil)
	start := time.Now()
	testutil.Eventually(t, 5*time.Second, func() error {
		if resp, _ := stacktest.CallAs(t, key, http.MethodPost, other+"/v1/functions/hello/invoke", "", nil); resp.StatusCode != 401 {
			return errTry(resp.StatusCode)
		}
		return nil
	})
	t.Logf("revocation reached the other gateway in %v", time.Since(start))
	resp, out := a.call(testAdminKey, http.MethodDelete, "/v1/keys/"+id, "", nil)
	stacktest.WantError(t, resp, out, 404, "key_not_found")
}

// TestKeyRequestsBadInput: malformed key requests are 400 with the JSON
// error shape, never a key.
func TestKeyRequestsBadInput(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	for _, body := range []string{
		``, `not json`, `[]`, `{"name":5,"scopes":["read"],"namespace":"default"}`,
		`{"name":"x","scopes":"read","namespace":"default"}`, `{"name":"x","scopes":[],"namespace":"default"}`,
		`{"name":"x","scopes":["write"],"namespace":"default"}`, `{"name":"x","scopes":["read"],"namespace":"../x"}`,
		`{"name":"x","scopes":["read"],"namespace":"A_B"}`, `{"name":"x","scopes":["read"],"namespace":"` + strings.Repeat("a", 300) + `"}`,
		`{"name":"x","scopes":["read"],"namespace":"default","extra":1}`, `{"name":"x","scopes":["read"],"namespace":"default"} {}`,
		`{"name":"x","scopes":["read"],"namespace":"default","rate_limit":{"rps":0}}`,
	} {
		resp, out := a.call(testAdminKey, http.MethodPost, "/v1/keys", "application/json", []byte(body))
		stacktest.WantError(t, resp, out, 400, "invalid_key")
	}
	resp, out := a.call(testAdminKey, http.MethodPost, "/v1/keys", "application/json", []byte(`{"name":"`+strings.Repeat("x", 20<<10)+`"}`))
	if resp.StatusCode != 413 {
		t.Fatalf("a 20 KiB key request: %d %.200s", resp.StatusCode, out)
	}
	for _, id := range []string{"nope", "AAAAAAAAAAAAAAAA", "aaaaaaaaaaaaaaaa", strings.Repeat("a", 300)} {
		resp, out := a.call(testAdminKey, http.MethodDelete, "/v1/keys/"+id, "", nil)
		stacktest.WantError(t, resp, out, 404, "key_not_found")
	}
}

// TestNoKeysWithoutAuth: a gateway without auth refuses to make keys
// rather than make keys that nothing checks.
func TestNoKeysWithoutAuth(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	resp, out := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/keys", "application/json", []byte(`{"name":"x","scopes":["read"],"namespace":"default"}`))
	stacktest.WantError(t, resp, out, 409, "auth_disabled")
}

// TestFunctionNeverSeesTheKey: the caller's Authorization header (and its
// cookies) do not reach the function, through /fn/ or invoke; other
// headers do.
func TestFunctionNeverSeesTheKey(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	a.must(http.StatusCreated, http.MethodPut, "/v1/functions/printenv", "application/wasm", testmodules.PrintEnv)
	_, key := a.key("caller", "default", "invoke")
	for _, path := range []string{"/fn/printenv/x", "/v1/functions/printenv/invoke"} {
		req, _ := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader("in"))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Cookie", "session=abc123")
		req.Header.Set("X-Probe", "seen")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, out)
		}
		env, err := testmodules.DecodeEnv(out)
		if err != nil {
			t.Fatalf("%s: %v (%q)", path, err, out)
		}
		if path == "/fn/printenv/x" && env["HTTP_X_PROBE"] != "seen" {
			t.Fatalf("%s: the function does not see other headers: %v", path, env)
		}
		for k, v := range env {
			if strings.Contains(v, key) || strings.Contains(v, key[20:]) || strings.Contains(v, "abc123") || k == "HTTP_AUTHORIZATION" || k == "HTTP_COOKIE" {
				t.Fatalf("%s: the function sees %s=%q", path, k, v)
			}
		}
	}
}
