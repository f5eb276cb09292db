package fnbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// InstallTask is the Taskfile task that installs every template's
// toolchain on Debian (in a hearth checkout: go tool task templates:toolchains).
const InstallTask = "templates:toolchains"

// Tool is a program (or a library a compiler needs) that a build requires.
type Tool struct {
	Name string // as hearth.yaml's requires names it
	What string // what it is, for messages
	// Debian are the Debian packages that provide it; Other says how to
	// get it anywhere else.
	Debian []string
	Other  string
	// find reports where the tool is, or an error when it is missing; dir
	// is the function's directory.
	find func(dir string) (string, error)
}

// Tools are the requirements a template's hearth.yaml can name.
var Tools = []Tool{
	{Name: "go", What: "the Go toolchain (1.26 or newer)", Debian: nil, Other: "Go 1.26 or newer from go.dev/dl", find: onPath("go")},
	{Name: "clang", What: "clang, the C compiler (--target=wasm32-wasi)", Debian: []string{"clang", "lld"}, find: onPath("clang")},
	{Name: "wasm-ld", What: "wasm-ld, LLVM's WebAssembly linker", Debian: []string{"lld"}, find: onPath("wasm-ld", "wasm-ld-14", "wasm-ld-16", "wasm-ld-19")},
	{Name: "wasi-libc", What: "wasi-libc and the wasm32 compiler-rt builtins (the C library of clang's wasm32-wasi target)", Debian: []string{"wasi-libc", "libclang-rt-14-dev-wasm32"},
		Other: "a wasi-sdk, with WASI_SYSROOT set to its sysroot", find: findWASILibc},
	{Name: "wat2wasm", What: "wat2wasm, the WebAssembly text assembler of wabt", Debian: []string{"wabt"}, find: onPath("wat2wasm")},
	{Name: "rust-wasm32", What: "a rustc with the standard library of wasm32-wasip1 (or wasm32-wasi, as older rustc names it)", Debian: []string{"rustc", "libstd-rust-dev-wasm32"},
		Other: "`rustup target add wasm32-wasip1` with rustup", find: findRustWASI},
	{Name: "npm", What: "npm and Node.js 20 or newer", Debian: []string{"nodejs", "npm"}, find: onPath("npm")},
	{Name: "asc", What: "asc, the AssemblyScript compiler (npm package assemblyscript)", Other: "`npm install` in the function's folder (it installs the package.json's assemblyscript)", find: findNodeBin("asc")},
}

// LookupTool is the tool called name.
func LookupTool(name string) (Tool, bool) {
	i := slices.IndexFunc(Tools, func(t Tool) bool { return t.Name == name })
	if i < 0 {
		return Tool{}, false
	}
	return Tools[i], true
}

// Find reports where t is for a build in dir, or an error when it is
// missing.
func (t Tool) Find(dir string) (string, error) { return t.find(dir) }

// Install says how to install t: the Taskfile's task in a hearth checkout,
// the Debian packages, or its other way.
func (t Tool) Install() string {
	var ways []string
	if len(t.Debian) > 0 {
		ways = append(ways, "`go tool task "+InstallTask+"` in a hearth checkout", "`apt-get install "+strings.Join(t.Debian, " ")+"` on Debian")
	}
	if t.Other != "" {
		ways = append(ways, t.Other)
	}
	return strings.Join(ways, ", or ")
}

// MissingToolError is a build whose requirements are not all installed.
type MissingToolError struct {
	Function string
	Missing  []Tool
}

func (e *MissingToolError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cannot be built here: ", e.Function)
	for i, t := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s is missing (%s); install it with %s", t.Name, t.What, t.Install())
	}
	return b.String()
}

// CheckTools reports the requirements of a build in dir that are missing,
// as a *MissingToolError; an unknown name is looked for as a program, on
// PATH or in dir's node_modules/.bin as the build would find it.
func CheckTools(function, dir string, requires []string) error {
	var missing []Tool
	for _, name := range requires {
		t, ok := LookupTool(name)
		if !ok {
			t = Tool{Name: name, What: "a program the build runs", Other: "a package that puts " + name + " on PATH (or in the folder's node_modules/.bin)", find: findNodeBin(name)}
		}
		if _, err := t.find(dir); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return &MissingToolError{Function: function, Missing: missing}
	}
	return nil
}

func onPath(names ...string) func(string) (string, error) {
	return func(string) (string, error) {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("%s is not on PATH", names[0])
	}
}

// findNodeBin finds an npm package's program in the function's
// node_modules/.bin (where npm install puts it; builds run with it on
// PATH, as npm run does) or on PATH.
func findNodeBin(name string) func(string) (string, error) {
	return func(dir string) (string, error) {
		p := filepath.Join(dir, "node_modules", ".bin", name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		return onPath(name)(dir)
	}
}

// findWASILibc finds the wasm32-wasi sysroot clang uses: WASI_SYSROOT,
// or Debian's wasi-libc with the compiler-rt builtins of some clang.
func findWASILibc(string) (string, error) {
	if s := os.Getenv("WASI_SYSROOT"); s != "" {
		return s, nil
	}
	libc := ""
	for _, p := range []string{"/usr/lib/wasm32-wasi/libc.a", "/usr/share/wasi-sysroot/lib/wasm32-wasi/libc.a"} {
		if _, err := os.Stat(p); err == nil {
			libc = p
		}
	}
	builtins, _ := filepath.Glob("/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a")
	if libc == "" || len(builtins) == 0 {
		return "", errors.New("no wasi-libc with wasm32 compiler-rt builtins")
	}
	return libc, nil
}

// RustTargets are the names rustc has given WASI preview1, newest first.
var RustTargets = []string{"wasm32-wasip1", "wasm32-wasi"}

// FindRust is a rustc (on PATH, or Debian's /usr/bin/rustc beside
// rustup's) that has the standard library of a WASI preview1 target, and
// that target's name. The rust template's build.sh looks the same way.
func FindRust() (rustc, target string, err error) {
	var tried []string
	for _, rc := range []string{os.Getenv("RUSTC"), "rustc", "/usr/bin/rustc"} {
		if rc == "" || slices.Contains(tried, rc) {
			continue
		}
		tried = append(tried, rc)
		out, err := exec.Command(rc, "--print", "sysroot").Output()
		if err != nil {
			continue
		}
		sysroot := strings.TrimSpace(string(out))
		for _, tg := range RustTargets {
			if st, err := os.Stat(filepath.Join(sysroot, "lib", "rustlib", tg, "lib")); err == nil && st.IsDir() {
				return rc, tg, nil
			}
		}
	}
	return "", "", errors.New("no rustc with a wasm32 WASI standard library")
}

func findRustWASI(string) (string, error) {
	rc, _, err := FindRust()
	return rc, err
}
