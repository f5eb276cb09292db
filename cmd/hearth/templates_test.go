package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/templates"
	"github.com/hearthfn/hearth/internal/testutil"
)

// needToolchain skips a test whose template's tools are missing here, and
// fails it in CI, where go tool task test installs them all
// (templates:toolchains).
func needToolchain(t *testing.T, tmpl templates.Template) {
	t.Helper()
	if missing := missingTools(tmpl); len(missing) > 0 {
		msg := fmt.Sprintf("the %s template needs %s: %s", tmpl.Name, strings.Join(missing, ", "), installHint(missing))
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI installs them: go tool task test depends on templates:toolchains)")
		}
		t.Skip(msg)
	}
}

// execIn runs a program in dir with env added and returns its exit code
// and output.
func execIn(t *testing.T, dir string, env []string, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return 0, string(out)
}

// TestTemplatesEndToEnd drives the built hearth binary as a user does, for
// every template whose toolchain is here (all of them in CI): hearth new,
// hearth build, the folder's own test.sh (hearth up, then hearth invoke,
// checking the answer) against a dev stack, hearth logs, hearth rm.
func TestTemplatesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds hearth and a function of each template")
	}
	isolateConfig(t)
	bin := filepath.Join(t.TempDir(), "hearth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := stacktest.Dev(t, t.TempDir())
	env := []string{"HEARTH=" + bin, "HEARTH_GATEWAY=" + s.GatewayURL}
	work := t.TempDir() // outside the hearth module: the go template gets a go.mod of its own
	for _, tmpl := range templates.List() {
		t.Run(tmpl.Name, func(t *testing.T) {
			needToolchain(t, tmpl)
			name := "hi-" + tmpl.Name
			dir := filepath.Join(work, name)
			if code, out := execIn(t, work, env, bin, "new", name, "--template", tmpl.Name); code != 0 || !strings.Contains(out, "created "+name+"/ from the "+tmpl.Name+" template") {
				t.Fatalf("hearth new: exit %d\n%s", code, out)
			}
			if tmpl.Name == "assemblyscript" {
				if code, out := execIn(t, dir, nil, "npm", "install", "--prefer-offline", "--no-audit", "--no-fund"); code != 0 {
					t.Fatalf("npm install: exit %d\n%s", code, out)
				}
			}
			code, out := execIn(t, dir, env, bin, "build")
			if code != 0 || !strings.Contains(out, "built "+name+".wasm ("+tmpl.ABI+", ") {
				t.Fatalf("hearth build: exit %d\n%s", code, out)
			}
			if code, out := execIn(t, dir, env, "./test.sh"); code != 0 || !strings.Contains(out, "deployed "+name+" version 1 ("+tmpl.ABI) || !strings.HasSuffix(out, "ok "+name+"\n") {
				t.Fatalf("test.sh: exit %d\n%s", code, out)
			}
			if strings.HasPrefix(tmpl.Name, "go") {
				if code, out := execIn(t, dir, nil, "go", "test", "."); code != 0 {
					t.Errorf("the template's go test: exit %d\n%s", code, out)
				}
			}
			// The answer of a call with no body, through /fn/ as well.
			resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/fn/"+name, "", nil)
			if resp.StatusCode != 200 || string(body) != "Hello, world!\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") && tmpl.ABI == "reactor" {
				t.Errorf("/fn/%s: %d %q (%s)", name, resp.StatusCode, body, resp.Header.Get("Content-Type"))
			}
			testutil.Eventually(t, 10*time.Second, func() error {
				if code, out := execIn(t, dir, env, bin, "logs", name); code != 0 || !strings.Contains(out, name+": greeted 6 bytes") {
					return fmt.Errorf("hearth logs: exit %d\n%s", code, out)
				}
				return nil
			})
			if code, out := execIn(t, dir, env, bin, "rm", name); code != 0 {
				t.Fatalf("hearth rm: exit %d\n%s", code, out)
			}
			if code, _ := execIn(t, dir, env, bin, "invoke", name); code != exitNotFound {
				t.Errorf("invoke after rm: exit %d, want %d", code, exitNotFound)
			}
		})
	}
}

