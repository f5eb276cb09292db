package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/sdk/client"
)

// hearthCLI runs one command line and returns its exit code and output.
func hearthCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolateConfig points the config file at an empty temporary directory
// and clears the variables the CLI reads, so that neither the user's
// config nor the test's environment leaks in.
func isolateConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	for _, k := range []string{"HEARTH_CONFIG", "HEARTH_CONTEXT", "HEARTH_GATEWAY", "HEARTH_NAMESPACE", "HEARTH_API_KEY"} {
		t.Setenv(k, "")
	}
	return filepath.Join(dir, "hearth", "config.yaml")
}

// TestCompletion: hearth completion writes the script of each shell, and
// the hidden __complete command completes function names from the gateway.
func TestCompletion(t *testing.T) {
	isolateConfig(t)
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for hearth",
		"zsh":        "#compdef hearth",
		"fish":       "complete -c hearth",
		"powershell": "Register-ArgumentCompleter -CommandName 'hearth'",
	} {
		code, out, errOut := hearthCLI("completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, stderr %q; want a script with %q, got %.200q", shell, code, errOut, want, out)
		}
	}
	if code, _, errOut := hearthCLI("completion", "tcsh"); code != 2 || !strings.Contains(errOut, "tcsh") {
		t.Errorf("completion tcsh: exit %d, %q", code, errOut)
	}

	s := stacktest.Dev(t, t.TempDir())
	code, out, _ := hearthCLI("__complete", "invoke", "--gateway", s.GatewayURL, "he")
	if code != 0 || !strings.Contains(out, "hello\n") || strings.Contains(out, "echo\n") {
		t.Errorf("__complete invoke he: %d %q", code, out)
	}
	if code, out, _ := hearthCLI("__complete", "ls", "-o", ""); code != 0 || !strings.Contains(out, "yaml\n") {
		t.Errorf("__complete ls -o: %d %q", code, out)
	}
	if code, out, _ := hearthCLI("__complete", "de"); code != 0 || !strings.Contains(out, "deploy") || !strings.Contains(out, "dev") {
		t.Errorf("__complete de: %d %q", code, out)
	}
}

// TestVersion: hearth version reports the Go and wazero versions this
// binary was built with.
func TestVersion(t *testing.T) {
	code, out, errOut := hearthCLI("version", "-o", "json")
	if code != 0 {
		t.Fatalf("version -o json: %d %q", code, errOut)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json: %q: %v", out, err)
	}
	if want := wazeroInGoMod(t); v.Go != runtime.Version() || v.Wazero != want || v.Version == "" || v.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version %+v; want go %s, wazero %s", v, runtime.Version(), want)
	}
	code, out, _ = hearthCLI("version")
	for _, want := range []string{"hearth", "commit", "go  ", runtime.Version(), "wazero", v.Wazero} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("version: %d, no %q in %q", code, want, out)
		}
	}
	if code, out, _ := hearthCLI("version", "-o", "yaml"); code != 0 || !strings.Contains(out, "wazero: "+v.Wazero+"\n") {
		t.Errorf("version -o yaml: %d %q", code, out)
	}
}

// wazeroInGoMod is the version of wazero go.mod requires.
func wazeroInGoMod(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github.com/tetratelabs/wazero (\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no wazero")
	}
	return string(m[1])
}

