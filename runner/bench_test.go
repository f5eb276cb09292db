package runner

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
)

var benchBody = bytes.Repeat([]byte("0123456789"), 10) // 100 bytes

// reverse is the same work as the reverse example, as a plain Go function:
// the baseline of a warm reactor call.
//
//go:noinline
func reverse(in []byte) []byte {
	out := make([]byte, len(in))
	for i, b := range in {
		out[len(out)-1-i] = b
	}
	return out
}

func BenchmarkWarmCall(b *testing.B) {
	b.Run("native-go", func(b *testing.B) {
		for b.Loop() {
			reverse(benchBody)
		}
	})
	b.Run("reactor", func(b *testing.B) {
		store := newStore(b)
		e := newTestEngine(b, store)
		f := fn{name: "reverse", digest: upload(b, store, example("reverse")), abi: abi.Reactor}
		req := f.request("POST")
		if res := e.Run(context.Background(), req, benchBody, limits.DefaultOutputBytes); res.Err != nil {
			b.Fatal(res.Err)
		}
		waitCompiled(b, e, f) // warm: compiled code, not the interpreter of tiered start
		for b.Loop() {
			if res := e.Run(context.Background(), req, benchBody, limits.DefaultOutputBytes); res.Err != nil {
				b.Fatal(res.Err)
			}
		}
	})
	for _, m := range []struct{ name, example string }{{"command-c-fresh-instance", "hello"}, {"command-go-fresh-instance", "echo"}} {
		b.Run(m.name, func(b *testing.B) {
			store := newStore(b)
			e := newTestEngine(b, store)
			f := fn{name: m.example, digest: upload(b, store, example(m.example)), abi: abi.Command}
			req := f.request("POST")
			if res := e.Run(context.Background(), req, benchBody, limits.DefaultOutputBytes); res.Err != nil {
				b.Fatal(res.Err)
			}
			waitCompiled(b, e, f)
			for b.Loop() {
				if res := e.Run(context.Background(), req, benchBody, limits.DefaultOutputBytes); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		})
	}
}

// BenchmarkColdStart measures the first call of a just-deployed module on a
// runner with an empty disk cache: fetch from S3 and start on the
// interpreter while the compiler works (tiered, the default), or fetch and
// compile (untiered), or fetch the compiled code another runner shared.
func BenchmarkColdStart(b *testing.B) {
	for _, m := range []struct{ name, example, abi string }{
		{"c", "hello", abi.Command},
		{"go", "echo", abi.Command},
	} {
		for _, mode := range []string{"tiered", "untiered", "shared-cache"} {
			b.Run(m.name+"/"+mode, func(b *testing.B) {
				store := newStore(b)
				f := fn{name: m.example, digest: upload(b, store, example(m.example)), abi: m.abi}
				shared := mode == "shared-cache"
				if shared { // a first runner compiles and shares
					e, err := NewEngineWithCacheDir(store, b.TempDir(), true, quietLog())
					if err != nil {
						b.Fatal(err)
					}
					if res := run(e, f, ""); res.Err != nil {
						b.Fatal(res.Err)
					}
					waitCompiled(b, e, f)
					e.Close(context.Background())
				}
				var init int64
				for b.Loop() {
					b.StopTimer()
					e, err := NewEngineWithCacheDir(store, b.TempDir(), shared, quietLog())
					if err != nil {
						b.Fatal(err)
					}
					e.SetTieredStart(mode != "untiered")
					b.StartTimer()
					res := run(e, f, "")
					b.StopTimer()
					if res.Err != nil || !res.Cold {
						b.Fatalf("cold call: %v cold=%v", res.Err, res.Cold)
					}
					init += res.Init.Microseconds()
					e.Close(context.Background()) // waits for or stops a background compile
					b.StartTimer()
				}
				b.ReportMetric(float64(init)/float64(b.N)/1000, "init-ms/op")
			})
		}
	}
}

// BenchmarkWarmInstanceMemory reports the Go heap (which holds wazero's
// linear memories) per live instance, and how many fit in 1 GiB.
func BenchmarkWarmInstanceMemory(b *testing.B) {
	for _, m := range []struct{ name, example string }{{"c-command", "hello"}, {"go-reactor", "reverse"}} {
		b.Run(m.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, RuntimeConfig(nil, limits.DefaultMemoryMB))
			defer rt.Close(ctx)
			compiled, err := rt.CompileModule(ctx, example(m.example))
			if err != nil {
				b.Fatal(err)
			}
			mustInstantiateWASI(ctx, rt)
			const n = 100
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				mods := make([]interface{ Close(context.Context) error }, 0, n)
				for i := 0; i < n; i++ {
					cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
					mod, err := rt.InstantiateModule(ctx, compiled, cfg)
					if err != nil {
						b.Fatal(err)
					}
					if init := mod.ExportedFunction("_initialize"); init != nil {
						if _, err := init.Call(ctx); err != nil {
							b.Fatal(err)
						}
					}
					mods = append(mods, mod)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				per := float64(after.HeapAlloc-before.HeapAlloc) / n
				b.ReportMetric(per/1024, "KiB/instance")
				b.ReportMetric(float64(1<<30)/per, "instances/GiB")
				for _, mod := range mods {
					mod.Close(ctx)
				}
			}
		})
	}
}