// TestNewBadInput: each bad argument of hearth new is a usage error that
// says what to do, and writes nothing.
func TestNewBadInput(t *testing.T) {
	isolateConfig(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if code, out, errOut := hearthCLI("new", "hi", "-t", "wat"); code != 0 || !strings.Contains(out, "hearth up") {
		t.Fatalf("hearth new hi: %d %q %q", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"new"}, "want one NAME, e.g. `hearth new hi --template go`"},
		{[]string{"new", "a", "b"}, "want one NAME"},
		{[]string{"new", "Hi"}, `function name "Hi" is not valid: use 1 to 63 lowercase letters, digits and '-', starting with a letter`},
		{[]string{"new", "my_fn"}, `is not valid`},
		{[]string{"new", "-x"}, `unknown shorthand flag: 'x'`},
		{[]string{"new", strings.Repeat("a", 64)}, `is not valid`},
		{[]string{"new", "ok", "-t", "rsut"}, `no template "rsut"; did you mean rust? The templates are go, go-command, c, rust, assemblyscript, wat`},
		{[]string{"new", "ok", "--template", "cobol"}, `no template "cobol"; the templates are`},
		{[]string{"new", "hi", "-t", "wat"}, "hi exists and is not empty; choose another folder (--dir), or pass --force"},
		{[]string{"new", "ok", "--temlate", "go"}, "did you mean --template?"},
	} {
		code, out, errOut := hearthCLI(c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("hearth %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	if _, err := os.Stat("ok"); err == nil {
		t.Error("a refused hearth new wrote ./ok")
	}
	if code, _, errOut := hearthCLI("new", "hi", "-t", "wat", "--force"); code != 0 {
		t.Errorf("--force: %d %q", code, errOut)
	}
	if code, _, errOut := hearthCLI("new", "hi2", "-t", "c", "--dir", "fns/hi2"); code != 0 {
		t.Errorf("--dir: %d %q", code, errOut)
	} else if _, err := os.Stat("fns/hi2/hearth.yaml"); err != nil {
		t.Error(err)
	}
	if code, _, errOut := hearthCLI("new", "g", "--hearth-source", dir); code != exitError || !strings.Contains(errOut, "is not a hearth checkout") {
		t.Errorf("--hearth-source that is not hearth: %d %q", code, errOut)
	}
}

// TestTemplatesList: hearth templates as a table and as JSON.
func TestTemplatesList(t *testing.T) {
	code, out, _ := hearthCLI("templates")
	if code != 0 || !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "go-command") || !strings.Contains(out, "assemblyscript") {
		t.Errorf("hearth templates: %d\n%s", code, out)
	}
	code, out, _ = hearthCLI("templates", "-o", "json")
	var got struct {
		Templates []struct {
			Name, ABI string
			Ready     bool
			Missing   []string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Templates) != 6 || got.Templates[0].Name != "go" || got.Templates[0].ABI != "reactor" || !got.Templates[0].Ready || got.Templates[0].Missing == nil {
		t.Errorf("hearth templates -o json: %d %+v\n%s", code, got, out)
	}
	if code, _, errOut := hearthCLI("templates", "extra"); code != exitUsage || !strings.Contains(errOut, "takes none") {
		t.Errorf("hearth templates extra: %d %q", code, errOut)
	}
}

// TestBuildBadInput: hearth build's failures, each with what to do.
func TestBuildBadInput(t *testing.T) {
	isolateConfig(t)
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := hearthCLI("build"); code != exitError || !strings.Contains(errOut, "no manifest at hearth.yaml; write a hearth.yaml (docs/registry.md), make a function with hearth new, or pass -f FILE") {
		t.Errorf("no manifest: %d %q", code, errOut)
	}
	write("junk.txt", "not wasm")
	write("hearth.yaml", `functions:
  - name: fails
    module: fails.wasm
    build: echo the compiler says no >&2; exit 1
  - name: junk
    module: junk.wasm
    build: cp junk.txt junk.wasm
  - name: nothing
    module: nothing.wasm
    build: {command: "true"}
  - name: tools
    module: tools.wasm
    build: {command: "true", requires: [clang-of-nowhere]}
  - name: wrong-abi
    abi: reactor
    module: cmd.wasm
    build: {command: "cp hello.wasm cmd.wasm"}
`)
	write("hello.wasm", string(stacktest.ExampleWasm(t, "hello")))
	for _, c := range []struct {
		fn   string
		want string
	}{
		{"fails", "build of fails failed (exit status 1): echo the compiler says no"},
		{"junk", "junk: junk.wasm: the body is not a WebAssembly module"},
		{"nothing", "nothing: nothing.wasm: the build did not write it"},
		{"tools", "tools cannot be built here: clang-of-nowhere is missing"},
		{"wrong-abi", "wrong-abi: cmd.wasm: it is a command (it exports _start) but the manifest says abi: reactor"},
		{"nope", `hearth.yaml has no function "nope"; it has fails, junk, nothing, tools, wrong-abi`},
	} {
		code, _, errOut := hearthCLI("build", c.fn)
		want := exitError
		if c.fn == "nope" {
			want = exitUsage
		}
		if code != want || !strings.Contains(errOut, c.want) {
			t.Errorf("hearth build %s: exit %d, stderr %q; want %d and %q", c.fn, code, errOut, want, c.want)
		}
	}
	// The manifest's build section is read strictly.
	write("bad.yaml", "functions:\n  - name: x\n    module: x.wasm\n    build: {comand: make}\n")
	if code, _, errOut := hearthCLI("build", "-f", "bad.yaml"); code != exitError || !strings.Contains(errOut, "bad.yaml:4: unknown field comand of build (it has command, requires and watch)") {
		t.Errorf("build with a typo: %d %q", code, errOut)
	}
	write("empty.yaml", "functions:\n  - name: x\n    module: x.wasm\n    build: {requires: [go]}\n")
	if code, _, errOut := hearthCLI("build", "-f", "empty.yaml"); code != exitError || !strings.Contains(errOut, "build has no command") {
		t.Errorf("build without a command: %d %q", code, errOut)
	}
	// hearth up builds first: a failed build deploys nothing, and says so
	// before it asks a gateway anything.
	if code, _, errOut := hearthCLI("up", "fails", "-g", "http://127.0.0.1:1"); code != exitError || !strings.Contains(errOut, "build of fails failed") {
		t.Errorf("up with a failing build: %d %q", code, errOut)
	}
}

// TestUpWatch: hearth up --watch against a dev stack deploys a go
// template's function, then redeploys it when its source changes.
func TestUpWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a Go function twice")
	}
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "hi")
	if code, _, errOut := hearthCLI("new", "hi", "--dir", dir); code != 0 {
		t.Fatalf("hearth new: %s", errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"up", "--watch", "--interval", "50ms", "-f", filepath.Join(dir, "hearth.yaml"), "-g", s.GatewayURL}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("hearth up --watch ended with exit %d; stderr %s", code, stderr.String())
		}
		if !strings.HasSuffix(stdout.String(), "stopped watching\n") {
			t.Errorf("stdout at the end:\n%s", stdout.String())
		}
	}()
	waitFor := func(what string) {
		t.Helper()
		testutil.Eventually(t, 2*time.Minute, func() error {
			if !strings.Contains(stdout.String(), what) {
				return fmt.Errorf("no %q yet; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			return nil
		})
	}
	answer := func(want string) {
		t.Helper()
		testutil.Eventually(t, 10*time.Second, func() error {
			resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hi/invoke", "", []byte("Hearth"))
			if resp.StatusCode != 200 || string(body) != want {
				return fmt.Errorf("%d %q, want %q", resp.StatusCode, body, want)
			}
			return nil
		})
	}
	waitFor("watching ")
	if !strings.Contains(stdout.String(), "deployed hi version 1 (reactor") {
		t.Fatalf("the first round did not deploy:\n%s\n%s", stdout.String(), stderr.String())
	}
	answer("Hello, Hearth!\n")

	// A change of the source: rebuilt, redeployed as version 2.
	src := filepath.Join(dir, "main.go")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(strings.Replace(string(b), `"Hello, "`, `"Good day, "`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("changed: main.go\n")
	waitFor("deployed hi version 2 (reactor")
	answer("Good day, Hearth!\n")

	// A change that does not build is reported, and the watch goes on.
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { syntax error }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Minute, func() error {
		if !strings.Contains(stderr.String(), "build of hi failed") {
			return fmt.Errorf("no build failure reported; stderr:\n%s", stderr.String())
		}
		return nil
	})
	answer("Good day, Hearth!\n") // version 2 still serves
}
