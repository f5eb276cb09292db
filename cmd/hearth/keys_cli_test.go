package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeRequest is a request a fakeGateway got.
type fakeRequest struct {
	Method, Path, RawQuery   string
	Namespace, Authorization string
	ContentType              string
	Body                     []byte
}

// fakeGateway answers every request with one status and body and records
// the requests: it stands for the gateway's key, secret and audit routes,
// to check what the CLI sends and how it prints the answers.
type fakeGateway struct {
	URL    string
	mu     sync.Mutex
	reqs   []fakeRequest
	status int
	body   string
}

func newFakeGateway(t *testing.T, status int, body string) *fakeGateway {
	t.Helper()
	t.Setenv("HEARTH_API_KEY", "")
	t.Setenv("HEARTH_NAMESPACE", "")
	g := &fakeGateway{status: status, body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.reqs = append(g.reqs, fakeRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Hearth-Namespace"),
			r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b})
		status, body := g.status, g.body
		g.mu.Unlock()
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// answer sets the status and body of the next answers.
func (g *fakeGateway) answer(status int, body string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status, g.body = status, body
}

// take returns the requests so far and forgets them.
func (g *fakeGateway) take() []fakeRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	reqs := g.reqs
	g.reqs = nil
	return reqs
}

// hearthAt runs the CLI against the gateway at url.
func hearthAt(url string, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = run(context.Background(), append(args, "--gateway", url), &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantJSON fails unless raw is the JSON document want.
func wantJSON(t *testing.T, what string, raw []byte, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, raw, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s: %s, want %s", what, raw, want)
	}
}

type cliCase struct {
	args    []string
	code    int
	mention string
}

// checkCases runs each case and wants its exit code and a mention in
// stderr, and no request to the gateway.
func checkCases(t *testing.T, g *fakeGateway, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		code, _, errOut := hearthAt(g.URL, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %q: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
		if reqs := g.take(); len(reqs) != 0 {
			t.Errorf("hearth %q sent %d requests, want none", tt.args, len(reqs))
		}
	}
}

func TestKeyArgumentErrors(t *testing.T) {
	g := newFakeGateway(t, http.StatusInternalServerError, "")
	checkCases(t, g, []cliCase{
		{[]string{"key"}, 2, "hearth key create NAME"},
		{[]string{"key", "list"}, 2, "hearth key ls"},
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
		{[]string{"key", "create", "ci", "--scope", "read", "--rps", "x", "--burst", "1"}, 2, "invalid value"},
		{[]string{"key", "ls", "extra"}, 2, "hearth key ls"},
		{[]string{"key", "rm"}, 2, "want one key ID"},
		{[]string{"key", "rm", "a", "b"}, 2, "want one key ID"},
	})
}

func TestKeyCreate(t *testing.T) {
	answer := `{"id":"k_123","key":"hk_SECRET","name":"ci","scopes":["read","invoke","deploy"],"namespace":"*",` +
		`"rate_limit":{"rps":2.5,"burst":5},"created_at":"2026-01-02T03:04:05Z"}`
	g := newFakeGateway(t, http.StatusCreated, answer)
	code, out, errOut := hearthAt(g.URL, "key", "create", "ci", "--scope", "read,invoke", "--scope", "deploy",
		"--key-namespace", "*", "--rps", "2.5", "--burst", "5", "--api-key", "hk_admin")
	if code != 0 {
		t.Fatalf("key create: %d %q", code, errOut)
	}
	reqs := g.take()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/v1/keys" ||
		reqs[0].Authorization != "Bearer hk_admin" || reqs[0].ContentType != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	wantJSON(t, "request", reqs[0].Body, `{"name":"ci","scopes":["read","invoke","deploy"],"namespace":"*","rate_limit":{"rps":2.5,"burst":5}}`)
	for _, want := range []string{"k_123", "key: hk_SECRET\n", "will not be shown again"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout %q lacks %q", out, want)
		}
	}

	// --json prints the answer.
	if code, out, errOut := hearthAt(g.URL, "key", "create", "ci", "--scope", "read", "--json"); code != 0 {
		t.Fatalf("key create --json: %d %q", code, errOut)
	} else {
		wantJSON(t, "--json", []byte(out), answer)
	}
	// The key's namespace defaults to --namespace, then "default"; no
	// rate limit is sent unless given.
	wantJSON(t, "default namespace", g.take()[0].Body, `{"name":"ci","scopes":["read"],"namespace":"default"}`)
	if code, _, errOut := hearthAt(g.URL, "key", "create", "ci", "--scope", "admin", "--namespace", "team-a"); code != 0 {
		t.Fatalf("key create --namespace: %d %q", code, errOut)
	}
	wantJSON(t, "--namespace", g.take()[0].Body, `{"name":"ci","scopes":["admin"],"namespace":"team-a"}`)

	// The server validates scopes; its answer is shown.
	g.answer(http.StatusBadRequest, `{"error":{"code":"invalid_scope","message":"scope \"root\": use read, invoke, deploy or admin"}}`)
	if code, _, errOut := hearthAt(g.URL, "key", "create", "ci", "--scope", "root"); code != 1 || !strings.Contains(errOut, "invalid_scope") {
		t.Errorf("unknown scope: %d %q", code, errOut)
	}
}

