package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// holdCompiledTier makes e's optimizing compiles wait until the returned
// function is called (or the engine closes), so that calls meanwhile run
// on the interpreter tier.
func holdCompiledTier(e *Engine) (release func()) {
	gate := make(chan struct{})
	e.testHookOptimize = func(ctx context.Context) error {
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return nil
	}
	return func() { close(gate) }
}

// failCompiledTier makes e's optimizing compiles fail: modules stay on the
// interpreter tier.
func failCompiledTier(e *Engine) {
	e.log = quietLog()
	e.testHookOptimize = func(context.Context) error { return errors.New("compile failed on purpose") }
}

func TestTieredStartCommand(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	release := holdCompiledTier(e)
	f := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}

	for i := 0; i < 2; i++ {
		res := run(e, f, "tiers")
		wantOK(t, res, "Hello, tiers!\n")
		if !res.Interpreted || res.Cold != (i == 0) {
			t.Fatalf("call %d: interpreted=%v cold=%v; want the interpreter while the compiled code is held back", i, res.Interpreted, res.Cold)
		}
	}
	release()
	waitCompiled(t, e, f)
	res := run(e, f, "tiers")
	wantOK(t, res, "Hello, tiers!\n")
	if res.Interpreted || res.Cold {
		t.Fatalf("after the compile: interpreted=%v cold=%v; want warm compiled code", res.Interpreted, res.Cold)
	}
}

func TestTieredStartReactorPool(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	release := holdCompiledTier(e)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}

	for i, want := range []string{"1", "2"} { // one interpreted instance, reused
		res := run(e, f, "count")
		wantOK(t, res, want)
		if !res.Interpreted {
			t.Fatalf("call %d ran on compiled code while it was held back", i)
		}
	}
	release()
	waitCompiled(t, e, f)
	// The interpreted instance is not reused: when the compile finished, a
	// compiled one took its place (tierup.go), so the next call is warm,
	// on a fresh instance.
	res := run(e, f, "count")
	wantOK(t, res, "1")
	if res.Interpreted || res.Cold {
		t.Fatalf("first call after the compile: interpreted=%v cold=%v; want the compiled instance made in its place, warm", res.Interpreted, res.Cold)
	}
	res = run(e, f, "count")
	wantOK(t, res, "2")
	if warm, _ := e.Warm(); len(warm) != 1 || warm[0].Idle != 1 {
		t.Fatalf("warm set %+v, want one idle (compiled) instance", warm)
	}
}

// The interpreter tier keeps every limit of the compiled one.
func TestTieredStartLimits(t *testing.T) {
	store := newStore(t)
	tests := []struct {
		name      string
		wasm      []byte
		memory    int
		limit     int
		timeoutMs int
		code      string
	}{
		{"endless loop", testmodules.Loop, 0, limits.DefaultOutputBytes, 200, wire.CodeTimeout},
		{"memory bomb", testmodules.MemoryBomb, 16, limits.DefaultOutputBytes, 10_000, wire.CodeFunctionFailed},
		{"endless output", testmodules.BigOutput, 0, 1 << 20, 10_000, wire.CodeOutputTooLarge},
		{"trap", testmodules.Trap, 0, limits.DefaultOutputBytes, 10_000, wire.CodeFunctionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, store)
			failCompiledTier(e)
			f := fn{name: "bad", digest: upload(t, store, tt.wasm), abi: abi.Command, timeoutMs: tt.timeoutMs, memoryMB: tt.memory}
			start := time.Now()
			res := e.Run(context.Background(), f.request("POST"), nil, tt.limit)
			wantErr(t, res, tt.code)
			if !res.Interpreted {
				t.Fatal("the call ran on compiled code; the compile was made to fail")
			}
			if elapsed := time.Since(start); tt.code == wire.CodeTimeout && elapsed > 5*time.Second {
				t.Fatalf("the call took %s; the 200 ms timeout should have stopped it", elapsed)
			}
		})
	}

	t.Run("reactor timeout", func(t *testing.T) {
		e := newTestEngine(t, store)
		failCompiledTier(e)
		f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor, timeoutMs: 2000}
		wantOK(t, run(e, f, "count"), "1")
		res := run(e, f, "loop")
		wantErr(t, res, wire.CodeTimeout)
		if !res.Interpreted {
			t.Fatal("the call ran on compiled code; the compile was made to fail")
		}
	})
}

