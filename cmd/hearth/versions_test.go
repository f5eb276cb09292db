package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/sdk/client"
)

// TestRegistryCLI drives hearth up, versions, alias and inspect.
func TestRegistryCLI(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	dir := t.TempDir()
	for name, wasm := range map[string][]byte{"hello.wasm": stacktest.ExampleWasm(t, "hello"), "echo.wasm": stacktest.ExampleWasm(t, "echo"), "junk.wasm": []byte("junk")} {
		if err := os.MkdirAll(filepath.Join(dir, "fns"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fns", name), wasm, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	manifest := write("hearth.yaml", `functions:
  - name: greet
    module: fns/hello.wasm
    env: {GREETING: hi}
    labels: {team: web}
  - name: parrot
    namespace: birds
    module: ./fns/echo.wasm
    memory_mb: 32
`)
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := hearth(args...)
		if code != 0 {
			t.Fatalf("hearth %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}

	// up deploys every function; module paths are relative to the manifest.
	out := must("up", "-f", manifest)
	if !strings.Contains(out, "deployed greet version 1") || !strings.Contains(out, "deployed birds/parrot version 1") {
		t.Fatalf("up: %q", out)
	}
	cl := client.New(s.GatewayURL)
	cl.Namespace = "birds"
	parrot, err := cl.Get(context.Background(), "parrot")
	if err != nil || parrot.Spec.MemoryMB != 32 {
		t.Fatalf("birds/parrot: %+v %v", parrot, err)
	}
	if out := must("up", "-f", manifest, "--dry-run"); !strings.Contains(out, "ok greet") || !strings.Contains(out, "ok birds/parrot") {
		t.Fatalf("up --dry-run: %q", out)
	}
	if out := must("up", "-f", manifest, "greet"); !strings.Contains(out, "deployed greet version 2") || strings.Contains(out, "parrot") {
		t.Fatalf("up greet: %q", out)
	}

	// versions, alias, invoke through it, inspect.
	if out := must("versions", "greet"); !strings.Contains(out, "VERSION") || !strings.Contains(out, "latest") || strings.Count(out, "\n") != 3 {
		t.Fatalf("versions: %q", out)
	}
	if out := must("alias", "set", "greet", "prod", "1"); out != "greet:prod → 1\n" {
		t.Fatalf("alias set: %q", out)
	}
	if out := must("invoke", "greet:prod", "--data", "CLI"); out != "Hello, CLI!\n" {
		t.Fatalf("invoke greet:prod: %q", out)
	}
	if out := must("alias", "set", "greet", "canary", "1=90", "2=10%"); out != "greet:canary → 1=90% 2=10%\n" {
		t.Fatalf("alias set weights: %q", out)
	}
	if out := must("alias", "ls", "greet"); !strings.Contains(out, "latest (implicit)") || !strings.Contains(out, "canary") || !strings.Contains(out, "prod") {
		t.Fatalf("alias ls: %q", out)
	}
	out = must("inspect", "greet")
	for _, want := range []string{"name:", "greet", "spec (version 2)", "GREETING=hi", "team=web", "versions:", "aliases:", "1=90% 2=10%"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	var fn client.Function
	if err := json.Unmarshal([]byte(must("inspect", "greet", "--json")), &fn); err != nil || len(fn.Versions) != 2 || len(fn.Aliases) != 3 {
		t.Fatalf("inspect --json: %+v %v", fn, err)
	}
	if out := must("alias", "rm", "greet", "prod"); out != "removed alias prod of greet\n" {
		t.Fatalf("alias rm: %q", out)
	}

	bad := []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"invoke", "greet:prod"}, 3, "alias_not_found"},
		{[]string{"invoke", "greet@7"}, 3, "version_not_found"},
		{[]string{"alias", "set", "greet", "prod", "1=50", "2=40"}, 1, "add up to 90"},
		{[]string{"alias", "set", "greet", "prod", "9"}, 1, "greet has no version 9"},
		{[]string{"alias", "set", "greet", "prod", "x"}, 2, `version "x" is not a version number`},
		{[]string{"alias", "set", "greet", "prod", "1=a"}, 2, "VERSION=WEIGHT"},
		{[]string{"alias", "set", "greet", "prod", "1=50", "1=50"}, 2, "given twice"},
		{[]string{"alias", "set", "greet", "prod"}, 2, "want `alias set"},
		{[]string{"alias", "rm", "greet", "nope"}, 3, "alias_not_found"},
		{[]string{"alias"}, 2, "want `alias set"},
		{[]string{"versions"}, 2, "want one function NAME"},
		{[]string{"versions", "nope"}, 3, "function_not_found"},
		{[]string{"inspect", "nope"}, 3, "function_not_found"},
		{[]string{"up", "-f", filepath.Join(dir, "missing.yaml")}, 1, "no manifest at"},
		{[]string{"up", "-f", write("typo.yaml", "functions:\n  - name: a\n    module: fns/hello.wasm\n    memroy_mb: 1\n")}, 1, "typo.yaml:4: unknown field memroy_mb"},
		{[]string{"up", "-f", write("nofile.yaml", "functions:\n  - {name: a, module: fns/none.wasm}\n")}, 1, "nofile.yaml:2: function a: read module"},
		{[]string{"up", "-f", manifest, "nope"}, 2, `has no function "nope"; it has greet, parrot`},
		// Nothing is deployed when one function fails the check.
		{[]string{"up", "-f", write("mixed.yaml", "functions:\n  - {name: fine, module: fns/hello.wasm}\n  - {name: broken, module: fns/junk.wasm}\n")}, 1, "nothing was deployed:\n" + filepath.Join(dir, "mixed.yaml") + ":3: function broken: invalid_module"},
	}
	for _, tt := range bad {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}
	if _, err := client.New(s.GatewayURL).Get(context.Background(), "fine"); err == nil {
		t.Error("a manifest with a broken function deployed the others")
	}
}
