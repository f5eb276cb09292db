package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/cliconfig"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestContextCommands: context set, use, ls, current and rm edit the
// config file under XDG_CONFIG_HOME, mode 0600, and never print a key.
func TestContextCommands(t *testing.T) {
	path := isolateConfig(t)
	if code, out, errOut := hearthCLI("context", "ls"); code != 0 || out != "" || !strings.Contains(errOut, "no contexts in "+path) {
		t.Fatalf("context ls of none: %d %q %q", code, out, errOut)
	}
	keyFile := filepath.Join(t.TempDir(), "admin.key")
	if err := os.WriteFile(keyFile, []byte("hk_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"context", "set", "dev", "--gateway", "http://127.0.0.1:8080", "--key-file", keyFile}, "context dev added (current)"},
		{[]string{"context", "set", "prod", "-g", "https://hearth.example.com", "-n", "shop"}, "context prod added in"},
		{[]string{"context", "use", "prod"}, "now using context prod (https://hearth.example.com)"},
		{[]string{"context", "set", "prod", "--namespace", "web"}, "context prod changed (current)"},
		{[]string{"context", "current"}, "prod\n"},
	} {
		if code, out, errOut := hearthCLI(c.args...); code != 0 || !strings.Contains(out, c.want) {
			t.Fatalf("hearth %q: %d %q %q; want %q", c.args, code, out, errOut, c.want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v %v", path, fi, err)
	}
	cfg, err := cliconfig.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Current != "prod" || cfg.Contexts["prod"].Namespace != "web" || cfg.Contexts["prod"].Gateway != "https://hearth.example.com" || cfg.Contexts["dev"].KeyFile != keyFile {
		t.Errorf("config %+v, prod %+v, dev %+v", cfg, cfg.Contexts["prod"], cfg.Contexts["dev"])
	}
	code, out, _ := hearthCLI("context", "ls")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "CURRENT") || !strings.Contains(lines[1], "dev") || !strings.Contains(lines[1], keyFile) ||
		!strings.HasPrefix(lines[2], "*") || !strings.Contains(lines[2], "prod") || !strings.Contains(lines[2], "web") {
		t.Errorf("context ls:\n%s", out)
	}
	var list struct {
		Current  string       `json:"current_context"`
		Contexts []contextRow `json:"contexts"`
	}
	if code, out, _ := hearthCLI("context", "ls", "-o", "json"); code != 0 || json.Unmarshal([]byte(out), &list) != nil || list.Current != "prod" || len(list.Contexts) != 2 || list.Contexts[0].Key != "file" {
		t.Errorf("context ls -o json: %d %q", code, out)
	}

	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"context", "use", "staging"}, `no context "staging"; the contexts are dev, prod`},
		{[]string{"context", "set", "x", "--gateway", "127.0.0.1:8080"}, "absolute http(s) URL"},
		{[]string{"context", "set", "x", "--namespace", "Bad_NS"}, "--namespace"},
		{[]string{"context", "rm", "nope"}, `no context "nope"`},
		{[]string{"context"}, "hearth context use NAME"},
		{[]string{"ls", "--context", "nope"}, `no context "nope"; the contexts are dev, prod`},
	} {
		if code, _, errOut := hearthCLI(c.args...); code != 2 || !strings.Contains(errOut, c.mention) {
			t.Errorf("hearth %q: %d %q; want 2 mentioning %q", c.args, code, errOut, c.mention)
		}
	}
	if code, out, _ := hearthCLI("context", "rm", "prod"); code != 0 || !strings.Contains(out, "removed context prod") {
		t.Errorf("context rm: %d %q", code, out)
	}
	if code, _, errOut := hearthCLI("context", "current"); code != 2 || !strings.Contains(errOut, "no current context") {
		t.Errorf("context current after rm: %d %q", code, errOut)
	}

	// A broken file says where and what to do.
	if err := os.WriteFile(path, []byte("contexts:\n  dev:\n    gatway: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := hearthCLI("ls"); code != 1 || !strings.Contains(errOut, path) || !strings.Contains(errOut, "gatway") {
		t.Errorf("ls with a broken config: %d %q", code, errOut)
	}
	// HEARTH_CONFIG names another file.
	other := filepath.Join(t.TempDir(), "other.yaml")
	t.Setenv("HEARTH_CONFIG", other)
	if code, out, _ := hearthCLI("context", "set", "x", "--gateway", "http://127.0.0.1:1"); code != 0 || !strings.Contains(out, other) {
		t.Errorf("HEARTH_CONFIG: %d %q", code, out)
	}
}

