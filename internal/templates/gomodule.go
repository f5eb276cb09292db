package templates

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// ModulePath is the module sdk/guest belongs to.
const ModulePath = "github.com/hearthfn/hearth"

// GoVersion is the go line of a new go.mod: the Go version hearth's own
// go.mod asks for (a test keeps them equal), which sdk/guest needs.
const GoVersion = "1.26.7"

// GoModule is how a go template's go.mod reaches sdk/guest.
type GoModule struct {
	// InModule: the folder is inside the hearth module itself (as
	// functions/ is), so it gets no go.mod of its own.
	InModule  bool
	Version   string // the version of ModulePath to require
	Replace   string // a hearth source folder to use instead, "" for none
	GoVersion string
}

// FindGoModule works out how a Go function in dir reaches sdk/guest:
// nothing to do inside the hearth module; else source (a hearth checkout)
// when given; else this hearth's own version when it is a release; else
// the folder this hearth was built from, when it is still there.
func FindGoModule(dir, source string) (GoModule, error) {
	m := GoModule{GoVersion: GoVersion, Version: "v0.0.0"}
	if enclosing(dir) == ModulePath {
		m.InModule = true
		return m, nil
	}
	if source != "" {
		abs, err := filepath.Abs(source)
		if err != nil {
			return m, err
		}
		if modulePath(filepath.Join(abs, "go.mod")) != ModulePath {
			return m, fmt.Errorf("--hearth-source %s is not a hearth checkout (its go.mod is not module %s)", source, ModulePath)
		}
		m.Replace = abs
		return m, nil
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Path == ModulePath && isRelease(info.Main.Version) {
		m.Version = info.Main.Version
		return m, nil
	}
	if src := builtFrom(); src != "" {
		m.Replace = src
		return m, nil
	}
	return m, errors.New("the Go templates import " + ModulePath + "/sdk/guest, and this hearth is a development build that does not know where its source is; pass --hearth-source DIR, a hearth checkout")
}

// isRelease reports whether v is a tagged version (not a pseudo-version
// nor "(devel)"), which the module proxy can serve.
func isRelease(v string) bool {
	return strings.HasPrefix(v, "v") && !pseudoVersion.MatchString(v) && !strings.Contains(v, "+") && v != "v0.0.0"
}

// pseudoVersion matches the tail of a Go pseudo-version (v0.0.0-20260101120000-abcdef123456).
var pseudoVersion = regexp.MustCompile(`[-.]\d{14}-[0-9a-f]{12}$`)

// builtFrom is the hearth source folder this binary was compiled from, if
// it was built without -trimpath and the folder still holds the module.
func builtFrom() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file))) // internal/templates/gomodule.go
	if modulePath(filepath.Join(root, "go.mod")) == ModulePath {
		return root
	}
	return ""
}

// enclosing is the module path of the go.mod nearest above dir, "" when
// there is none.
func enclosing(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for d := abs; ; d = filepath.Dir(d) {
		if p := modulePath(filepath.Join(d, "go.mod")); p != "" {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// modulePath reads the module line of a go.mod file.
func modulePath(gomod string) string {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
