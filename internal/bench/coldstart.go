package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/loadgen"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/runner"
)

// coldStart measures the first call of a deployed module on a new engine
// whose disk cache is empty and which has loaded another module, as on a
// runner in service that never ran it; with shared, another runner has
// compiled the module and shared its compiled code through S3 first.
func coldStart(example string, shared bool) func(b *bencher, ctx context.Context) (Result, error) {
	return func(b *bencher, ctx context.Context) (Result, error) {
		s, err := b.platform(ctx)
		if err != nil {
			return Result{}, err
		}
		req := exampleRequest(example, abi.Command)
		otherReq := exampleRequest("reverse-c", abi.Reactor)
		var setUp loadgen.Histogram
		// newEngine makes the engine of a runner in service that never ran
		// example: it has loaded another module, so its wazero runtimes
		// and WASI module exist, as on any runner after its first call.
		newEngine := func() (*runner.Engine, string, error) {
			dir, err := os.MkdirTemp(b.dataDir, "cold-")
			if err != nil {
				return nil, "", err
			}
			e, err := runner.NewEngineWithCacheDir(s.Store, dir, shared, b.log)
			if err != nil {
				os.RemoveAll(dir)
				return nil, "", err
			}
			start := time.Now()
			if _, err := e.Prewarm(ctx, otherReq, 0); err != nil {
				_ = e.Close(context.Background())
				os.RemoveAll(dir)
				return nil, "", fmt.Errorf("load reverse-c first: %w", err)
			}
			setUp.Record(time.Since(start))
			return e, dir, nil
		}
		closeEngine := func(e *runner.Engine, dir string) {
			_ = e.Close(context.Background())
			_ = os.RemoveAll(dir)
		}
		if shared { // another runner compiles the module and shares it
			b.bar.Status("compiling " + example + " on a first runner, which shares the compiled code…")
			e, dir, err := newEngine()
			if err != nil {
				return Result{}, err
			}
			res := e.Run(ctx, req, b.body, limits.DefaultOutputBytes)
			if res.Err == nil && res.Interpreted {
				// Tiered start: the compiled code, and its upload, come
				// from the background; Prewarm waits for them.
				_, err = e.Prewarm(ctx, req, 0)
			}
			closeEngine(e, dir)
			if res.Err != nil {
				return Result{}, fmt.Errorf("first runner: %s", res.Err.Message)
			}
			if err != nil {
				return Result{}, fmt.Errorf("first runner: %w", err)
			}
		}
		var init loadgen.Histogram // the runner's Init: fetch and compile (one worker: no lock)
		res, err := b.load(ctx, loadgen.Config{Concurrency: 1, MinOps: 3, MaxOps: 1000}, func(ctx context.Context, w *loadgen.Worker) error {
			w.StopTimer()
			e, dir, err := newEngine()
			if err != nil {
				return err
			}
			defer closeEngine(e, dir)
			w.StartTimer()
			res := e.Run(ctx, req, b.body, limits.DefaultOutputBytes)
			w.StopTimer()
			if res.Err != nil {
				return fmt.Errorf("%s: %s", res.Err.Code, res.Err.Message)
			}
			if !res.Cold {
				return errors.New("the call was not cold")
			}
			init.Record(res.Init)
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		r := throughput(res)
		r.CPUPerOp, r.CPUCores = nil, nil // the clean-up between repetitions would count
		r.RPS = 1 / res.Latency.Mean().Seconds()
		r.Note = fmt.Sprintf("%d repetitions; of which fetch and compile (the runner's init time) p50 %.1f ms, the rest instantiation and the run. Not timed: the new runner's first load (its wazero runtimes and WASI module, and the 14 KB reverse-c) before each repetition, p50 %.1f ms",
			res.Ops, micros(init.Quantile(0.5))/1000, micros(setUp.Quantile(0.5))/1000)
		return r, nil
	}
}

// exampleRequest is a POST of a deployed example (version 1) as a runner
// gets it.
func exampleRequest(name, abi string) *wire.Request {
	return &wire.Request{Namespace: registry.DefaultNamespace, Function: name, Version: 1,
		Digest: strings.TrimPrefix(registry.DigestOf(exampleWasm(name)), "sha256:"), ABI: abi, Method: http.MethodPost, Path: "/"}
}

// exampleWasm is the module of the example called name.
func exampleWasm(name string) []byte {
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	panic("no example " + name)
}
