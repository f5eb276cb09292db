package runner

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
)

// BenchmarkReactorDeadlineChecks is what the runner's time limit costs a
// warm reactor call: hearth_handle on one instance of the C and the Go
// reverse reactors, compiled with the runner's configuration
// (RuntimeConfig: WithCloseOnContextDone, which compiles a check into
// every loop and function entry of the guest and watches the call's
// context) and without it. Go's wasm code enters a loop in every function
// and its allocator runs many, so the checks cost a Go guest several times
// what they cost C (docs/decisions/0015-go-reactor-cost.md).
func BenchmarkReactorDeadlineChecks(b *testing.B) {
	meta := []byte("POST /\nContent-Type: application/octet-stream\n")
	for _, ex := range []string{"reverse-c", "reverse"} {
		for _, checks := range []bool{false, true} {
			name := ex + "/no-checks"
			if checks {
				name = ex + "/runner-config"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				cfg := wazero.NewRuntimeConfigCompiler().WithMemoryLimitPages(uint32(limits.DefaultMemoryMB) * 16)
				if checks {
					cfg = RuntimeConfig(nil, limits.DefaultMemoryMB)
				}
				rt := wazero.NewRuntimeWithConfig(ctx, cfg)
				defer rt.Close(ctx)
				wasi_snapshot_preview1.MustInstantiate(ctx, rt)
				compiled, err := rt.CompileModule(ctx, example(ex))
				if err != nil {
					b.Fatal(err)
				}
				mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
				if err != nil {
					b.Fatal(err)
				}
				if init := mod.ExportedFunction("_initialize"); init != nil {
					if _, err := init.Call(ctx); err != nil {
						b.Fatal(err)
					}
				}
				res, err := mod.ExportedFunction(abi.Alloc).Call(ctx, 4096)
				if err != nil {
					b.Fatal(err)
				}
				ptr := uint32(res[0])
				handle := mod.ExportedFunction(abi.Handle)
				mem := mod.Memory()
				for b.Loop() {
					cctx, cancel := context.WithTimeout(ctx, limits.DefaultTimeout)
					mem.Write(ptr, meta)
					mem.Write(ptr+uint32(len(meta)), benchBody)
					out, err := handle.Call(cctx, uint64(ptr), uint64(len(meta)), uint64(ptr)+uint64(len(meta)), uint64(len(benchBody)))
					cancel()
					if err != nil || uint32(out[0]) == 0 {
						b.Fatalf("hearth_handle: %v, %v", out, err)
					}
				}
			})
		}
	}
}