func TestKeyListAndRemove(t *testing.T) {
	list := `{"keys":[{"id":"k_1","name":"ci","scopes":["deploy"],"namespace":"team-a","rate_limit":{"rps":10,"burst":20},"created_at":"2026-01-02T03:04:05Z"},` +
		`{"id":"k_2","name":"ops","scopes":["read","admin"],"namespace":"*","created_at":"2026-01-03T03:04:05Z"}]}`
	g := newFakeGateway(t, http.StatusOK, list)
	code, out, errOut := hearthAt(g.URL, "key", "ls")
	if code != 0 {
		t.Fatalf("key ls: %d %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], "k_1") || !strings.Contains(lines[1], "team-a") || !strings.Contains(lines[1], "10/s, burst 20") ||
		!strings.Contains(lines[2], "read,admin") || !strings.Contains(lines[2], "*") || !strings.Contains(lines[2], "none") {
		t.Errorf("key ls:\n%s", out)
	}
	for _, col := range []string{"NAME", "SCOPES", "NAMESPACE", "RATE LIMIT", "CREATED"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("key ls header %q lacks %s", lines[0], col)
		}
	}
	if strings.Contains(out, `"key"`) {
		t.Errorf("key ls shows a key: %s", out)
	}
	if reqs := g.take(); len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/keys" {
		t.Fatalf("requests %+v", reqs)
	}
	if code, out, _ := hearthAt(g.URL, "key", "ls", "--json"); code != 0 {
		t.Fatalf("key ls --json: %d", code)
	} else {
		wantJSON(t, "key ls --json", []byte(out), list)
	}
	g.answer(http.StatusOK, `{"keys":[]}`)
	if code, out, errOut := hearthAt(g.URL, "key", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no API keys") {
		t.Errorf("key ls of none: %d %q %q", code, out, errOut)
	}
	g.take()

	g.answer(http.StatusNoContent, "")
	if code, out, errOut := hearthAt(g.URL, "key", "rm", "k_1"); code != 0 || !strings.Contains(out, "revoked key k_1") {
		t.Errorf("key rm: %d %q %q", code, out, errOut)
	}
	if reqs := g.take(); len(reqs) != 1 || reqs[0].Method != http.MethodDelete || reqs[0].Path != "/v1/keys/k_1" {
		t.Fatalf("requests %+v", reqs)
	}
	g.answer(http.StatusNotFound, `{"error":{"code":"key_not_found","message":"no key k_9"}}`)
	if code, _, errOut := hearthAt(g.URL, "key", "rm", "k_9"); code != 1 || !strings.Contains(errOut, "key_not_found") {
		t.Errorf("key rm of an unknown id: %d %q", code, errOut)
	}
}

func TestAPIKeyFlagEnvAndHint(t *testing.T) {
	g := newFakeGateway(t, http.StatusOK, `{"keys":[]}`)
	hearthAt(g.URL, "key", "ls")
	t.Setenv("HEARTH_API_KEY", "hk_env")
	hearthAt(g.URL, "key", "ls")
	hearthAt(g.URL, "key", "ls", "--api-key", "hk_flag")
	reqs := g.take()
	if len(reqs) != 3 || reqs[0].Authorization != "" || reqs[1].Authorization != "Bearer hk_env" || reqs[2].Authorization != "Bearer hk_flag" {
		t.Fatalf("authorization headers: %+v", reqs)
	}
	// -h does not show the key the environment holds.
	if code, _, errOut := hearthAt(g.URL, "key", "-h"); code != 0 || !strings.Contains(errOut, "-api-key") || strings.Contains(errOut, "hk_env") {
		t.Errorf("key -h: %d %q", code, errOut)
	}
	hint := "set HEARTH_API_KEY or pass --api-key (hearth dev --auth writes its admin key to DATA/admin.key)"
	for status, body := range map[int]string{
		http.StatusUnauthorized: `{"error":{"code":"unauthorized","message":"no valid API key"}}`,
		http.StatusForbidden:    `{"error":{"code":"forbidden","message":"the key lacks the admin scope"}}`,
	} {
		g.answer(status, body)
		for _, args := range [][]string{{"key", "ls"}, {"secret", "ls"}, {"audit"}, {"ls"}} {
			if code, _, errOut := hearthAt(g.URL, args...); code != 1 || !strings.Contains(errOut, hint) {
				t.Errorf("%d to hearth %q: exit %d, stderr %q; want the hint", status, args, code, errOut)
			}
		}
	}
	g.answer(http.StatusTooManyRequests, `{"error":{"code":"rate_limited","message":"slow down"}}`)
	if code, _, errOut := hearthAt(g.URL, "key", "ls"); code != 1 || !strings.Contains(errOut, "rate_limited") || strings.Contains(errOut, "HEARTH_API_KEY") {
		t.Errorf("429: %d %q", code, errOut)
	}
}
