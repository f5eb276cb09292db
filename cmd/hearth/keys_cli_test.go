package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/sdk/client"
)

// authStack is a dev stack with auth on that the tests of hearth key,
// secret and audit drive the CLI against; AdminKey is its bootstrap admin
// key (id "bootstrap" in the audit log).
type authStack struct {
	*stack.Stack
	t   *testing.T
	dir string
}

// newAuthStack starts a dev stack with auth on, with HEARTH_API_KEY and
// HEARTH_NAMESPACE cleared for the test.
func newAuthStack(t *testing.T) *authStack {
	t.Helper()
	t.Setenv("HEARTH_API_KEY", "")
	t.Setenv("HEARTH_NAMESPACE", "")
	dir := t.TempDir()
	s := stacktest.DevWith(t, stack.DevConfig{DataDir: dir, Gateway: gateway.Config{Auth: true}})
	if s.AdminKey == "" {
		t.Fatal("a dev stack with auth on has no admin key")
	}
	return &authStack{Stack: s, t: t, dir: dir}
}

// hearth runs the CLI against the stack's gateway.
func (a *authStack) hearth(args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = run(context.Background(), slices.Concat(args, []string{"--gateway", a.GatewayURL}), &out, &errOut)
	return code, out.String(), errOut.String()
}

// admin runs the CLI with --api-key the bootstrap admin key.
func (a *authStack) admin(args ...string) (code int, stdout, stderr string) {
	return a.hearth(slices.Concat(args, []string{"--api-key", a.AdminKey})...)
}

var (
	createdID  = regexp.MustCompile(`(?m)^id:  (\S+)$`)
	createdKey = regexp.MustCompile(`(?m)^key: (hk_\S+)$`)
)

// createKey runs `hearth key create` with the admin key and returns the
// new key's id and the key, as the CLI printed them.
func (a *authStack) createKey(args ...string) (id, key string) {
	a.t.Helper()
	code, out, errOut := a.admin(slices.Concat([]string{"key", "create"}, args)...)
	i, k := createdID.FindStringSubmatch(out), createdKey.FindStringSubmatch(out)
	if code != 0 || i == nil || k == nil {
		a.t.Fatalf("hearth key create %q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
	}
	return i[1], k[1]
}

// get makes a GET of path with the admin key (and namespace ns unless
// "") and decodes its JSON answer into v when it is a 200; it returns the
// status.
func (a *authStack) get(path, ns string, v any) int {
	a.t.Helper()
	header := map[string]string{"Authorization": "Bearer " + a.AdminKey}
	if ns != "" {
		header["Hearth-Namespace"] = ns
	}
	resp, body := stacktest.Do(a.t, "GET", a.GatewayURL+path, "", nil, header)
	if resp.StatusCode == 200 && v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			a.t.Fatalf("GET %s: %q: %v", path, body, err)
		}
	}
	return resp.StatusCode
}

// keys is GET /v1/keys as the admin key sees it.
func (a *authStack) keys() []client.Key {
	a.t.Helper()
	var list struct {
		Keys []client.Key `json:"keys"`
	}
	if status := a.get("/v1/keys", "", &list); status != 200 {
		a.t.Fatalf("GET /v1/keys: %d", status)
	}
	return list.Keys
}

// key is the key id as GET /v1/keys shows it.
func (a *authStack) key(id string) client.Key {
	a.t.Helper()
	for _, k := range a.keys() {
		if k.ID == id {
			return k
		}
	}
	a.t.Fatalf("GET /v1/keys has no key %s", id)
	return client.Key{}
}

// audit is GET /v1/audit?QUERY with the admin key: newest first.
func (a *authStack) audit(query string) []client.AuditEntry {
	a.t.Helper()
	var list struct {
		Entries []client.AuditEntry `json:"entries"`
	}
	if status := a.get("/v1/audit?"+query, "", &list); status != 200 {
		a.t.Fatalf("GET /v1/audit?%s: %d", query, status)
	}
	return list.Entries
}

// waitAudit waits for the newest audit entry to be of action, target and
// outcome (the gateway appends it after answering) and returns it.
func (a *authStack) waitAudit(action, target, outcome string) client.AuditEntry {
	a.t.Helper()
	var e client.AuditEntry
	testutil.Eventually(a.t, 10*time.Second, func() error {
		entries := a.audit("limit=1")
		if len(entries) == 0 {
			return errors.New("no audit entries yet")
		}
		e = entries[0]
		if e.Action != action || e.Target != target || e.Outcome != outcome {
			return errors.New("newest entry " + e.Action + " " + e.Target + " " + e.Outcome)
		}
		return nil
	})
	return e
}

