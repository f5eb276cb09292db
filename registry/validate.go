package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
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
	return detectABI(compiled.ExportedFunctions())
}

// detectABI tells the ABI from a module's exports: hearth_alloc and
// hearth_handle make a reactor, _start a command.
func detectABI(exports map[string]api.FunctionDefinition) (string, error) {
	alloc, hasAlloc := exports["hearth_alloc"]
	handle, hasHandle := exports["hearth_handle"]
	switch {
	case hasAlloc && hasHandle:
		if !sameTypes(alloc.ParamTypes(), api.ValueTypeI32) || !sameTypes(alloc.ResultTypes(), api.ValueTypeI32) {
			return "", invalid(CodeInvalidModule, "hearth_alloc must have type (i32) -> i32; see docs/abi.md")
		}
		if !sameTypes(handle.ParamTypes(), api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32) || !sameTypes(handle.ResultTypes(), api.ValueTypeI64) {
			return "", invalid(CodeInvalidModule, "hearth_handle must have type (i32, i32, i32, i32) -> i64; see docs/abi.md")
		}
		return ABIReactor, nil
	case hasAlloc || hasHandle:
		return "", invalid(CodeInvalidModule, "the module exports only one of hearth_alloc and hearth_handle; a reactor needs both (docs/abi.md)")
	}
	if _, ok := exports["_start"]; ok {
		return ABICommand, nil
	}
	return "", invalid(CodeInvalidModule, "the module exports neither _start (a WASI command) nor hearth_alloc and hearth_handle (a reactor); build a command with clang --target=wasm32-wasi or GOOS=wasip1 GOARCH=wasm go build, or a reactor with sdk/guest and -buildmode=c-shared")
}

func sameTypes(got []api.ValueType, want ...api.ValueType) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func (v *validator) close(ctx context.Context) error {
	if err := v.rt.Close(ctx); err != nil {
		return fmt.Errorf("registry: close validator: %w", err)
	}
	return nil
}
