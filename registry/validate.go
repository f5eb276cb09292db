package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hearthfn/hearth/internal/abi"
)

// allowedImportModules are the host modules a function may import.
var allowedImportModules = map[string]bool{
	abi.WASIModule: true,
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
		return "", invalid(CodeInvalidModule, "the module imports host functions Hearth does not provide: %s; functions may import only WASI preview1 (%s)", strings.Join(forbidden, ", "), abi.WASIModule)
	}
	return detectABI(compiled.ExportedFunctions())
}

// detectABI tells the ABI from a module's exports: abi.Alloc and
// abi.Handle make a reactor, abi.Start a command.
func detectABI(exports map[string]api.FunctionDefinition) (string, error) {
	alloc, hasAlloc := exports[abi.Alloc]
	handle, hasHandle := exports[abi.Handle]
	switch {
	case hasAlloc && hasHandle:
		if !sameTypes(alloc.ParamTypes(), api.ValueTypeI32) || !sameTypes(alloc.ResultTypes(), api.ValueTypeI32) {
			return "", invalid(CodeInvalidModule, "%s must have type (i32) -> i32; see docs/abi.md", abi.Alloc)
		}
		if !sameTypes(handle.ParamTypes(), api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32) || !sameTypes(handle.ResultTypes(), api.ValueTypeI64) {
			return "", invalid(CodeInvalidModule, "%s must have type (i32, i32, i32, i32) -> i64; see docs/abi.md", abi.Handle)
		}
		return abi.Reactor, nil
	case hasAlloc || hasHandle:
		return "", invalid(CodeInvalidModule, "the module exports only one of %s and %s; a reactor needs both (docs/abi.md)", abi.Alloc, abi.Handle)
	}
	if _, ok := exports[abi.Start]; ok {
		return abi.Command, nil
	}
	return "", invalid(CodeInvalidModule, "the module exports neither %s (a WASI command) nor %s and %s (a reactor); build a command with clang --target=wasm32-wasi or GOOS=wasip1 GOARCH=wasm go build, or a reactor with sdk/guest and -buildmode=c-shared", abi.Start, abi.Alloc, abi.Handle)
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