// storedSecret is the value of the secret ns/name as the gateway stored
// it, read from the secrets bucket with the stack's secrets key the way
// another gateway reads it; ok is false when there is no such secret.
func (a *authStack) storedSecret(ns, name string) (value string, ok bool) {
	a.t.Helper()
	key, err := secrets.LoadOrCreateKeyFile(filepath.Join(a.dir, stack.SecretsKeyFile))
	if err != nil {
		a.t.Fatal(err)
	}
	js, err := jetstream.New(a.NC)
	if err != nil {
		a.t.Fatal(err)
	}
	store, err := secrets.Open(context.Background(), js, key, 1)
	if err != nil {
		a.t.Fatal(err)
	}
	defer store.Close()
	env, err := store.Env(ns, []string{name})
	var missing *secrets.MissingError
	if errors.As(err, &missing) {
		return "", false
	}
	if err != nil {
		a.t.Fatalf("secret %s/%s: %v", ns, name, err)
	}
	return env[secrets.EnvName(name)], true
}

// refused is how many requests the gateway's auth guard has refused.
func (a *authStack) refused() float64 {
	a.t.Helper()
	return stacktest.MetricSum(a.t, a.Stack, "hearth_auth_refused_total")
}

// sameJSON fails unless got and want, decoded into values of one type,
// are equal: the CLI's --json output against the API's answer.
func sameJSON[T any](t *testing.T, what, got string, want T) {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, got, err)
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("%s: %s, want %+v", what, got, want)
	}
}

type cliCase struct {
	args    []string
	code    int
	mention string
}

// checkCases runs each case without an API key and wants its exit code
// and a mention in stderr, and no request to the gateway: every route
// these commands call needs a key, so a request would be refused and
// counted.
func checkCases(t *testing.T, a *authStack, cases []cliCase) {
	t.Helper()
	t.Setenv("HEARTH_API_KEY", "")
	for _, tt := range cases {
		before := a.refused()
		code, _, errOut := a.hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %q: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
		if after := a.refused(); after != before {
			t.Errorf("hearth %q sent %v requests to the gateway, want none", tt.args, after-before)
		}
	}
}

func TestKeyArgumentErrors(t *testing.T) {
	a := newAuthStack(t)
	checkCases(t, a, []cliCase{
		{[]string{"key"}, 2, "hearth key create NAME"},
		{[]string{"key", "lsit"}, 2, `unknown command "lsit" for "hearth key"; did you mean ls?`},
		{[]string{"key", "create"}, 2, "want one key NAME"},
		{[]string{"key", "create", "a", "b", "--scope", "read"}, 2, "want one key NAME"},
		{[]string{"key", "create", "", "--scope", "read"}, 2, "NAME is empty"},
		{[]string{"key", "create", "ci"}, 2, "--scope"},
		{[]string{"key", "create", "ci", "--scope", ""}, 2, "empty scope"},
		{[]string{"key", "create", "ci", "--scope", "read,,invoke"}, 2, "empty scope"},
		{[]string{"key", "create", "ci", "--scope", "read,"}, 2, "empty scope"},
		{[]string{"key", "create", "ci", "--scope", "read", "--scope", " "}, 2, "empty scope"},
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "5"}, 2, "--rps and --burst together"},
		{[]string{"key", "create", "ci", "--scope", "read", "--burst", "5"}, 2, "--rps and --burst together"},
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "0", "--burst", "5"}, 2, "above 0"},
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "-1", "--burst", "5"}, 2, "above 0"},
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "5", "--burst", "0"}, 2, "at least 1"},
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "x", "--burst", "1"}, 2, `invalid argument "x" for "--rps"`},
		{[]string{"key", "ls", "extra"}, 2, "hearth key ls"},
		{[]string{"key", "rm"}, 2, "want one key ID"},
		{[]string{"key", "rm", "a", "b"}, 2, "want one key ID"},
	})
	if keys := a.keys(); len(keys) != 0 {
		t.Errorf("keys after argument errors: %+v", keys)
	}
}

