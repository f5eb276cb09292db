package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/sdk/client"
)

// withSecretStdin makes `secret set` read stdin from a file holding data.
func withSecretStdin(t *testing.T, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	testStdin = f
	t.Cleanup(func() { testStdin = nil; f.Close() })
}

// wantStored fails unless the secret ns/name holds value on the server.
func wantStored(t *testing.T, a *authStack, ns, name, value string) {
	t.Helper()
	got, ok := a.storedSecret(ns, name)
	switch {
	case !ok:
		t.Errorf("no secret %s in namespace %s", name, ns)
	case got != value:
		t.Errorf("secret %s in namespace %s is %d bytes %.40q…, want %d bytes %.40q…", name, ns, len(got), got, len(value), value)
	}
}

func TestSecretSet(t *testing.T) {
	a := newAuthStack(t)
	t.Setenv("HEARTH_API_KEY", a.AdminKey)
	value := "s3cr3t-VALUE"
	code, out, errOut := a.hearth("secret", "set", "db", "--value", value, "--namespace", "team-a")
	if code != 0 || out != "secret db created in namespace team-a\n" {
		t.Fatalf("secret set --value: %d %q %q", code, out, errOut)
	}
	wantStored(t, a, "team-a", "db", value)
	if _, ok := a.storedSecret("default", "db"); ok {
		t.Error("secret set --namespace team-a set db in namespace default")
	}

	// Again is an update; a file is sent byte for byte.
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out2, errOut2 := a.hearth("secret", "set", "db", "--from-file", file, "--namespace", "team-a")
	if code != 0 || out2 != "secret db updated in namespace team-a\n" {
		t.Fatalf("secret set --from-file: %d %q %q", code, out2, errOut2)
	}
	wantStored(t, a, "team-a", "db", value+"\n")

	// Neither flag: stdin. No --namespace: HEARTH_NAMESPACE, else default.
	withSecretStdin(t, []byte("from stdin\x00é"))
	code, out3, errOut3 := a.hearth("secret", "set", "db")
	if code != 0 || out3 != "secret db created in namespace default\n" {
		t.Fatalf("secret set from stdin: %d %q %q", code, out3, errOut3)
	}
	wantStored(t, a, "default", "db", "from stdin\x00é")
	wantStored(t, a, "team-a", "db", value+"\n")
	t.Setenv("HEARTH_NAMESPACE", "team-b")
	code, out4, errOut4 := a.hearth("secret", "set", "db", "--value", value+"-b")
	if code != 0 || out4 != "secret db created in namespace team-b\n" {
		t.Fatalf("secret set with HEARTH_NAMESPACE: %d %q %q", code, out4, errOut4)
	}
	wantStored(t, a, "team-b", "db", value+"-b")
	t.Setenv("HEARTH_NAMESPACE", "")

	for _, s := range []string{out, errOut, out2, errOut2, out3, errOut3, out4, errOut4} {
		if strings.Contains(s, value) || strings.Contains(s, "from stdin") {
			t.Errorf("the value is echoed: %q", s)
		}
	}

	// An empty --value is a value: the CLI sends it, and the server's
	// refusal is shown.
	if code, _, errOut := a.hearth("secret", "set", "db", "--value", ""); code != 1 || !strings.Contains(errOut, "invalid_secret") {
		t.Errorf("secret set --value '': %d %q", code, errOut)
	}
	wantStored(t, a, "default", "db", "from stdin\x00é")
}

