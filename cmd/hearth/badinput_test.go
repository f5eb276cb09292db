package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// closedPort is the URL of a loopback port nothing listens on: one the
// kernel handed out and the test closed again.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return url
}

// TestBadInput (issue 17): each kind of argument of the CLI in its bad
// forms — a template, a function name, a folder, a file, a manifest, a
// gateway, a key, a flag value — exits with its documented code and says
// what to do.
func TestBadInput(t *testing.T) {
	isolateConfig(t)
	a := newAuthStack(t)
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, s string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	write("taken/main.go", "package main\n")
	notes := write("notes.txt", "these are notes, not a module\n")
	write("bad/hearth.yaml", "functions:\n  - name: x\n    module: [x.wasm\n")
	if err := os.Mkdir("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	hello := writeTemp(t, stacktest.ExampleWasm(t, "hello"))
	down := closedPort(t)

	// How a row reaches a gateway.
	const (
		offline = iota // no gateway flags: the command needs none
		admin          // the stack's gateway, with its admin key
		noKey          // the stack's gateway, without a key
		closed         // a loopback port nothing listens on
	)
	for _, c := range []struct {
		what    string
		args    []string
		via     int
		code    int
		mention []string
	}{
		// hearth new: the template, the NAME, the folder.
		{"new: unknown template", []string{"new", "ok", "-t", "cobol"}, offline, exitUsage, []string{`no template "cobol"`, "hearth templates"}},
		{"new: mistyped template", []string{"new", "ok", "-t", "rsut"}, offline, exitUsage, []string{"did you mean rust?"}},
		{"new: bad characters", []string{"new", "Bad_Name!"}, offline, exitUsage, []string{`function name "Bad_Name!" is not valid`, "lowercase letters, digits and '-'"}},
		{"new: empty name", []string{"new", ""}, offline, exitUsage, []string{"lowercase letters"}},
		{"new: 200 characters", []string{"new", strings.Repeat("a", 200)}, offline, exitUsage, []string{"1 to 63"}},
		{"new: existing folder", []string{"new", "taken"}, offline, exitUsage, []string{"taken exists and is not empty", "--dir", "--force"}},

		// hearth deploy: the NAME and FILE.
		{"deploy: missing file", []string{"deploy", "hi", "nope.wasm"}, admin, exitError, []string{"read module: open nope.wasm: no such file", "give the path of a .wasm file", "hearth build"}},
		{"deploy: text file", []string{"deploy", "hi", notes}, admin, exitError, []string{"notes.txt: invalid_module: the body is not a WebAssembly module", "give the path of a .wasm file", "hearth build"}},
		{"deploy: folder", []string{"deploy", "hi", "empty"}, admin, exitError, []string{"is a directory", "give the path of a .wasm file"}},
		{"deploy: bad name", []string{"deploy", "Bad_Name!", hello}, admin, exitError, []string{"invalid_name", `"Bad_Name!" is not valid`, "lowercase letters, digits and '-'"}},

		// hearth build: the manifest.
		{"build: no hearth.yaml", []string{"build", "-f", "empty/hearth.yaml"}, offline, exitError, []string{"no manifest at empty/hearth.yaml", "write a hearth.yaml", "hearth new"}},
		{"build: malformed hearth.yaml", []string{"build", "-f", "bad/hearth.yaml"}, offline, exitError, []string{"bad/hearth.yaml:2: did not find expected"}},

		// The gateway: unreachable, refusing without a key.
		{"invoke: unreachable gateway", []string{"invoke", "hello"}, closed, exitError, []string{"is the gateway running at " + down, "hearth dev", "--gateway"}},
		{"ls: unreachable gateway", []string{"ls"}, closed, exitError, []string{"is the gateway running at " + down}},
		{"ls: 401", []string{"ls"}, noKey, exitError, []string{"unauthorized", "hearth login"}},
		{"invoke: 401", []string{"invoke", "hello"}, noKey, exitError, []string{"unauthorized", "hearth login"}},
		{"deploy: 401", []string{"deploy", "hi", hello}, noKey, exitError, []string{"unauthorized", "hearth login"}},

		// A function that does not exist.
		{"rm: no such function", []string{"rm", "nope"}, admin, exitNotFound, []string{"function_not_found", "hearth ls"}},
		{"inspect: no such function", []string{"inspect", "nope"}, admin, exitNotFound, []string{"function_not_found", "hearth ls"}},
		{"invoke: no such function", []string{"invoke", "nope"}, admin, exitNotFound, []string{"function_not_found", "hearth ls"}},

		// Flag values.
		{"invoke: --timeout abc", []string{"invoke", "hello", "--timeout", "abc"}, admin, exitUsage, []string{`invalid argument "abc" for "--timeout"`, "use a duration such as 500ms, 10s", "hearth invoke --help"}},
		{"deploy: --timeout abc", []string{"deploy", "hi", hello, "--timeout", "abc"}, admin, exitUsage, []string{`invalid argument "abc" for "--timeout"`, "use a duration such as"}},
		{"ls: -o xml", []string{"ls", "-o", "xml"}, admin, exitUsage, []string{`-o "xml": use table, json or yaml`}},
		{"inspect: -o xml", []string{"inspect", "hello", "-o", "xml"}, admin, exitUsage, []string{"use table, json or yaml"}},
		{"deploy: --memory lots", []string{"deploy", "hi", hello, "--memory", "lots"}, admin, exitUsage, []string{`invalid argument "lots" for "--memory"`, "use a whole number"}},
		{"deploy: --rps fast", []string{"deploy", "hi", hello, "--rps", "fast"}, admin, exitUsage, []string{`invalid argument "fast" for "--rps"`, "use a number"}},
		{"invoke: --async=maybe", []string{"invoke", "hello", "--async=maybe"}, admin, exitUsage, []string{`invalid argument "maybe"`, "use true or false"}},
	} {
		args := slices.Clone(c.args)
		switch c.via {
		case admin:
			args = append(args, "--gateway", a.GatewayURL, "--api-key", a.AdminKey)
		case noKey:
			args = append(args, "--gateway", a.GatewayURL)
		case closed:
			args = append(args, "--gateway", down)
		}
		code, _, errOut := hearthCLI(args...)
		if code != c.code {
			t.Errorf("%s: hearth %q: exit %d, want %d; stderr %q", c.what, c.args, code, c.code, errOut)
		}
		for _, m := range c.mention {
			if !strings.Contains(errOut, m) {
				t.Errorf("%s: hearth %q: stderr %q does not say %q", c.what, c.args, errOut, m)
			}
		}
	}
	if _, err := os.Stat("ok"); err == nil {
		t.Error("a refused hearth new wrote ./ok")
	}
	if code, _, errOut := a.admin("inspect", "hi"); code != exitNotFound {
		t.Errorf("a refused hearth deploy made function hi: inspect: exit %d %q", code, errOut)
	}
}
