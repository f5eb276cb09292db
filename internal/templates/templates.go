package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/registry"
)

//go:embed all:files
var files embed.FS

// Template is one kind of function `hearth new` makes.
type Template struct {
	Name        string   `json:"name"`
	Language    string   `json:"language"`
	ABI         string   `json:"abi"` // abi.Reactor or abi.Command
	Description string   `json:"description"`
	Requires    []string `json:"requires"` // the fnbuild.Tools this machine needs (the AssemblyScript compiler itself comes with npm install)
}

// AssemblyScriptVersion is the npm package assemblyscript the template's
// package.json asks for (and the Taskfile puts in npm's cache).
const AssemblyScriptVersion = "0.28.20"

// list is every template, in the order hearth templates lists them.
var list = []Template{
	{Name: "go", Language: "Go", ABI: abi.Reactor, Requires: []string{"go"},
		Description: "a reactor through sdk/guest: pooled instances, microseconds per warm call (the fast path for Go)"},
	{Name: "go-command", Language: "Go", ABI: abi.Command, Requires: []string{"go"},
		Description: "a WASI command (GOOS=wasip1): stdin to stdout, a fresh instance and Go runtime per call"},
	{Name: "c", Language: "C", ABI: abi.Reactor, Requires: []string{"clang", "wasm-ld", "wasi-libc"},
		Description: "a reactor with clang and wasi-libc: a few KB, about a microsecond per warm call"},
	{Name: "rust", Language: "Rust", ABI: abi.Reactor, Requires: []string{"rust-wasm32"},
		Description: "a reactor, a cdylib for wasm32-wasip1 built with rustc alone (no crates)"},
	{Name: "assemblyscript", Language: "AssemblyScript", ABI: abi.Reactor, Requires: []string{"npm"},
		Description: "a reactor in TypeScript-like AssemblyScript (npm assemblyscript), a few KB"},
	{Name: "wat", Language: "WebAssembly text", ABI: abi.Reactor, Requires: []string{"wat2wasm"},
		Description: "a reactor written by hand in WAT: the ABI with nothing around it"},
}

// List returns the templates.
func List() []Template { return slices.Clone(list) }

// UnknownError is a template name that does not exist.
type UnknownError struct {
	Name    string
	Suggest []string // names within two edits, or that it is a prefix of
}

func (e *UnknownError) Error() string {
	all := strings.Join(names(), ", ") + " (hearth templates)"
	if n := len(e.Suggest); n > 0 {
		or := e.Suggest[n-1]
		if n > 1 {
			or = strings.Join(e.Suggest[:n-1], ", ") + " or " + or
		}
		return fmt.Sprintf("no template %q; did you mean %s? The templates are %s", e.Name, or, all)
	}
	return fmt.Sprintf("no template %q; the templates are %s", e.Name, all)
}

func names() []string {
	var out []string
	for _, t := range list {
		out = append(out, t.Name)
	}
	return out
}

// Lookup returns the template called name, or an *UnknownError.
func Lookup(name string) (Template, error) {
	for _, t := range list {
		if t.Name == name {
			return t, nil
		}
	}
	e := &UnknownError{Name: name}
	lower := strings.ToLower(name)
	near := 1 // edits allowed: two for names long enough that two edits leave them recognisable
	if len(lower) >= 4 {
		near = 2
	}
	for _, t := range list {
		if levenshtein(lower, t.Name) <= near || (len(lower) >= 2 && strings.HasPrefix(t.Name, lower)) {
			e.Suggest = append(e.Suggest, t.Name)
		}
	}
	// The languages' other names.
	alias := map[string]string{"golang": "go", "as": "assemblyscript", "typescript": "assemblyscript", "ts": "assemblyscript", "rs": "rust", "wasm": "wat", "tinygo": "go",
		"go-cmd": "go-command", "command": "go-command", "wasi": "go-command", "reactor": "go"}
	if a, ok := alias[lower]; ok && !slices.Contains(e.Suggest, a) {
		e.Suggest = append(e.Suggest, a)
	}
	return Template{}, e
}

// NotEmptyError is a target folder that already has files.
type NotEmptyError struct{ Dir string }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("%s exists and is not empty; choose another folder (--dir), or pass --force to write the template's files into it (files of the same name are replaced)", e.Dir)
}

// Options say what Create makes.
type Options struct {
	Template string // a template's name
	Name     string // the function's name: the registry's rule
	Dir      string // the folder to write; it may exist only if empty, unless Force
	Force    bool
	Go       GoModule // how the go templates' go.mod reaches the hearth module
}

// data is what the template files see.
type data struct {
	Name           string // the function's name
	Ident          string // Name as an identifier: '-' is '_'
	Go             GoModule
	AssemblyScript string
}

// Create writes the template's files into o.Dir and returns their paths,
// relative to it, sorted. A bad function name is a *registry.ValidationError,
// an unknown template an *UnknownError, a folder with files in it a
// *NotEmptyError.
func Create(o Options) ([]string, error) {
	if err := registry.ValidateName("function name", o.Name); err != nil {
		return nil, err
	}
	t, err := Lookup(o.Template)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(o.Dir); err == nil {
		if len(entries) > 0 && !o.Force {
			return nil, &NotEmptyError{Dir: o.Dir}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		if st, serr := os.Stat(o.Dir); serr == nil && !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not a folder; choose another name or --dir", o.Dir)
		}
		return nil, err
	}
	d := data{Name: o.Name, Ident: strings.ReplaceAll(o.Name, "-", "_"), Go: o.Go, AssemblyScript: AssemblyScriptVersion}
	out, err := Render(t.Name, d)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range out {
		p := filepath.Join(o.Dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return nil, err
		}
		written = append(written, f.Path)
	}
	slices.Sort(written)
	return written, nil
}

// File is one rendered file of a template.
type File struct {
	Path string // slash-separated, relative to the function's folder
	Data []byte
	Mode fs.FileMode
}

// Render renders the files of the template called name (and the files
// every template has) with d. A file that renders empty is left out (the
// go.mod of a folder inside the hearth module itself).
func Render(name string, d data) ([]File, error) {
	var out []File
	for _, root := range []string{"files/common", "files/" + name} {
		err := fs.WalkDir(files, root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			src, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			tmpl, err := template.New(p).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			if err := tmpl.Execute(&buf, d); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			if buf.Len() == 0 {
				return nil
			}
			rel := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
			dir, base := path.Split(rel)
			if b, ok := strings.CutPrefix(base, "dot-"); ok {
				rel = dir + "." + b
			}
			mode := fs.FileMode(0o644)
			if strings.HasSuffix(rel, ".sh") {
				mode = 0o755
			}
			out = append(out, File{Path: rel, Data: buf.Bytes(), Mode: mode})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// levenshtein is the edit distance of a and b, a swap of two neighbours
// counting as one edit (optimal string alignment).
func levenshtein(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