func TestSecretSetBadInput(t *testing.T) {
	a := newAuthStack(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	limit := client.MaxSecretValue
	atLimit := write("at-limit", []byte(strings.Repeat("a", limit)))
	tooBig := write("too-big", []byte(strings.Repeat("a", limit+1)))
	binary := write("binary", []byte{0xff, 0xfe, 0x00})
	checkCases(t, a, []cliCase{
		{[]string{"secret"}, 2, "hearth secret set NAME"},
		{[]string{"secret", "get", "db"}, 2, "hearth secret set NAME"},
		{[]string{"secret", "set"}, 2, "want one secret NAME"},
		{[]string{"secret", "set", "a", "b", "--value", "v"}, 2, "want one secret NAME"},
		{[]string{"secret", "set", "", "--value", "v"}, 2, "NAME is empty"},
		{[]string{"secret", "set", "db", "--value", "v", "--from-file", atLimit}, 2, "not both"},
		{[]string{"secret", "set", "db", "--from-file", ""}, 2, "--from-file needs a FILE"},
		{[]string{"secret", "set", "db", "--from-file", tooBig}, 2, "64 KiB"},
		{[]string{"secret", "set", "db", "--value", strings.Repeat("a", limit+1)}, 2, "64 KiB"},
		{[]string{"secret", "set", "db", "--from-file", binary}, 2, "not UTF-8"},
		{[]string{"secret", "set", "db", "--value", "\xff"}, 2, "not UTF-8"},
		{[]string{"secret", "set", "db", "--from-file", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"secret", "ls", "db"}, 2, "hearth secret ls"},
		{[]string{"secret", "rm"}, 2, "want one secret NAME"},
	})
	if _, ok := a.storedSecret("default", "db"); ok {
		t.Error("a secret db was set by bad input")
	}
	// A value of 64 KiB exactly is sent, and the server takes it.
	if code, _, errOut := a.admin("secret", "set", "db", "--from-file", atLimit); code != 0 {
		t.Errorf("64 KiB value: %d %q", code, errOut)
	}
	wantStored(t, a, "default", "db", strings.Repeat("a", limit))

	// Stdin: a terminal (a character device: /dev/null stands for one) is
	// refused; a value over 64 KiB too.
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	testStdin = devNull
	t.Cleanup(func() { testStdin = nil })
	checkCases(t, a, []cliCase{{[]string{"secret", "set", "db"}, 2, "stdin is a terminal"}})
	withSecretStdin(t, []byte(strings.Repeat("a", limit+1)))
	checkCases(t, a, []cliCase{{[]string{"secret", "set", "db"}, 2, "64 KiB"}})
}

func TestSecretListAndRemove(t *testing.T) {
	a := newAuthStack(t)
	t.Setenv("HEARTH_API_KEY", a.AdminKey)
	if code, out, errOut := a.hearth("secret", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no secrets in namespace default") {
		t.Errorf("secret ls of none: %d %q %q", code, out, errOut)
	}
	for _, name := range []string{"db", "api-token"} {
		if code, _, errOut := a.hearth("secret", "set", name, "--value", "v-"+name, "--namespace", "team-a"); code != 0 {
			t.Fatalf("secret set %s: %d %q", name, code, errOut)
		}
	}
	code, out, errOut := a.hearth("secret", "ls", "--namespace", "team-a")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "CREATED") || !strings.Contains(lines[0], "UPDATED") ||
		!strings.HasPrefix(lines[1], "api-token ") || !strings.HasPrefix(lines[2], "db ") || strings.Contains(out, "v-") {
		t.Fatalf("secret ls: %d %q %q", code, out, errOut)
	}
	// The secrets are of team-a only.
	if code, out, errOut := a.hearth("secret", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no secrets in namespace default") {
		t.Errorf("secret ls of default: %d %q %q", code, out, errOut)
	}

	t.Setenv("HEARTH_NAMESPACE", "team-a")
	var list struct {
		Secrets []client.SecretMeta `json:"secrets"`
	}
	if status := a.get("/v1/secrets", "team-a", &list); status != 200 || len(list.Secrets) != 2 {
		t.Fatalf("GET /v1/secrets in team-a: %d %+v", status, list)
	}
	if code, out, _ := a.hearth("secret", "ls", "--json"); code != 0 {
		t.Fatalf("secret ls --json: %d", code)
	} else {
		sameJSON(t, "secret ls --json", out, list)
	}

	// --namespace comes before HEARTH_NAMESPACE.
	t.Setenv("HEARTH_NAMESPACE", "team-b")
	if code, out, errOut := a.hearth("secret", "rm", "db", "--namespace", "team-a"); code != 0 || out != "removed secret db from namespace team-a\n" {
		t.Errorf("secret rm: %d %q %q", code, out, errOut)
	}
	if status := a.get("/v1/secrets/db", "team-a", nil); status != 404 {
		t.Errorf("GET /v1/secrets/db in team-a after secret rm: %d, want 404", status)
	}
	if status := a.get("/v1/secrets/api-token", "team-a", nil); status != 200 {
		t.Errorf("GET /v1/secrets/api-token in team-a after secret rm db: %d, want 200", status)
	}
	if code, _, errOut := a.hearth("secret", "rm", "api-token"); code != 3 || !strings.Contains(errOut, "secret_not_found") || !strings.Contains(errOut, `"team-b"`) {
		t.Errorf("secret rm of a secret of another namespace: %d %q", code, errOut)
	}
	t.Setenv("HEARTH_NAMESPACE", "")
	if code, _, errOut := a.hearth("secret", "rm", "nope"); code != 3 || !strings.Contains(errOut, "secret_not_found") {
		t.Errorf("secret rm of an unknown name: %d %q", code, errOut)
	}
}
