package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/loadgen"
	"github.com/hearthfn/hearth/runner"
)

// reactorInstance is one instance of a reactor module, called through the
// reactor ABI directly (docs/abi.md).
type reactorInstance struct {
	mod          api.Module
	handle       api.Function
	input, inCap uint32
}

func newReactorInstance(ctx context.Context, rt wazero.Runtime, compiled wazero.CompiledModule) (*reactorInstance, error) {
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader).WithStartFunctions())
	if err != nil {
		return nil, err
	}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(ctx); err != nil {
			return nil, fmt.Errorf("_initialize: %w", err)
		}
	}
	alloc, handle := mod.ExportedFunction(abi.Alloc), mod.ExportedFunction(abi.Handle)
	if alloc == nil || handle == nil {
		return nil, errors.New("not a reactor")
	}
	const size = 4096
	res, err := alloc.Call(ctx, size)
	if err != nil {
		return nil, err
	}
	return &reactorInstance{mod: mod, handle: handle, input: uint32(res[0]), inCap: size}, nil
}

// call passes meta and body to hearth_handle and returns a copy of the
// output.
func (r *reactorInstance) call(ctx context.Context, meta, body []byte) ([]byte, error) {
	if uint32(len(meta)+len(body)) > r.inCap {
		return nil, errors.New("input larger than the instance's buffer")
	}
	mem := r.mod.Memory()
	metaPtr, bodyPtr := r.input, r.input+uint32(len(meta))
	if !mem.Write(metaPtr, meta) || !mem.Write(bodyPtr, body) {
		return nil, errors.New("input buffer outside memory")
	}
	res, err := r.handle.Call(ctx, uint64(metaPtr), uint64(len(meta)), uint64(bodyPtr), uint64(len(body)))
	if err != nil {
		return nil, err
	}
	ptr, n := uint32(res[0]>>32), uint32(res[0])
	out, ok := mem.Read(ptr, n)
	if !ok {
		return nil, errors.New("output outside memory")
	}
	return bytes.Clone(out), nil
}

// wazeroInProcess measures pooled reactor calls of an example in this
// process, without a network.
func wazeroInProcess(example string) func(b *bencher, ctx context.Context) (Result, error) {
	return func(b *bencher, ctx context.Context) (Result, error) {
		return b.wazeroInProcess(ctx, example)
	}
}

func (b *bencher) wazeroInProcess(ctx context.Context, example string) (Result, error) {
	// The runner's wazero settings: compiler, memory limit, and
	// WithCloseOnContextDone, which lets a deadline stop a running guest.
	rt := wazero.NewRuntimeWithConfig(ctx, runner.RuntimeConfig(nil, limits.DefaultMemoryMB))
	defer rt.Close(context.Background())
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, exampleWasm(example))
	if err != nil {
		return Result{}, err
	}
	// A pool of instances: one per worker, made on its first call (during
	// the warm-up), as the runner's pool grows to the calls in flight.
	pool := make([]*reactorInstance, b.cfg.Concurrency)
	meta := []byte("POST /\nContent-Type: application/octet-stream\n")
	want := reversed(b.body)
	res, err := b.load(ctx, loadgen.Config{Warmup: b.warmup(), Rate: b.cfg.Rate}, func(ctx context.Context, w *loadgen.Worker) error {
		inst := pool[w.ID]
		if inst == nil {
			w.StopTimer()
			var err error
			if inst, err = newReactorInstance(ctx, rt, compiled); err != nil {
				return err
			}
			pool[w.ID] = inst
			w.StartTimer()
		}
		// A deadline per call, as the runner sets one.
		cctx, cancel := context.WithTimeout(ctx, limits.DefaultTimeout)
		out, err := inst.call(cctx, meta, b.body)
		cancel()
		if err != nil { // a trapped instance is not reused
			_ = inst.mod.Close(context.Background())
			pool[w.ID] = nil
			return err
		}
		if got := runner.ParseCGI(out).Body; !bytes.Equal(got, want) {
			return fmt.Errorf("answer %.100q, want %.100q", got, want)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	r := throughput(res)
	r.Note = "wazero with WithCloseOnContextDone(true) and a deadline per call, as in the runner"
	return r, nil
}
