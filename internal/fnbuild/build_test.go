package fnbuild

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/abi"
)

// example is the built module of an example function.
func example(t *testing.T, name string) []byte {
	t.Helper()
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	t.Fatalf("no example %s", name)
	return nil
}

// TestRun: a build that writes a good module, and every way one fails,
// each with the error a user sees.
func TestRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reactor := filepath.Join(dir, "reverse.wasm")
	os.WriteFile(filepath.Join(dir, "src.wasm"), example(t, "reverse-c"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.wasm"), example(t, "hello"), 0o644)
	os.WriteFile(filepath.Join(dir, "junk.txt"), []byte("not wasm"), 0o644)

	r, err := Run(ctx, Step{Function: "reverse", Dir: dir, Command: "cp src.wasm reverse.wasm", Module: reactor, ABI: abi.Reactor}, io.Discard)
	if err != nil || r.ABI != abi.Reactor || len(r.Module) == 0 {
		t.Fatalf("Run: %+v, %v", r.ABI, err)
	}
	// No command: the module is checked only; no ABI: either is fine.
	if r, err := Run(ctx, Step{Function: "hello", Dir: dir, Module: filepath.Join(dir, "hello.wasm")}, io.Discard); err != nil || r.ABI != abi.Command {
		t.Errorf("check only: %v, %v", r.ABI, err)
	}

	var (
		buildErr  *BuildError
		moduleErr *ModuleError
		missing   *MissingToolError
	)
	for _, c := range []struct {
		name string
		step Step
		as   any
		want []string
	}{
		{"the command fails", Step{Command: "echo compiler says no >&2; exit 3", Module: reactor}, &buildErr,
			[]string{"build of fn failed (exit status 3): echo compiler says no", "compiler says no"}},
		{"no module written", Step{Command: "true", Module: filepath.Join(dir, "none.wasm")}, &moduleErr,
			[]string{"none.wasm: the build did not write it"}},
		{"not wasm", Step{Command: "cp junk.txt out.wasm", Module: filepath.Join(dir, "out.wasm")}, &moduleErr,
			[]string{"out.wasm: the body is not a WebAssembly module"}},
		{"another ABI", Step{Command: "cp hello.wasm cmd.wasm", Module: filepath.Join(dir, "cmd.wasm"), ABI: abi.Reactor}, &moduleErr,
			[]string{"it is a command (it exports _start) but the manifest says abi: reactor, which exports hearth_alloc and hearth_handle"}},
		{"a tool missing", Step{Command: "true", Module: reactor, Requires: []string{"wat2wasm-that-is-not", "asc"}}, &missing,
			[]string{"fn cannot be built here", "wat2wasm-that-is-not is missing", "install it with a package that puts wat2wasm-that-is-not on PATH"}},
	} {
		c.step.Function, c.step.Dir = "fn", dir
		_, err := Run(ctx, c.step, io.Discard)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.As(err, c.as) {
			t.Errorf("%s: %T %v", c.name, err, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestMissingToolHint: a known tool's message names the task and the
// Debian packages that install it.
func TestMissingToolHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing on it
	err := CheckTools("hi", t.TempDir(), []string{"clang", "wat2wasm", "asc"})
	var m *MissingToolError
	if !errors.As(err, &m) || len(m.Missing) != 3 {
		t.Fatalf("%v", err)
	}
	for _, w := range []string{
		"clang is missing (clang, the C compiler (--target=wasm32-wasi)); install it with `go tool task templates:toolchains` in a hearth checkout, or `apt-get install clang lld` on Debian",
		"wat2wasm is missing", "apt-get install wabt",
		"asc is missing", "install it with `npm install` in the function's folder",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	// node_modules/.bin counts, as npm run has it on PATH.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "node_modules", ".bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "node_modules", ".bin", "asc"), []byte("#!/bin/sh\n"), 0o755)
	if err := CheckTools("hi", dir, []string{"asc"}); err != nil {
		t.Errorf("asc in node_modules/.bin: %v", err)
	}
}

// TestScan: what is watched, and what a change looks like.
func TestScan(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"main.go", "hearth.yaml", "sub/util.go", "out.wasm", ".git/HEAD", "node_modules/x/y.js", "target/debug/z", ".swp", "ignored.txt"} {
		write(p, "x")
	}
	snap, err := Scan(dir, nil, []string{filepath.Join(dir, "ignored.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Changed(nil, snap), " "); got != "hearth.yaml main.go sub/util.go" {
		t.Errorf("watched %s", got)
	}
	if snap, _ := Scan(dir, []string{"*.go"}, nil); len(snap) != 2 {
		t.Errorf("*.go watches %v", snap)
	}
	// A write of other bytes, an added file and a removed one.
	write("main.go", "package main // changed")
	write("new.go", "x")
	os.Remove(filepath.Join(dir, "sub", "util.go"))
	// A write within the same mtime tick that keeps the size is seen by a
	// later mtime; make it certain here.
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "hearth.yaml"), future, future)
	after, _ := Scan(dir, nil, []string{filepath.Join(dir, "ignored.txt")})
	if got := strings.Join(Changed(snap, after), " "); got != "hearth.yaml main.go new.go sub/util.go" {
		t.Errorf("changed %s", got)
	}
	if got := Changed(after, after); len(got) != 0 {
		t.Errorf("no change: %v", got)
	}
}

// TestRunNodeBin: the build finds the programs of the function's
// node_modules/.bin, with the manifest's folder given relative to the
// working directory too (hearth build -f functions/x/hearth.yaml).
func TestRunNodeBin(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	bin := filepath.Join("fn", "node_modules", ".bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join("fn", "src.wasm"), example(t, "reverse-c"), 0o644)
	os.WriteFile(filepath.Join(bin, "mytool"), []byte("#!/bin/sh\ncp src.wasm out.wasm\n"), 0o755)
	s := Step{Function: "fn", Dir: "fn", Command: "mytool", Requires: []string{"mytool"}, Module: filepath.Join("fn", "out.wasm"), ABI: abi.Reactor}
	if _, err := Run(context.Background(), s, io.Discard); err != nil {
		t.Fatal(err)
	}
}
