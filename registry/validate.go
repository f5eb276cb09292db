package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
)

// allowedImportModules are the host modules a function may import.
var allowedImportModules = map[string]bool{
	"wasi_snapshot_preview1": true,
}

// validator compiles modules to check them before they are stored.
type validator struct {
	rt wazero.Runtime
}

func newValidator(ctx context.Context, cfg wazero.RuntimeConfig) *validator {
	if cfg == nil {
		cfg = wazero.NewRuntimeConfigCompiler()
	}
	return &validator{rt: wazero.NewRuntimeWithConfig(ctx, cfg)}
}

// check compiles wasm and returns its ABI, or a ValidationError that says
// what is wrong with the module.
func (v *validator) check(ctx context.Context, wasm []byte) (string, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return "", invalid(CodeInvalidModule, "the body is not a WebAssembly module (it does not start with \\0asm); send the .wasm file's bytes")
	}
	compiled, err := v.rt.CompileModule(ctx, wasm)
	if err != nil {
		return "", invalid(CodeInvalidModule, "the module does not compile: %v", err)
	}
	defer compiled.Close(ctx)

	var forbidden []string
	for _, fn := range compiled.ImportedFunctions() {
		mod, name, _ := fn.Import()
		if !allowedImportModules[mod] {
			forbidden = append(forbidden, mod+"."+name)
		}
	}
	if len(forbidden) > 0 {
		sort.Strings(forbidden)
		return "", invalid(CodeInvalidModule, "the module imports host functions Hearth does not provide: %s; functions may import only WASI preview1 (wasi_snapshot_preview1)", strings.Join(forbidden, ", "))
	}
	if _, ok := compiled.ExportedFunctions()["_start"]; ok {
		return ABICommand, nil
	}
	return "", invalid(CodeInvalidModule, "the module exports no _start function; build it as a WASI command (e.g. clang --target=wasm32-wasi, or GOOS=wasip1 GOARCH=wasm go build)")
}

func (v *validator) close(ctx context.Context) error {
	if err := v.rt.Close(ctx); err != nil {
		return fmt.Errorf("registry: close validator: %w", err)
	}
	return nil
}