// TestHelp: every command has help with a usage line and examples, on
// stdout; hearth help CMD prints the same as CMD --help; an unknown
// topic is a usage error with suggestions.
func TestHelp(t *testing.T) {
	isolateConfig(t)
	var walk func(c *cobra.Command)
	var paths [][]string
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			path := strings.Fields(sub.CommandPath())[1:]
			if !strings.HasPrefix(sub.CommandPath(), "hearth completion") {
				paths = append(paths, path)
			}
			walk(sub)
		}
	}
	walk(newRoot(&app{stdout: io.Discard, stderr: io.Discard}))
	if len(paths) < 40 {
		t.Fatalf("only %d commands: %v", len(paths), paths)
	}
	for _, path := range paths {
		code, out, errOut := hearthCLI(append(slices.Clone(path), "--help")...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:\n  hearth "+strings.Join(path, " ")) || !strings.Contains(out, "Examples:\n  hearth ") {
			t.Errorf("hearth %s --help: exit %d, stderr %q, help without usage or examples:\n%s", strings.Join(path, " "), code, errOut, out)
			continue
		}
		code, viaHelp, _ := hearthCLI(append([]string{"help"}, path...)...)
		if code != 0 || viaHelp != out {
			t.Errorf("hearth help %s: exit %d, differs from --help:\n%s", strings.Join(path, " "), code, viaHelp)
		}
	}
	// The garbled flag of the flag package's help is gone.
	if _, out, _ := hearthCLI("help", "dev"); !strings.Contains(out, "--max-runners int") {
		t.Errorf("help dev:\n%s", out)
	}
	// hearth alone prints the commands, and is a usage error.
	if code, out, errOut := hearthCLI(); code != 2 || out != "" || !strings.Contains(errOut, "Functions:") || !strings.Contains(errOut, "deploy") {
		t.Errorf("hearth: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := hearthCLI("help", "dploy"); code != 2 || !strings.Contains(errOut, "did you mean deploy?") {
		t.Errorf("help dploy: %d %q", code, errOut)
	}
}

