package registry

import (
	"context"

	"github.com/tetratelabs/wazero"
)

// InspectModule checks wasm by the rules a deploy applies (a WebAssembly
// module that compiles, imports only WASI preview1 and exports one of the
// ABIs of docs/abi.md) and returns its ABI, abi.Command or abi.Reactor. A
// module it refuses gets a *ValidationError that says what is wrong, as the
// gateway would answer. It compiles with wazero's interpreter, which checks
// the module as the compiler does in a fraction of the time, so that
// `hearth build` can check every build.
func InspectModule(ctx context.Context, wasm []byte) (string, error) {
	v := newValidator(ctx, wazero.NewRuntimeConfigInterpreter())
	defer v.close(ctx)
	return v.check(ctx, wasm)
}
