package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretAnswer = `{"name":"db","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`

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
	secretStdin = f
	t.Cleanup(func() { secretStdin = nil; f.Close() })
}

func TestSecretSet(t *testing.T) {
	g := newFakeGateway(t, http.StatusCreated, secretAnswer)
	value := "s3cr3t-VALUE"
	code, out, errOut := hearthAt(g.URL, "secret", "set", "db", "--value", value, "--namespace", "team-a")
	if code != 0 || out != "secret db created in namespace team-a\n" {
		t.Fatalf("secret set --value: %d %q %q", code, out, errOut)
	}
	reqs := g.take()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPut || reqs[0].Path != "/v1/secrets/db" ||
		reqs[0].Namespace != "team-a" || reqs[0].ContentType != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	wantJSON(t, "--value", reqs[0].Body, `{"value":"s3cr3t-VALUE"}`)

	// 200 is an update; a file is sent byte for byte.
	g.answer(http.StatusOK, secretAnswer)
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out2, errOut2 := hearthAt(g.URL, "secret", "set", "db", "--from-file", file)
	if code != 0 || out2 != "secret db updated in namespace default\n" {
		t.Fatalf("secret set --from-file: %d %q %q", code, out2, errOut2)
	}
	wantJSON(t, "--from-file", g.take()[0].Body, `{"value":"s3cr3t-VALUE\n"}`)

	// Neither flag: stdin.
	withSecretStdin(t, []byte("from stdin\x00é"))
	code, out3, errOut3 := hearthAt(g.URL, "secret", "set", "db")
	if code != 0 || !strings.Contains(out3, "secret db updated") {
		t.Fatalf("secret set from stdin: %d %q %q", code, out3, errOut3)
	}
	wantJSON(t, "stdin", g.take()[0].Body, `{"value":"from stdin\u0000é"}`)

	for _, s := range []string{out, errOut, out2, errOut2, out3, errOut3} {
		if strings.Contains(s, value) || strings.Contains(s, "from stdin") {
			t.Errorf("the value is echoed: %q", s)
		}
	}

	// An empty --value is a value.
	if code, _, errOut := hearthAt(g.URL, "secret", "set", "db", "--value", ""); code != 0 {
		t.Fatalf("secret set --value '': %d %q", code, errOut)
	}
	wantJSON(t, "empty --value", g.take()[0].Body, `{"value":""}`)

	// The server's refusal of a value is shown.
	g.answer(http.StatusRequestEntityTooLarge, `{"error":{"code":"payload_too_large","message":"a secret is at most 65536 bytes"}}`)
	if code, _, errOut := hearthAt(g.URL, "secret", "set", "db", "--value", "x"); code != 1 || !strings.Contains(errOut, "payload_too_large") {
		t.Errorf("413: %d %q", code, errOut)
	}
}

func TestSecretSetBadInput(t *testing.T) {
	g := newFakeGateway(t, http.StatusCreated, secretAnswer)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	limit := 64 << 10
	atLimit := write("at-limit", []byte(strings.Repeat("a", limit)))
	tooBig := write("too-big", []byte(strings.Repeat("a", limit+1)))
	binary := write("binary", []byte{0xff, 0xfe, 0x00})
	checkCases(t, g, []cliCase{
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
	// A value of 64 KiB exactly is sent.
	if code, _, errOut := hearthAt(g.URL, "secret", "set", "db", "--from-file", atLimit); code != 0 {
		t.Errorf("64 KiB value: %d %q", code, errOut)
	}
	g.take()

	// Stdin: a terminal (a character device: /dev/null stands for one) is
	// refused; a value over 64 KiB too.
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	secretStdin = devNull
	t.Cleanup(func() { secretStdin = nil })
	checkCases(t, g, []cliCase{{[]string{"secret", "set", "db"}, 2, "stdin is a terminal"}})
	withSecretStdin(t, []byte(strings.Repeat("a", limit+1)))
	checkCases(t, g, []cliCase{{[]string{"secret", "set", "db"}, 2, "64 KiB"}})
}

func TestSecretListAndRemove(t *testing.T) {
	list := `{"secrets":[{"name":"api-token","created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-05T03:04:05Z"},` +
		`{"name":"db","created_at":"2026-01-03T03:04:05Z","updated_at":"2026-01-03T03:04:05Z"}]}`
	g := newFakeGateway(t, http.StatusOK, list)
	code, out, errOut := hearthAt(g.URL, "secret", "ls", "--namespace", "team-a")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "UPDATED") ||
		!strings.HasPrefix(lines[1], "api-token") || !strings.HasPrefix(lines[2], "db") {
		t.Fatalf("secret ls: %d %q %q", code, out, errOut)
	}
	if reqs := g.take(); len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/secrets" || reqs[0].Namespace != "team-a" {
		t.Fatalf("requests %+v", reqs)
	}
	if code, out, _ := hearthAt(g.URL, "secret", "ls", "--json"); code != 0 {
		t.Fatalf("secret ls --json: %d", code)
	} else {
		wantJSON(t, "secret ls --json", []byte(out), list)
	}
	g.answer(http.StatusOK, `{"secrets":[]}`)
	if code, out, errOut := hearthAt(g.URL, "secret", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no secrets in namespace default") {
		t.Errorf("secret ls of none: %d %q %q", code, out, errOut)
	}
	g.take()

	g.answer(http.StatusNoContent, "")
	if code, out, errOut := hearthAt(g.URL, "secret", "rm", "db", "--namespace", "team-a"); code != 0 || out != "removed secret db from namespace team-a\n" {
		t.Errorf("secret rm: %d %q %q", code, out, errOut)
	}
	if reqs := g.take(); len(reqs) != 1 || reqs[0].Method != http.MethodDelete || reqs[0].Path != "/v1/secrets/db" || reqs[0].Namespace != "team-a" {
		t.Fatalf("requests %+v", reqs)
	}
	g.answer(http.StatusNotFound, `{"error":{"code":"secret_not_found","message":"no secret nope"}}`)
	if code, _, errOut := hearthAt(g.URL, "secret", "rm", "nope"); code != 1 || !strings.Contains(errOut, "secret_not_found") {
		t.Errorf("secret rm of an unknown name: %d %q", code, errOut)
	}
}
