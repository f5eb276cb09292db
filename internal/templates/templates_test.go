package templates

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hearthfn/hearth/registry"
)

// TestRender: every template renders a hearth.yaml that names the function,
// its module and the template's ABI, with a build command and its
// requirements, plus a README and an executable test.sh.
func TestRender(t *testing.T) {
	if got := strings.Join(names(), ","); got != "go,go-command,c,rust,assemblyscript,wat" {
		t.Fatalf("templates %s", got)
	}
	for _, tmpl := range List() {
		files, err := Render(tmpl.Name, data{Name: "my-fn", Ident: "my_fn", Go: GoModule{Version: "v0.0.0", GoVersion: GoVersion}, AssemblyScript: AssemblyScriptVersion})
		if err != nil {
			t.Fatalf("%s: %v", tmpl.Name, err)
		}
		byPath := map[string]File{}
		for _, f := range files {
			byPath[f.Path] = f
			if strings.Contains(string(f.Data), "{{") || strings.Contains(string(f.Data), "<no value>") {
				t.Errorf("%s/%s: a placeholder is left:\n%s", tmpl.Name, f.Path, f.Data)
			}
		}
		for _, want := range []string{"hearth.yaml", "README.md", "test.sh"} {
			if _, ok := byPath[want]; !ok {
				t.Errorf("%s: no %s in %v", tmpl.Name, want, slices.Collect(mapKeys(byPath)))
			}
		}
		if byPath["test.sh"].Mode != 0o755 {
			t.Errorf("%s: test.sh mode %v", tmpl.Name, byPath["test.sh"].Mode)
		}
		var m struct {
			Functions []struct {
				Name, ABI, Module string
				Build             struct {
					Command  string
					Requires []string
				}
			}
		}
		if err := yaml.Unmarshal(byPath["hearth.yaml"].Data, &m); err != nil || len(m.Functions) != 1 {
			t.Fatalf("%s: hearth.yaml: %v\n%s", tmpl.Name, err, byPath["hearth.yaml"].Data)
		}
		f := m.Functions[0]
		if f.Name != "my-fn" || f.ABI != tmpl.ABI || f.Module != "my-fn.wasm" || !strings.Contains(f.Build.Command, "my-fn.wasm") && tmpl.Name != "rust" || len(f.Build.Requires) == 0 {
			t.Errorf("%s: hearth.yaml function %+v", tmpl.Name, f)
		}
		if !strings.Contains(string(byPath["README.md"].Data), "hearth new my-fn --template "+tmpl.Name) {
			t.Errorf("%s: the README does not say how it was made", tmpl.Name)
		}
	}
}

func mapKeys(m map[string]File) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestLookup: a misspelt or otherwise named template gets suggestions and
// the list of templates.
func TestLookup(t *testing.T) {
	for name, want := range map[string]string{
		"rsut":     "did you mean rust?",
		"go-cmd":   "did you mean go-command?",
		"golang":   "did you mean go?",
		"ts":       "did you mean assemblyscript?",
		"og":       "did you mean go?",
		"cc":       "did you mean c?",
		"assembly": "did you mean assemblyscript?",
		"java":     `no template "java"; the templates are go, go-command, c, rust, assemblyscript, wat (hearth templates)`,
	} {
		_, err := Lookup(name)
		var u *UnknownError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%q): %v, want %q", name, err, want)
		}
	}
	if tmpl, err := Lookup("wat"); err != nil || tmpl.Language != "WebAssembly text" {
		t.Errorf("Lookup(wat) = %+v, %v", tmpl, err)
	}
}

