package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuditCLI(t *testing.T) {
	entries := `{"entries":[` +
		`{"time":"2026-01-02T03:04:07Z","key_id":"k_2","action":"key.create","namespace":"*","target":"k_3","outcome":"success"},` +
		`{"time":"2026-01-02T03:04:06Z","key_id":"","action":"secret.put","namespace":"team-a","target":"db","outcome":"denied"},` +
		`{"time":"2026-01-02T03:04:05Z","key_id":"k_1","action":"function.deploy","namespace":"team-a","target":"hello","outcome":"failed"}]}`
	g := newFakeGateway(t, http.StatusOK, entries)
	code, out, errOut := hearthAt(g.URL, "audit")
	if code != 0 {
		t.Fatalf("audit: %d %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("audit:\n%s", out)
	}
	for _, col := range []string{"KEY", "ACTION", "NAMESPACE", "TARGET", "OUTCOME"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	// In the API's order, newest first; an entry without a key shows "-".
	for i, want := range [][]string{{"k_2", "key.create", "*", "k_3", "success"}, {" - ", "secret.put", "team-a", "db", "denied"}, {"k_1", "function.deploy", "hello", "failed"}} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	reqs := g.take()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/audit" || reqs[0].RawQuery != "limit=100" {
		t.Fatalf("requests %+v", reqs)
	}

	if code, out, _ := hearthAt(g.URL, "audit", "--limit", "5", "--action", "key.create", "--json", "--api-key", "hk_admin"); code != 0 {
		t.Fatalf("audit --json: %d", code)
	} else {
		wantJSON(t, "audit --json", []byte(out), entries)
	}
	reqs = g.take()
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	if len(reqs) != 1 || q.Get("limit") != "5" || q.Get("action") != "key.create" || len(q) != 2 || reqs[0].Authorization != "Bearer hk_admin" {
		t.Fatalf("requests %+v", reqs)
	}

	g.answer(http.StatusOK, `{"entries":[]}`)
	if code, out, errOut := hearthAt(g.URL, "audit"); code != 0 || out != "" || !strings.Contains(errOut, "no audit entries") {
		t.Errorf("audit of none: %d %q %q", code, out, errOut)
	}
	g.take()
	g.answer(http.StatusBadRequest, `{"error":{"code":"invalid_action","message":"action \"x\""}}`)
	if code, _, errOut := hearthAt(g.URL, "audit", "--action", "x"); code != 1 || !strings.Contains(errOut, "invalid_action") {
		t.Errorf("bad action: %d %q", code, errOut)
	}
	g.take()

	checkCases(t, g, []cliCase{
		{[]string{"audit", "--limit", "0"}, 2, "use 1 to 1000"},
		{[]string{"audit", "--limit", "1001"}, 2, "use 1 to 1000"},
		{[]string{"audit", "--limit", "x"}, 2, "invalid value"},
		{[]string{"audit", "key.create"}, 2, "takes no arguments"},
	})
}