// TestDidYouMean: a mistyped command, subcommand or flag is a usage error
// that names what was meant.
func TestDidYouMean(t *testing.T) {
	isolateConfig(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dpeloy", "x", "y.wasm"}, `unknown command "dpeloy" for "hearth"; did you mean deploy?`},
		{[]string{"invok", "hello"}, "did you mean invoke?"},
		{[]string{"secret", "sett", "db"}, `unknown command "sett" for "hearth secret"; did you mean set?`},
		{[]string{"alias", "lss", "greet"}, "did you mean ls?"},
		{[]string{"ls", "--gatway", "http://127.0.0.1:1"}, "unknown flag: --gatway; did you mean --gateway?"},
		{[]string{"invoke", "hello", "--asyn"}, "did you mean --async?"},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "hearth"; its commands are`},
	} {
		code, out, errOut := hearthCLI(c.args...)
		want := c.want
		if code != 2 || out != "" || !strings.Contains(errOut, want) || !strings.Contains(errOut, "--help' for usage") {
			t.Errorf("hearth %q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, want)
		}
	}
}

// TestLegacyFlags: the single-dash long flags of the flag package that
// the CLI was built on still parse, before and after the arguments, with
// values apart or after =; shorthands stay shorthands.
func TestLegacyFlags(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.wasm"), stacktest.ExampleWasm(t, "hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "hearth.yaml")
	if err := os.WriteFile(manifest, []byte("functions:\n  - {name: greet, module: hello.wasm}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"invoke", "-gateway", s.GatewayURL, "hello", "-data", "Legacy"}, "Hello, Legacy!\n"},
		{[]string{"invoke", "hello", "-gateway=" + s.GatewayURL, "-data=@" + input, "-v"}, "Hello, file!\n"},
		{[]string{"invoke", "hello", "--gateway", s.GatewayURL, "-d", "short"}, "Hello, short!\n"},
		{[]string{"invoke", "hello", "-g", s.GatewayURL, "--data", "-json"}, "Hello, -json!\n"}, // a value, not a flag
		{[]string{"up", "-f", manifest, "-gateway", s.GatewayURL, "-dry-run"}, "ok greet\n"},
		{[]string{"inspect", "hello", "-gateway", s.GatewayURL, "-json"}, `"name": "hello"`},
		{[]string{"ls", "-gateway", s.GatewayURL, "-namespace", "default"}, "hello"},
		{[]string{"invocations", "hello", "-gateway", s.GatewayURL, "-limit", "5"}, "ID"},
		{[]string{"invoke", "hello", "--v", "-d", "old", "-gateway", s.GatewayURL}, "Hello, old!\n"}, // -v was named v
		{[]string{"up", "--f", manifest, "-gateway", s.GatewayURL, "-dry-run"}, "ok greet\n"},        // -f was named f
	} {
		code, out, errOut := hearthCLI(c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("hearth %q: exit %d, stdout %q, stderr %q; want %q", c.args, code, out, errOut, c.want)
		}
	}

	root := newRoot(&app{stdout: io.Discard, stderr: io.Discard})
	for _, c := range []struct{ in, want []string }{
		{[]string{"invoke", "-gateway", "u", "fn", "-data", "-x", "-v", "-async"}, []string{"invoke", "--gateway", "u", "fn", "--data", "-x", "-v", "--async"}},
		{[]string{"logs", "-f", "fn", "-limit=3"}, []string{"logs", "-f", "fn", "--limit=3"}},
		{[]string{"key", "create", "ci", "-scope", "read", "-json"}, []string{"key", "create", "ci", "--scope", "read", "--json"}},
		{[]string{"key", "-gateway", "u", "ls"}, []string{"key", "--gateway", "u", "ls"}},
		{[]string{"gateway", "-nats", "n", "-insecure-no-auth", "-s3-endpoint=e"}, []string{"gateway", "--nats", "n", "--insecure-no-auth", "--s3-endpoint=e"}},
		{[]string{"invoke", "fn", "-nosuch", "--", "-data"}, []string{"invoke", "fn", "-nosuch", "--", "-data"}},
		{[]string{"ls", "-og", "json"}, []string{"ls", "-og", "json"}},
	} {
		if got := normalizeLegacyFlags(root, c.in); !slices.Equal(got, c.want) {
			t.Errorf("normalizeLegacyFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestExitCodes: each documented exit code, from the command line that
// causes it.
func TestExitCodes(t *testing.T) {
	isolateConfig(t)
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{MaxAttempts: 1}})
	stacktest.MustDeploy(t, s.GatewayURL, "trap", testmodules.Trap, "")
	stacktest.MustDeploy(t, s.GatewayURL, "exit3", testmodules.ExitCode, "")
	stacktest.MustDeploy(t, s.GatewayURL, "loop", testmodules.Loop, `{"timeout_ms":300}`)
	stacktest.MustDeploy(t, s.GatewayURL, "sleep", testmodules.Sleep, `{"timeout_ms":10000}`)
	g := []string{"--gateway", s.GatewayURL}
	for _, c := range []struct {
		what    string
		args    []string
		code    int
		mention string
	}{
		{"ok", []string{"invoke", "hello", "-d", "x"}, exitOK, ""},
		{"usage: no NAME", []string{"invoke"}, exitUsage, "want one function NAME"},
		{"usage: unknown flag", []string{"invoke", "hello", "--nope"}, exitUsage, "unknown flag: --nope"},
		{"usage: bad value", []string{"invocations", "hello", "--limit", "many"}, exitUsage, `invalid argument "many"`},
		{"usage: bad -o", []string{"ls", "-o", "xml"}, exitUsage, `-o "xml": use table, json or yaml`},
		{"usage: bad header", []string{"invoke", "hello", "-H", "no-colon"}, exitUsage, `-H "no-colon"`},
		{"error: unreachable gateway", []string{"ls", "--gateway", "http://127.0.0.1:1"}, exitError, "is the gateway running at http://127.0.0.1:1"},
		{"error: a bad request", []string{"invocations", "hello", "--limit", "0"}, exitError, "limit"},
		{"not found: function", []string{"invoke", "nope"}, exitNotFound, "function_not_found"},
		{"not found: passthrough", []string{"invoke", "nope", "-X", "GET"}, exitNotFound, "function_not_found"},
		{"not found: version", []string{"invoke", "hello@9"}, exitNotFound, "version_not_found"},
		{"not found: invocation", []string{"invocation", "nope", "--result"}, exitNotFound, "invocation_not_found"},
		{"failed: trap", []string{"invoke", "trap"}, exitFailed, "trap"},
		{"failed: exit code", []string{"invoke", "exit3"}, exitFailed, "bad things"},
		{"failed: async, waited for", []string{"invoke", "trap", "--wait"}, exitFailed, "after 1 attempt(s): "},
		{"timeout: the function's", []string{"invoke", "loop"}, exitTimeout, "timeout"},
		{"timeout: the function's, waited for", []string{"invoke", "loop", "--wait"}, exitTimeout, "after 1 attempt(s): timeout"},
		{"timeout: the CLI's own", []string{"invoke", "sleep", "-d", "3000", "--timeout", "300ms"}, exitTimeout, "no answer within --timeout 300ms"},
		{"timeout: the CLI's own, waiting", []string{"invoke", "sleep", "-d", "3000", "--wait", "--timeout", "500ms"}, exitTimeout, "gave up waiting for invocation"},
	} {
		args := c.args
		if !slices.Contains(args, "--gateway") {
			args = append(args, g...)
		}
		code, _, errOut := hearthCLI(args...)
		if code != c.code || !strings.Contains(errOut, c.mention) {
			t.Errorf("%s: hearth %q: exit %d, stderr %q; want %d mentioning %q", c.what, c.args, code, errOut, c.code, c.mention)
		}
	}
}

// TestPassthroughStatus: a passthrough call prints what the function
// answered, and exits by the status the function chose (echo answers
// with its input, CGI headers included).
func TestPassthroughStatus(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	for _, c := range []struct {
		status string
		code   int
	}{
		{"201 Created", exitOK}, {"404 Not Found", exitNotFound}, {"418 Teapot", exitError},
		{"500 Oops", exitFailed}, {"504 Late", exitTimeout},
	} {
		answer := "Status: " + c.status + "\r\nContent-Type: text/plain\r\n\r\nthe body"
		code, out, errOut := hearthCLI("invoke", "echo", "--path", "/x", "-d", answer, "-v", "-g", s.GatewayURL)
		if code != c.code || out != "the body" || !strings.Contains(errOut, "HTTP "+c.status[:4]) {
			t.Errorf("echo answering %s: exit %d, stdout %q, stderr %q; want %d", c.status, code, out, errOut, c.code)
		}
	}
}

// TestOutputFormats: -o json and -o yaml print the API's names for the
// listing and show commands; --json is -o json.
func TestOutputFormats(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	g := []string{"--gateway", s.GatewayURL}
	if code, _, errOut := hearthCLI(append([]string{"alias", "set", "hello", "prod", "1"}, g...)...); code != 0 {
		t.Fatalf("alias set: %d %q", code, errOut)
	}
	type listing struct {
		Functions   []client.Function   `json:"functions" yaml:"functions"`
		Versions    []client.Version    `json:"versions" yaml:"versions"`
		Aliases     []client.Alias      `json:"aliases" yaml:"aliases"`
		Invocations []client.Invocation `json:"invocations" yaml:"invocations"`
		DeadLetters []client.DeadLetter `json:"dead_letters" yaml:"dead_letters"`
		Triggers    []client.Trigger    `json:"triggers" yaml:"triggers"`
		Name        string              `json:"name" yaml:"name"`
	}
	hearthCLI(append([]string{"invoke", "hello", "-d", "x"}, g...)...)
	for _, c := range []struct {
		args []string
		ok   func(l listing) bool
	}{
		{[]string{"ls"}, func(l listing) bool { return len(l.Functions) >= 4 }},
		{[]string{"versions", "hello"}, func(l listing) bool { return len(l.Versions) == 1 && l.Versions[0].Version == 1 }},
		{[]string{"alias", "ls", "hello"}, func(l listing) bool { return len(l.Aliases) == 2 }},
		{[]string{"invocations", "hello"}, func(l listing) bool { return len(l.Invocations) >= 1 }},
		{[]string{"dlq", "ls"}, func(l listing) bool { return l.DeadLetters != nil && len(l.DeadLetters) == 0 }},
		{[]string{"trigger", "ls", "hello"}, func(l listing) bool { return l.Triggers != nil }},
		{[]string{"inspect", "hello"}, func(l listing) bool { return l.Name == "hello" }},
	} {
		for _, format := range []string{"json", "yaml"} {
			code, out, errOut := hearthCLI(slices.Concat(c.args, []string{"-o", format}, g)...)
			var l listing
			var err error
			if format == "json" {
				err = json.Unmarshal([]byte(out), &l)
			} else {
				err = yaml.Unmarshal([]byte(out), &l)
			}
			if code != 0 || err != nil || !c.ok(l) {
				t.Errorf("hearth %q -o %s: exit %d, %v, stderr %q:\n%s", c.args, format, code, err, errOut, out)
			}
		}
	}
	_, asJSON, _ := hearthCLI(append([]string{"versions", "hello", "-o", "json"}, g...)...)
	if _, legacy, _ := hearthCLI(append([]string{"versions", "hello", "--json"}, g...)...); legacy != asJSON {
		t.Errorf("--json %q differs from -o json %q", legacy, asJSON)
	}
	// YAML has block style and the JSON names, in their order.
	_, out, _ := hearthCLI(append([]string{"versions", "hello", "-o", "yaml"}, g...)...)
	if !strings.HasPrefix(out, "versions:\n  - version: 1\n    digest: sha256:") || strings.Contains(out, "{") {
		t.Errorf("versions -o yaml:\n%s", out)
	}
}

// TestInvokeFlags: the method, headers, query, content type and path of
// hearth invoke reach the function (a command that prints its
// environment: the CGI variables); --callback has the result POSTed;
// --wait prints the result of a queued call.
func TestInvokeFlags(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	stacktest.MustDeploy(t, s.GatewayURL, "printenv", testmodules.PrintEnv, "")
	g := []string{"--gateway", s.GatewayURL}
	env := func(args ...string) map[string]string {
		t.Helper()
		code, out, errOut := hearthCLI(slices.Concat([]string{"invoke", "printenv"}, args, g)...)
		if code != 0 {
			t.Fatalf("invoke printenv %q: exit %d, %q", args, code, errOut)
		}
		e, err := testmodules.DecodeEnv([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"-d", "hi", "-H", "X-Probe: seen", "-H", "X-Probe: twice", "--header=X-Other:v", "--query", "a=1", "--query", "b=two words", "--content-type", "text/plain"},
			map[string]string{"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_PROBE": "seen, twice", "HTTP_X_OTHER": "v",
				"QUERY_STRING": "a=1&b=two+words", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "2"}},
		{[]string{"-X", "put", "--path", "/users/42", "--query", "flag", "-H", "Accept: text/html", "-d", "body"},
			map[string]string{"REQUEST_METHOD": "PUT", "PATH_INFO": "/users/42", "QUERY_STRING": "flag=", "HTTP_ACCEPT": "text/html", "CONTENT_TYPE": "application/octet-stream"}},
		{[]string{"-X", "GET"}, map[string]string{"REQUEST_METHOD": "GET", "PATH_INFO": "/", "CONTENT_LENGTH": "0"}},
		{[]string{"--path", "docs/a.md", "-H", "Content-Type: text/markdown", "-d", "# A"}, map[string]string{"REQUEST_METHOD": "POST", "PATH_INFO": "/docs/a.md", "CONTENT_TYPE": "text/markdown"}},
	} {
		got := env(c.args...)
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("invoke printenv %q: %s=%q, want %q", c.args, k, got[k], v)
			}
		}
		if _, ok := got["HTTP_AUTHORIZATION"]; ok {
			t.Errorf("invoke printenv %q: the function sees Authorization", c.args)
		}
	}

	// --callback queues the call and the gateway POSTs the result.
	got := make(chan string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- r.Method + " " + string(b):
		default:
		}
	}))
	defer cb.Close()
	code, out, errOut := hearthCLI(slices.Concat([]string{"invoke", "hello", "-d", "callback", "--callback", cb.URL + "/done"}, g)...)
	id := strings.TrimSpace(out)
	if code != 0 || id == "" || strings.Contains(id, "\n") {
		t.Fatalf("invoke --callback: %d %q %q", code, out, errOut)
	}
	select {
	case body := <-got:
		if body != "POST Hello, callback!\n" {
			t.Errorf("the callback got %q", body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no callback within 30s")
	}
	if rec := stacktest.Record(t, s.GatewayURL, id); rec.Mode != "async" {
		t.Errorf("the callback's invocation %s is %q, want async", id, rec.Mode)
	}

	// --wait queues the call and prints its result, with progress lines.
	code, out, errOut = hearthCLI(slices.Concat([]string{"invoke", "hello", "-d", "waited", "--wait"}, g)...)
	if code != 0 || out != "Hello, waited!\n" || !strings.Contains(errOut, "invocation ") || !strings.Contains(errOut, "succeeded") {
		t.Errorf("invoke --wait: %d %q %q", code, out, errOut)
	}

	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"-X", "GET", "--async"}, "do not go with -X GET"},
		{[]string{"--path", "/x", "--wait"}, "do not go with"},
		{[]string{"--callback", "ftp://x"}, "absolute http(s) URL"},
		{[]string{"--idempotency-key", "k"}, "--idempotency-key goes with --async"},
		{[]string{"--query", "=v"}, "KEY=VALUE"},
		{[]string{"-H", ": v"}, `give "NAME: VALUE"`},
		{[]string{"-X", "GE T"}, "not an HTTP method"},
		{[]string{"--path", "/x?y=1"}, "--query"},
		{[]string{"--output", t.TempDir()}, "is a directory"},
		{[]string{"--output", filepath.Join(t.TempDir(), "no", "such", "out.bin")}, "does not exist"},
	} {
		code, _, errOut := hearthCLI(slices.Concat([]string{"invoke", "printenv"}, c.args, g)...)
		if code != exitUsage || !strings.Contains(errOut, c.mention) {
			t.Errorf("invoke %q: exit %d, %q; want 2 mentioning %q", c.args, code, errOut, c.mention)
		}
	}

	// --output FILE: the result, byte for byte (every byte value, sync and
	// with --wait), in the file and not on stdout; an existing file is
	// replaced whole.
	stacktest.MustDeploy(t, s.GatewayURL, "echo", stacktest.ExampleWasm(t, "echo"), "")
	input := make([]byte, 4096)
	for i := range input {
		input[i] = byte(i)
	}
	in := filepath.Join(t.TempDir(), "in.bin")
	if err := os.WriteFile(in, input, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range [][]string{nil, {"--wait"}} {
		out := filepath.Join(t.TempDir(), "out.bin")
		if err := os.WriteFile(out, bytes.Repeat([]byte("old "), 5000), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, errOut := hearthCLI(slices.Concat([]string{"invoke", "echo", "--data", "@" + in, "--output", out}, mode, g)...)
		if code != 0 || stdout != "" {
			t.Fatalf("invoke --output %v: exit %d, stdout %q, stderr %q", mode, code, stdout, errOut)
		}
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, input) {
			t.Fatalf("invoke --output %v: the file has %d bytes (%v), want the 4096 bytes sent back", mode, len(got), err)
		}
	}
}

// TestUploadProgress: a large deploy shows its progress on stderr; not
// on a terminal, as plain lines a quarter of the way each.
func TestUploadProgress(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	big := filepath.Join(t.TempDir(), "big.wasm")
	if err := os.WriteFile(big, padModule(stacktest.ExampleWasm(t, "hello"), 6<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := hearthCLI("deploy", "big", big, "--gateway", s.GatewayURL)
	if code != 0 || !strings.Contains(out, "deployed big version 1") {
		t.Fatalf("deploy: %d %q %q", code, out, errOut)
	}
	lines := regexp.MustCompile(`(?m)^uploading /v1/functions/big: +(\d+)% `).FindAllStringSubmatch(errOut, -1)
	var pcts []string
	for _, l := range lines {
		pcts = append(pcts, l[1])
	}
	if !slices.Equal(pcts, []string{"0", "25", "50", "75", "100"}) || strings.Contains(errOut, "\r") {
		t.Errorf("progress %v in:\n%s", pcts, errOut)
	}
	// A small one shows none.
	_, _, errOut = hearthCLI("deploy", "small", writeTemp(t, stacktest.ExampleWasm(t, "hello")), "--gateway", s.GatewayURL)
	if strings.Contains(errOut, "uploading") {
		t.Errorf("a small deploy shows progress: %q", errOut)
	}
}

// padModule appends a custom section to a module to make it n bytes
// larger.
func padModule(module []byte, n int) []byte {
	payload := append([]byte{3, 'p', 'a', 'd'}, make([]byte, n)...)
	size := len(payload)
	var leb []byte
	for {
		b := byte(size & 0x7f)
		size >>= 7
		if size == 0 {
			leb = append(leb, b)
			break
		}
		leb = append(leb, b|0x80)
	}
	return slices.Concat(module, []byte{0}, leb, payload)
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
