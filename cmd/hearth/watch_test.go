package main

import (
	"reflect"
	"testing"
)

// TestManifestBuild: the short and long forms of build, and which
// functions a change concerns.
func TestManifestBuild(t *testing.T) {
	m, err := readManifest([]byte(`functions:
  - name: all
    module: all.wasm
    build: make all
  - name: c
    module: c.wasm
    build:
      command: clang -o c.wasm c/main.c
      requires: [clang, wasi-libc]
      watch: ["c/*.c", "*.h"]
  - name: prebuilt
    module: p.wasm
`), "hearth.yaml", "/fns")
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Functions[0].Build; b == nil || b.Command != "make all" || b.Requires != nil {
		t.Errorf("short form: %+v", b)
	}
	if b := m.Functions[1].Build; b == nil || b.Command != "clang -o c.wasm c/main.c" || !reflect.DeepEqual(b.Requires, []string{"clang", "wasi-libc"}) {
		t.Errorf("long form: %+v", b)
	}
	if s := m.step(m.Functions[1]); s.Dir != "/fns" || s.Module != "/fns/c.wasm" || s.Command == "" {
		t.Errorf("step %+v", s)
	}
	names := func(fns []manifestFunction) []string {
		var out []string
		for _, f := range fns {
			out = append(out, f.Name)
		}
		return out
	}
	for changed, want := range map[string][]string{
		"c/main.c":  {"all", "c"},
		"include.h": {"all", "c"},
		"README.md": {"all"},
	} {
		if got := names(affected(m.Functions, []string{changed})); !reflect.DeepEqual(got, want) {
			t.Errorf("a change of %s rebuilds %v, want %v", changed, got, want)
		}
	}
	if got := names(withBuild(m.Functions)); !reflect.DeepEqual(got, []string{"all", "c"}) {
		t.Errorf("withBuild %v", got)
	}
}
