package testmodules

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

func TestModulesCompile(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for name, wasm := range map[string][]byte{
		"Trap": Trap, "Loop": Loop, "ExitCode": ExitCode, "MemoryBomb": MemoryBomb,
		"BigOutput": BigOutput, "ForbiddenImport": ForbiddenImport, "Sleep": Sleep,
	} {
		compiled, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := compiled.ExportedFunctions()["_start"]; !ok {
			t.Errorf("%s exports no _start", name)
		}
	}
	reactor, err := rt.CompileModule(ctx, Reactor)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hearth_alloc", "hearth_handle", "_initialize"} {
		if _, ok := reactor.ExportedFunctions()[name]; !ok {
			t.Errorf("Reactor does not export %s", name)
		}
	}
	compiled, _ := rt.CompileModule(ctx, ForbiddenImport)
	found := false
	for _, fn := range compiled.ImportedFunctions() {
		mod, name, _ := fn.Import()
		found = found || (mod == "env" && name == "socket_open")
	}
	if !found {
		t.Fatal("ForbiddenImport does not import env.socket_open")
	}
}