func TestKeyCreate(t *testing.T) {
	a := newAuthStack(t)
	code, out, errOut := a.admin("key", "create", "ci", "--scope", "read,invoke", "--scope", "deploy",
		"--key-namespace", "*", "--rps", "2.5", "--burst", "5")
	if code != 0 {
		t.Fatalf("key create: %d %q", code, errOut)
	}
	id, key := createdID.FindStringSubmatch(out), createdKey.FindStringSubmatch(out)
	if id == nil || key == nil {
		t.Fatalf("key create printed no id or key: %q", out)
	}
	for _, want := range []string{"created key ci (read,invoke,deploy in namespace *)\n", "will not be shown again"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout %q lacks %q", out, want)
		}
	}
	got := a.key(id[1])
	if want := (client.Key{ID: id[1], Name: "ci", Scopes: []string{"read", "invoke", "deploy"}, Namespace: "*",
		RateLimit: &client.RateLimit{RPS: 2.5, Burst: 5}, CreatedAt: got.CreatedAt}); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /v1/keys has %+v, want %+v", got, want)
	}
	// The key printed is the key: it deploys in any namespace.
	if code, _, errOut := a.hearth("secret", "set", "db", "--value", "v", "--namespace", "team-z", "--api-key", key[1]); code != 0 {
		t.Errorf("the new key: %d %q", code, errOut)
	}
	// It is shown only once.
	for _, args := range [][]string{{"key", "ls"}, {"key", "ls", "--json"}} {
		if _, out, _ := a.admin(args...); strings.Contains(out, key[1]) {
			t.Errorf("hearth %q shows the key: %s", args, out)
		}
	}

	// --json prints the answer, the key with it.
	t.Setenv("HEARTH_API_KEY", a.AdminKey)
	code, out, errOut = a.hearth("key", "create", "ci", "--scope", "read", "--json")
	if code != 0 {
		t.Fatalf("key create --json: %d %q", code, errOut)
	}
	var created client.NewKey
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Key, "hk_") {
		t.Fatalf("key create --json: %q (%v)", out, err)
	}
	// The key's namespace defaults to "default"; no rate limit is set
	// unless given.
	got = a.key(created.ID)
	if want := (client.Key{ID: created.ID, Name: "ci", Scopes: []string{"read"}, Namespace: "default", CreatedAt: got.CreatedAt}); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /v1/keys has %+v, want %+v", got, want)
	}
	sameJSON(t, "key create --json", out, client.NewKey{ID: got.ID, Key: created.Key, Name: got.Name, Scopes: got.Scopes,
		Namespace: got.Namespace, CreatedAt: got.CreatedAt})

	// Then to --namespace, or HEARTH_NAMESPACE; --key-namespace comes first.
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--scope", "admin", "--namespace", "team-a"}, "team-a"},
		{"team-b", []string{"--scope", "admin"}, "team-b"},
		{"team-b", []string{"--scope", "admin", "--namespace", "team-a"}, "team-a"},
		{"team-b", []string{"--scope", "admin", "--namespace", "team-a", "--key-namespace", "team-c"}, "team-c"},
	} {
		t.Setenv("HEARTH_NAMESPACE", c.env)
		id, _ := a.createKey(slices.Concat([]string{"ci"}, c.args)...)
		if k := a.key(id); k.Namespace != c.want || !reflect.DeepEqual(k.Scopes, []string{"admin"}) {
			t.Errorf("HEARTH_NAMESPACE=%q hearth key create ci %q: %+v, want namespace %s", c.env, c.args, k, c.want)
		}
	}
	t.Setenv("HEARTH_NAMESPACE", "")

	// The server validates scopes; its answer is shown.
	n := len(a.keys())
	if code, _, errOut := a.hearth("key", "create", "ci", "--scope", "root"); code != 1 ||
		!strings.Contains(errOut, "invalid_key") || !strings.Contains(errOut, `unknown scope "root"`) {
		t.Errorf("unknown scope: %d %q", code, errOut)
	}
	if len(a.keys()) != n {
		t.Error("a key of an unknown scope was made")
	}
}

func TestKeyListAndRemove(t *testing.T) {
	a := newAuthStack(t)
	if code, out, errOut := a.admin("key", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no API keys") {
		t.Errorf("key ls of none: %d %q %q", code, out, errOut)
	}
	ci, ciKey := a.createKey("ci", "--scope", "deploy", "--key-namespace", "team-a", "--rps", "10", "--burst", "20")
	ops, opsKey := a.createKey("ops", "--scope", "admin", "--scope", "read", "--key-namespace", "*")

	code, out, errOut := a.admin("key", "ls")
	if code != 0 {
		t.Fatalf("key ls: %d %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("key ls:\n%s", out)
	}
	for _, col := range []string{"NAME", "SCOPES", "NAMESPACE", "RATE LIMIT", "CREATED"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("key ls header %q lacks %s", lines[0], col)
		}
	}
	// Oldest first; the scopes as the server orders them.
	for i, want := range [][]string{{ci, "ci", "deploy", "team-a", "10/s, burst 20"}, {ops, "ops", "read,admin", "*", "none"}} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("key ls line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	if code, out, _ := a.admin("key", "ls", "--json"); code != 0 {
		t.Fatalf("key ls --json: %d", code)
	} else {
		sameJSON(t, "key ls --json", out, struct {
			Keys []client.Key `json:"keys"`
		}{a.keys()})
		if strings.Contains(out, `"key"`) || strings.Contains(out, ciKey) || strings.Contains(out, opsKey) {
			t.Errorf("key ls --json shows a key: %s", out)
		}
	}

	if code, out, errOut := a.admin("key", "rm", ci); code != 0 || out != "revoked key "+ci+"\n" {
		t.Errorf("key rm: %d %q %q", code, out, errOut)
	}
	if keys := a.keys(); len(keys) != 1 || keys[0].ID != ops {
		t.Errorf("GET /v1/keys after key rm %s: %+v", ci, keys)
	}
	a.waitAudit("key.delete", ci, "success")
	for _, id := range []string{ci, "k_9"} {
		if code, _, errOut := a.admin("key", "rm", id); code != 3 || !strings.Contains(errOut, "key_not_found") {
			t.Errorf("key rm of an unknown id %s: %d %q", id, code, errOut)
		}
	}
}