// TestConfigPrecedence: a command's gateway, namespace and key come from
// its flags, then the environment, then the context (the current one, or
// that of HEARTH_CONTEXT), then the defaults; --context comes before the
// environment, as a flag.
func TestConfigPrecedence(t *testing.T) {
	isolateConfig(t)
	a := newAuthStack(t)
	teamID, teamKey := a.createKey("team", "--scope", "admin", "--key-namespace", "*")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(a.AdminKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"context", "set", "local", "--gateway", a.GatewayURL, "--key-file", keyFile, "--namespace", "team-a"},
		{"context", "set", "broken", "--gateway", "http://127.0.0.1:1"},
		{"context", "use", "local"},
	} {
		if code, _, errOut := hearthCLI(args...); code != 0 {
			t.Fatalf("hearth %q: %d %q", args, code, errOut)
		}
	}
	// secret set shows the namespace it used; the secret's creator in the
	// audit log shows the key.
	setSecret := func(args ...string) (int, string) {
		t.Helper()
		code, out, errOut := hearthCLI(append([]string{"secret", "set", "s", "--value", "v"}, args...)...)
		return code, out + errOut
	}
	for _, c := range []struct {
		what string
		env  map[string]string
		args []string
		want string // in the output; "" for a failure
	}{
		{"the current context", nil, nil, "in namespace team-a"},
		{"flags over the context", nil, []string{"-n", "team-b"}, "in namespace team-b"},
		{"env over the context", map[string]string{"HEARTH_NAMESPACE": "team-c"}, nil, "in namespace team-c"},
		{"flag over env", map[string]string{"HEARTH_NAMESPACE": "team-c"}, []string{"--namespace", "team-d"}, "in namespace team-d"},
		{"env gateway over the context", map[string]string{"HEARTH_GATEWAY": "http://127.0.0.1:1"}, nil, "is the gateway running at http://127.0.0.1:1"},
		{"flag gateway over env", map[string]string{"HEARTH_GATEWAY": "http://127.0.0.1:1"}, []string{"-g", a.GatewayURL}, "in namespace team-a"},
		{"HEARTH_CONTEXT picks a context", map[string]string{"HEARTH_CONTEXT": "broken"}, nil, "is the gateway running at http://127.0.0.1:1"},
		{"--context over HEARTH_CONTEXT", map[string]string{"HEARTH_CONTEXT": "broken"}, []string{"--context", "local"}, "in namespace team-a"},
		{"--context over env", map[string]string{"HEARTH_GATEWAY": "http://127.0.0.1:1", "HEARTH_NAMESPACE": "team-c"}, []string{"--context", "local"}, "in namespace team-a"},
		{"env key over the context's", map[string]string{"HEARTH_API_KEY": "hk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}, nil, "unauthorized"},
		{"flag key over env", map[string]string{"HEARTH_API_KEY": "hk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}, []string{"--api-key", teamKey}, "in namespace team-a"},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		code, out := setSecret(c.args...)
		for k := range c.env {
			t.Setenv(k, "")
		}
		if !strings.Contains(out, c.want) || (code == 0) != strings.HasPrefix(c.want, "in namespace") {
			t.Errorf("%s: exit %d, %q; want %q", c.what, code, out, c.want)
		}
	}
	// The last change was made with the flag's key.
	testutil.Eventually(t, 10*time.Second, func() error {
		if e := a.audit("limit=1"); len(e) == 0 || e[0].Action != "secret.put" || e[0].KeyID != teamID {
			return fmt.Errorf("newest audit entry %+v, want a secret.put by %s", e, teamID)
		}
		return nil
	})
}

// TestLogin: login checks the key against the gateway and stores it only
// when the gateway takes it; later commands use it.
func TestLogin(t *testing.T) {
	path := isolateConfig(t)
	a := newAuthStack(t)
	_, readKey := a.createKey("reader", "--scope", "read", "--key-namespace", "team-a")

	// A key the gateway refuses is not stored.
	bad := "hk_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	if code, out, errOut := hearthCLI("login", "--gateway", a.GatewayURL, "--api-key", bad); code != 1 || out != "" ||
		!strings.Contains(errOut, "refused the key: unauthorized") || !strings.Contains(errOut, "nothing was stored") {
		t.Errorf("login with a bad key: %d %q %q", code, out, errOut)
	}
	withSecretStdin(t, []byte("\n"))
	if code, _, errOut := hearthCLI("login", "--gateway", a.GatewayURL); code != 2 || !strings.Contains(errOut, "the key is empty") {
		t.Errorf("login with an empty key: %d %q", code, errOut)
	}
	if code, _, errOut := hearthCLI("login", "--gateway", "http://127.0.0.1:1", "--api-key", a.AdminKey); code != 1 || !strings.Contains(errOut, "nothing was stored") {
		t.Errorf("login to no gateway: %d %q", code, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused login wrote %s: %v", path, err)
	}

	// The key from stdin (a pipe or a file) is checked and stored, mode
	// 0600, in context "default", which becomes current.
	withSecretStdin(t, []byte(a.AdminKey+"\n"))
	code, out, errOut := hearthCLI("login", "--gateway", a.GatewayURL)
	if code != 0 || !strings.Contains(out, "logged in to "+a.GatewayURL) || !strings.Contains(out, "context default") || strings.Contains(out+errOut, a.AdminKey) {
		t.Fatalf("login: %d %q %q", code, out, errOut)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", fi, err)
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil || dir.Mode().Perm() != 0o700 {
		t.Errorf("config dir: %v %v", dir, err)
	}
	cfg, err := cliconfig.LoadFile(path)
	if err != nil || cfg.Current != "default" || cfg.Contexts["default"].Key != a.AdminKey || cfg.Contexts["default"].Gateway != a.GatewayURL {
		t.Fatalf("config after login: %+v %v", cfg, err)
	}
	// Commands use it, with no flag and no variable.
	if code, out, errOut := hearthCLI("key", "ls"); code != 0 || !strings.Contains(out, "reader") {
		t.Errorf("key ls after login: %d %q %q", code, out, errOut)
	}
	// context ls shows that a key is stored, not the key.
	if _, out, _ := hearthCLI("context", "ls"); !strings.Contains(out, "stored") || strings.Contains(out, a.AdminKey) {
		t.Errorf("context ls: %q", out)
	}

	// A key that is valid but may not list functions there is stored,
	// with a note; a second context, by --context, becomes current.
	code, out, errOut = hearthCLI("login", "--context", "reader", "--gateway", a.GatewayURL, "-n", "team-b", "--api-key", readKey)
	if code != 0 || !strings.Contains(errOut, "the key is valid, but may not list the functions of namespace team-b") {
		t.Fatalf("login with a key of another namespace: %d %q %q", code, out, errOut)
	}
	cfg, _ = cliconfig.LoadFile(path)
	if cfg.Current != "reader" || cfg.Contexts["reader"].Namespace != "team-b" || cfg.Contexts["default"].Key != a.AdminKey {
		t.Errorf("config after the second login: %+v", cfg)
	}
	// Logging in again to the current context keeps its gateway.
	code, out, errOut = hearthCLI("login", "-n", "team-a", "--api-key", readKey)
	if code != 0 || !strings.Contains(out, "logged in to "+a.GatewayURL+"; context reader") || strings.Contains(errOut, "note:") {
		t.Errorf("login again: %d %q %q", code, out, errOut)
	}

	// A gateway without auth takes any key; login says so.
	open := stacktest.Dev(t, t.TempDir())
	code, _, errOut = hearthCLI("login", "--context", "open", "--gateway", open.GatewayURL, "--api-key", bad)
	if code != 0 || !strings.Contains(errOut, "does not check keys") {
		t.Errorf("login to a gateway without auth: %d %q", code, errOut)
	}
}