// TestCreate: the folder's files, and each bad input with its error.
func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hi")
	files, err := Create(Options{Template: "c", Name: "hi", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files, " "); got != "README.md hearth.yaml main.c test.sh" {
		t.Errorf("files %s", got)
	}
	var notEmpty *NotEmptyError
	if _, err := Create(Options{Template: "c", Name: "hi", Dir: dir}); !errors.As(err, &notEmpty) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("again: %v, want a NotEmptyError naming --force", err)
	}
	os.WriteFile(filepath.Join(dir, "main.c"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Create(Options{Template: "c", Name: "hi", Dir: dir, Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "main.c")); string(b) == "changed" {
		t.Error("--force left main.c as it was")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
		t.Error("--force removed a file of the folder")
	}
	// An empty folder is fine.
	empty := t.TempDir()
	if _, err := Create(Options{Template: "wat", Name: "w", Dir: empty}); err != nil {
		t.Errorf("into an empty folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	var ve *registry.ValidationError
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Template: "go", Name: "Hi", Dir: t.TempDir()}, `function name "Hi" is not valid`},
		{Options{Template: "go", Name: "1st", Dir: t.TempDir()}, `is not valid`},
		{Options{Template: "go", Name: strings.Repeat("a", 64), Dir: t.TempDir()}, `is not valid`},
		{Options{Template: "go", Name: "a_b", Dir: t.TempDir()}, `is not valid`},
		{Options{Template: "cobol", Name: "hi", Dir: t.TempDir()}, `no template "cobol"`},
		{Options{Template: "c", Name: "hi", Dir: file}, "is a file, not a folder"},
	} {
		_, err := Create(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
		if strings.Contains(c.want, "not valid") && !errors.As(err, &ve) {
			t.Errorf("%+v: %T, want a *registry.ValidationError", c.o, err)
		}
	}
}

// TestFindGoModule: a folder inside the hearth module needs no go.mod; one
// outside points at the source given, or at the source of this build.
func TestFindGoModule(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := FindGoModule(filepath.Join(root, "functions", "new-one"), ""); err != nil || !m.InModule {
		t.Errorf("inside the module: %+v, %v", m, err)
	}
	out := t.TempDir()
	if m, err := FindGoModule(out, root); err != nil || m.InModule || m.Replace != root {
		t.Errorf("with --hearth-source: %+v, %v", m, err)
	}
	if _, err := FindGoModule(out, out); err == nil || !strings.Contains(err.Error(), "is not a hearth checkout") {
		t.Errorf("a source that is not hearth: %v", err)
	}
	// go test builds without -trimpath: the source is known.
	if m, err := FindGoModule(out, ""); err != nil || m.Replace != root {
		t.Errorf("from the build: %+v, %v", m, err)
	}
	for v, want := range map[string]bool{"v1.2.3": true, "(devel)": false, "v0.0.0-20260101120000-abcdef123456": false, "v1.2.4-0.20260101120000-abcdef123456": false, "v1.2.3+dirty": false} {
		if isRelease(v) != want {
			t.Errorf("isRelease(%q) = %v", v, !want)
		}
	}
}

// TestVersionsInStep: the go line of a new go.mod is hearth's own, and the
// AssemblyScript the package.json asks for is the one the Taskfile caches.
func TestVersionsInStep(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod); m == nil || string(m[1]) != GoVersion {
		t.Errorf("go.mod's go line %q, GoVersion %s", m, GoVersion)
	}
	task, err := os.ReadFile("../../Taskfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`ASSEMBLYSCRIPT_VERSION: (\S+)`).FindSubmatch(task); m == nil || string(m[1]) != AssemblyScriptVersion {
		t.Errorf("Taskfile's ASSEMBLYSCRIPT_VERSION %q, AssemblyScriptVersion %s", m, AssemblyScriptVersion)
	}
}

// TestGettingStarted: docs/getting-started.md's table names every template.
func TestGettingStarted(t *testing.T) {
	doc, err := os.ReadFile("../../docs/getting-started.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range List() {
		if !strings.Contains(string(doc), "| `--template "+tmpl.Name+"` |") {
			t.Errorf("docs/getting-started.md does not list the %s template", tmpl.Name)
		}
	}
}
