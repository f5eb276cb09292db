package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/sdk/client"
)

func TestAuditCLI(t *testing.T) {
	a := newAuthStack(t)
	if code, out, errOut := a.admin("audit"); code != 0 || out != "" || !strings.Contains(errOut, "no audit entries") {
		t.Errorf("audit of none: %d %q %q", code, out, errOut)
	}

	// A change that fails, one refused (no key), one that succeeds.
	notWasm := filepath.Join(t.TempDir(), "bad.wasm")
	if err := os.WriteFile(notWasm, []byte("not a module"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := a.admin("deploy", "bad", notWasm, "--namespace", "team-a"); code != 1 {
		t.Fatalf("deploy of a bad module: %d %q", code, errOut)
	}
	a.waitAudit("function.deploy", "bad", "failed")
	if code, _, errOut := a.hearth("secret", "set", "db", "--value", "v", "--namespace", "team-a"); code != 1 {
		t.Fatalf("secret set without a key: %d %q", code, errOut)
	}
	a.waitAudit("secret.put", "db", "denied")
	id, _ := a.createKey("ci", "--scope", "read", "--key-namespace", "*")
	a.waitAudit("key.create", id, "success")

	code, out, errOut := a.admin("audit")
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
	rows := [][]string{
		{"bootstrap", "key.create", "*", id, "success"},
		{" - ", "secret.put", "team-a", "db", "denied"},
		{"bootstrap", "function.deploy", "team-a", "bad", "failed"},
	}
	for i, want := range rows {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	// --limit: the newest N.
	if code, out, errOut := a.admin("audit", "--limit", "2"); code != 0 {
		t.Errorf("audit --limit 2: %d %q", code, errOut)
	} else if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 ||
		!strings.Contains(lines[1], "key.create") || !strings.Contains(lines[2], "secret.put") {
		t.Errorf("audit --limit 2:\n%s", out)
	}

	// --json prints the API's answer to the same query; --action filters.
	code, out, errOut = a.hearth("audit", "--limit", "5", "--action", "key.create", "--json", "--api-key", a.AdminKey)
	if code != 0 {
		t.Fatalf("audit --json: %d %q", code, errOut)
	}
	entries := a.audit("limit=5&action=key.create")
	if len(entries) != 1 || entries[0].Target != id || entries[0].KeyID != "bootstrap" || entries[0].Namespace != "*" {
		t.Errorf("GET /v1/audit?action=key.create: %+v", entries)
	}
	sameJSON(t, "audit --json", out, struct {
		Entries []client.AuditEntry `json:"entries"`
	}{entries})
	if code, out, errOut := a.admin("audit", "--action", "secret.delete"); code != 0 || out != "" || !strings.Contains(errOut, "no audit entries") {
		t.Errorf("audit --action of none: %d %q %q", code, out, errOut)
	}

	// The server checks the action; its answer is shown.
	if code, _, errOut := a.admin("audit", "--action", "x"); code != 1 || !strings.Contains(errOut, "invalid_parameter") || !strings.Contains(errOut, "not an audited action") {
		t.Errorf("bad action: %d %q", code, errOut)
	}

	checkCases(t, a, []cliCase{
		{[]string{"audit", "--limit", "0"}, 2, "use 1 to 1000"},
		{[]string{"audit", "--limit", "1001"}, 2, "use 1 to 1000"},
		{[]string{"audit", "--limit", "x"}, 2, `invalid argument "x" for "--limit"`},
		{[]string{"audit", "key.create"}, 2, "takes no arguments"},
	})
}