// A call that fails on the interpreter gets compiled code's answer: the
// call starts on compiled code too, with its full timeout there, once the
// compile is done.
func TestTieredStartFailuresAreCompiledCodes(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	release := holdCompiledTier(e)
	f := fn{name: "loop", digest: upload(t, store, testmodules.Loop), abi: abi.Command, timeoutMs: 300}

	done := make(chan Result, 1)
	go func() { done <- run(e, f, "") }()
	// Once the call runs on the interpreter, let the compiler finish.
	testutil.Eventually(t, 10*time.Second, func() error {
		e.mu.Lock()
		entry := e.modules[moduleKey{f.digest, limits.DefaultMemoryMB}]
		e.mu.Unlock()
		if entry == nil || !entry.interpreted() {
			return errNotYet
		}
		return nil
	})
	released := time.Now()
	release()
	res := <-done
	wantErr(t, res, wire.CodeTimeout)
	if res.Interpreted || !res.Cold {
		t.Fatalf("interpreted=%v cold=%v; want the answer of the compiled code, on a cold call", res.Interpreted, res.Cold)
	}
	if elapsed := time.Since(released); elapsed < 300*time.Millisecond {
		t.Fatalf("answered %s after the compile could start; compiled code gets its full 300 ms", elapsed)
	}
}

func TestTieredStartOff(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	e.SetTieredStart(false)
	f := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}
	res := run(e, f, "off")
	wantOK(t, res, "Hello, off!\n")
	if res.Interpreted || !res.Cold {
		t.Fatalf("interpreted=%v cold=%v; want a cold call on compiled code", res.Interpreted, res.Cold)
	}
}

// A module whose compiled code is already in the compilation cache skips
// the interpreter: the cache hit is ready first.
func TestTieredStartSkipsInterpreterOnCacheHit(t *testing.T) {
	store := newStore(t)
	f := fn{name: "echo", digest: upload(t, store, example("echo")), abi: abi.Command}
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // the same cache directory: a restarted runner
		e, err := NewEngineWithCacheDir(store, dir, false, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		res := run(e, f, "again")
		wantOK(t, res, "again")
		if i == 1 && res.Interpreted {
			t.Fatal("the second engine ran on the interpreter; the compiled code was on disk")
		}
		waitCompiled(t, e, f)
		if err := e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Close stops an optimizing compile still running in the background.
func TestTieredStartCloseDuringCompile(t *testing.T) {
	store := newStore(t)
	e := NewEngine(StoreSource(store), nil)
	f := fn{name: "echo", digest: upload(t, store, example("echo")), abi: abi.Command}
	release := holdCompiledTier(e)
	defer release()
	wantOK(t, run(e, f, "x"), "x")
	done := make(chan error, 1)
	go func() { done <- e.Close(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return: the background compile was not stopped")
	}
	if res := run(e, f, "x"); res.Err == nil {
		t.Fatal("a call after Close succeeded")
	}
}

// A call that gives back an interpreter instance after the compile has
// finished closes it and has tierUp make a compiled one in its place
// (runReactor): the next call is warm.
func TestTierUpReplacesAnInstanceGivenBack(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	wantOK(t, run(e, f, "count"), "1")
	waitCompiled(t, e, f)
	e.RetireIdle(0, 0) // as if the call had closed its interpreter instance
	var p *pool
	for _, q := range e.poolList() {
		p = q
	}
	e.mu.Lock()
	entry := e.modules[moduleKey{f.digest, limits.DefaultMemoryMB}]
	e.mu.Unlock()
	e.tierUp(context.Background(), p, entry, 1)
	if idle, _ := poolCounts(e, f); idle != 1 {
		t.Fatalf("%d idle instances after tierUp, want 1", idle)
	}
	res := run(e, f, "count")
	wantOK(t, res, "1")
	if res.Interpreted || res.Cold {
		t.Fatalf("the next call: interpreted=%v cold=%v; want a warm compiled instance", res.Interpreted, res.Cold)
	}
}

// poolCounts is the idle and busy instances of f's pool.
func poolCounts(e *Engine, f fn) (idle, busy int) {
	for _, p := range e.poolList() {
		if p.key.function == f.name {
			i, b, _ := p.counts()
			idle += i
			busy += b
		}
	}
	return idle, busy
}