func TestAPIKeyFlagEnvAndHint(t *testing.T) {
	a := newAuthStack(t)
	_, readKey := a.createKey("reader", "--scope", "read", "--key-namespace", "team-a")
	admin2, admin2Key := a.createKey("admin2", "--scope", "admin", "--key-namespace", "*")

	// --api-key comes before HEARTH_API_KEY.
	for _, c := range []struct {
		what      string
		env, flag string
		code      int
	}{
		{"no key", "", "", 1},
		{"HEARTH_API_KEY admin", a.AdminKey, "", 0},
		{"HEARTH_API_KEY read, --api-key admin", readKey, a.AdminKey, 0},
		{"HEARTH_API_KEY admin, --api-key read", a.AdminKey, readKey, 1},
	} {
		t.Setenv("HEARTH_API_KEY", c.env)
		args := []string{"key", "ls"}
		if c.flag != "" {
			args = append(args, "--api-key", c.flag)
		}
		if code, _, errOut := a.hearth(args...); code != c.code {
			t.Errorf("key ls with %s: exit %d, stderr %q; want %d", c.what, code, errOut, c.code)
		}
	}
	// The audit log names the key that made a change.
	for _, c := range []struct {
		name, flag, by string
	}{
		{"by-env", "", "bootstrap"},
		{"by-flag", admin2Key, admin2},
	} {
		t.Setenv("HEARTH_API_KEY", a.AdminKey)
		args := []string{"key", "create", c.name, "--scope", "read"}
		if c.flag != "" {
			args = append(args, "--api-key", c.flag)
		}
		code, out, errOut := a.hearth(args...)
		id := createdID.FindStringSubmatch(out)
		if code != 0 || id == nil {
			t.Fatalf("hearth %q: %d %q %q", args, code, out, errOut)
		}
		if e := a.waitAudit("key.create", id[1], "success"); e.KeyID != c.by {
			t.Errorf("hearth %q: the audit log has it made by %q, want %s", args, e.KeyID, c.by)
		}
	}

	// -h does not show the key the environment holds.
	for _, args := range [][]string{{"key", "-h"}, {"key", "create", "-h"}} {
		if code, out, _ := a.hearth(args...); code != 0 || !strings.Contains(out, "--api-key") || strings.Contains(out, a.AdminKey) {
			t.Errorf("hearth %q: %d %q", args, code, out)
		}
	}

	// No key, an unknown key, and a key without the scope or the
	// namespace: the answer and the hint.
	hint := "set HEARTH_API_KEY or pass --api-key (hearth dev --auth writes its admin key to DATA/admin.key)"
	for _, c := range []struct{ what, key, code string }{
		{"no key", "", "unauthorized"},
		{"an unknown key", "hk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "unauthorized"},
		{"a read key of team-a", readKey, "forbidden"}, // not admin, not of namespace default
	} {
		t.Setenv("HEARTH_API_KEY", c.key)
		for _, args := range [][]string{{"key", "ls"}, {"secret", "ls"}, {"audit"}, {"ls"}} {
			if code, _, errOut := a.hearth(args...); code != 1 || !strings.Contains(errOut, ": "+c.code+": ") || !strings.Contains(errOut, hint) {
				t.Errorf("hearth %q with %s: exit %d, stderr %q; want %s and the hint", args, c.what, code, errOut, c.code)
			}
		}
	}
	// The reader key works where it may.
	if code, _, errOut := a.hearth("secret", "ls", "--namespace", "team-a"); code != 0 {
		t.Errorf("secret ls with the reader key in its namespace: %d %q", code, errOut)
	}

	// A key past its rate limit: the answer, without the hint.
	_, slowKey := a.createKey("slow", "--scope", "admin", "--key-namespace", "*", "--rps", "0.001", "--burst", "1")
	t.Setenv("HEARTH_API_KEY", slowKey)
	if code, _, errOut := a.hearth("key", "ls"); code != 0 {
		t.Fatalf("the slow key's first request: %d %q", code, errOut)
	}
	if code, _, errOut := a.hearth("key", "ls"); code != 1 || !strings.Contains(errOut, "rate_limited") || strings.Contains(errOut, "HEARTH_API_KEY") {
		t.Errorf("429: %d %q", code, errOut)
	}
}
