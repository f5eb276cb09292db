package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// newStore starts the embedded S3 server and returns a store on it.
func newStore(t testing.TB) *objstore.Store { return testutil.StartS3(t) }

// upload stores a module the way the registry does and returns its digest.
func upload(t testing.TB, store *objstore.Store, wasm []byte) string {
	t.Helper()
	sum := sha256.Sum256(wasm)
	digest := hex.EncodeToString(sum[:])
	if err := store.Put(context.Background(), objstore.ModuleKey(digest), wasm, "application/wasm"); err != nil {
		t.Fatal(err)
	}
	return digest
}

func newTestEngine(t testing.TB, store *objstore.Store) *Engine {
	t.Helper()
	e := NewEngine(StoreSource(store), nil)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// newSharingEngine makes an engine like a runner's with a cache directory:
// compiled code on disk, shared with other runners through store.
func newSharingEngine(t testing.TB, store *objstore.Store) *Engine {
	t.Helper()
	e, err := NewEngineWithCacheDir(store, t.TempDir(), true, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

func example(name string) []byte {
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	panic("no example " + name)
}

// fn describes a deployed function version for tests.
type fn struct {
	name, digest, abi string
	timeoutMs         int
	memoryMB          int
	concurrency       int
}

func (f fn) request(method string) *wire.Request {
	return &wire.Request{Namespace: "default", Function: f.name, Version: 1, Digest: f.digest, ABI: f.abi,
		TimeoutMs: f.timeoutMs, MemoryMB: f.memoryMB, Concurrency: f.concurrency, Method: method, Path: "/"}
}

func run(e *Engine, f fn, body string) Result {
	return e.Run(context.Background(), f.request("POST"), []byte(body), limits.DefaultOutputBytes)
}

func wantOK(t *testing.T, res Result, body string) {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("call failed: %v (stderr %q)", res.Err, res.Stderr)
	}
	if got := string(res.Response.Body); got != body {
		t.Fatalf("output %q, want %q", got, body)
	}
}

func wantErr(t *testing.T, res Result, code string) {
	t.Helper()
	if res.Err == nil || res.Err.Code != code {
		t.Fatalf("got error %v, want code %s", res.Err, code)
	}
}

func TestReactorReusesWarmInstances(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}

	first := run(e, f, "count")
	wantOK(t, first, "1")
	if !first.Cold || first.Init <= 0 {
		t.Fatalf("first call cold=%v init=%v, want a cold start with init time", first.Cold, first.Init)
	}
	for i := 2; i <= 3; i++ {
		res := run(e, f, "count")
		wantOK(t, res, strconv.Itoa(i))
		if res.Cold {
			t.Fatalf("call %d was cold; the instance should be reused", i)
		}
	}
	warm, memory := e.Warm()
	if len(warm) != 1 || warm[0].Digest != f.digest || warm[0].Idle != 1 || warm[0].Busy != 0 || memory == 0 {
		t.Fatalf("warm set %+v memory %d, want one idle instance of the module", warm, memory)
	}
}

func TestReactorDiscardsBrokenInstances(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	digest := upload(t, store, testmodules.Reactor)
	tests := []struct {
		name, body, code string
		timeoutMs        int
	}{
		{"trap", "trap", wire.CodeFunctionFailed, 10_000},
		{"timeout", "loop", wire.CodeTimeout, 300},
		{"memory limit", "alloc 128", wire.CodeFunctionFailed, 30_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fn{name: "r", digest: digest, abi: abi.Reactor, timeoutMs: tt.timeoutMs, memoryMB: 64}
			wantOK(t, run(e, f, "count"), "1") // a fresh instance
			wantOK(t, run(e, f, "count"), "2") // reused
			start := time.Now()
			wantErr(t, run(e, f, tt.body), tt.code)
			if tt.name == "timeout" && time.Since(start) < time.Duration(tt.timeoutMs)*time.Millisecond {
				t.Fatalf("timed out after %s, before the 300ms limit", time.Since(start))
			}
			// The broken instance is gone: the next call starts a new one.
			res := run(e, f, "count")
			wantOK(t, res, "1")
			if !res.Cold {
				t.Fatal("call after a broken instance should start a new one (cold)")
			}
			e.RetireIdle(0, 0) // next subtest starts from no instances
		})
	}
}

func TestReactorErrorsLogsAndMetadata(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}

	res := run(e, f, "fail")
	wantErr(t, res, wire.CodeFunctionFailed)
	if !strings.Contains(res.Err.Message, "asked to fail") {
		t.Fatalf("error message %q", res.Err.Message)
	}
	res = run(e, f, "log")
	wantOK(t, res, "logged")
	if !strings.Contains(res.Stderr, "log line from call") {
		t.Fatalf("log not captured: %q", res.Stderr)
	}
	if res = run(e, f, "count"); res.Stderr != "" {
		t.Fatalf("a call without logs got %q: logs leak between calls", res.Stderr)
	}

	req := f.request("GET")
	req.Path, req.Query, req.Headers = "/x/y", "a=1", map[string][]string{"X-Test": {"yes"}}
	res = e.Run(context.Background(), req, []byte("meta"), limits.DefaultOutputBytes)
	wantOK(t, res, "meta")
	h := res.Response.Headers
	if res.Response.Status != 201 || h.Get("X-Method") != "GET" || h.Get("X-Path") != "/x/y" || h.Get("X-Query") != "a=1" || h.Get("X-Test") != "yes" {
		t.Fatalf("metadata round trip: status %d headers %v", res.Response.Status, h)
	}

	res = e.Run(context.Background(), f.request("POST"), []byte("big 5000"), 1000)
	wantErr(t, res, wire.CodeOutputTooLarge)
}

func TestCommandLimits(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	tests := []struct {
		name   string
		wasm   []byte
		memory int
		limit  int
		code   string
	}{
		{"trap", testmodules.Trap, 0, limits.DefaultOutputBytes, wire.CodeFunctionFailed},
		{"exit code", testmodules.ExitCode, 0, limits.DefaultOutputBytes, wire.CodeFunctionFailed},
		{"endless loop", testmodules.Loop, 0, limits.DefaultOutputBytes, wire.CodeTimeout},
		{"memory bomb", testmodules.MemoryBomb, 16, limits.DefaultOutputBytes, wire.CodeFunctionFailed},
		{"endless output", testmodules.BigOutput, 0, 1 << 20, wire.CodeOutputTooLarge},
	}
	hello := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the endless loop should meet the timeout; the others get
			// time to hit their own limit even on a slow machine (-race).
			timeout := 10000
			if tt.code == wire.CodeTimeout {
				timeout = 200
			}
			f := fn{name: "bad", digest: upload(t, store, tt.wasm), abi: abi.Command, timeoutMs: timeout, memoryMB: tt.memory}
			res := e.Run(context.Background(), f.request("POST"), nil, tt.limit)
			wantErr(t, res, tt.code)
			wantOK(t, run(e, hello, "again"), "Hello, again!\n")
		})
	}
}

func TestConcurrencyCap(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "sleepy", digest: upload(t, store, testmodules.Sleep), abi: abi.Command, concurrency: 1}

	done := make(chan Result, 1)
	go func() { done <- run(e, f, "1000") }()
	key := poolKey{"default", "sleepy", 1}
	testutil.Eventually(t, 10*time.Second, func() error {
		if e.inFlight(key) != 1 {
			return errNotYet
		}
		return nil
	})
	wantErr(t, run(e, f, "0"), wire.CodeConcurrencyLimit)
	wantOK(t, <-done, "slept 1000\n")
	wantOK(t, run(e, f, "0"), "slept 0\n")
}

func TestPrewarmAndRetire(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}

	started, err := e.Prewarm(context.Background(), f.request("POST"), 3)
	if err != nil || started != 3 {
		t.Fatalf("Prewarm = %d, %v; want 3 started", started, err)
	}
	if warm, _ := e.Warm(); len(warm) != 1 || warm[0].Idle != 3 {
		t.Fatalf("after prewarm: %+v", warm)
	}
	if res := run(e, f, "count"); res.Err != nil || res.Cold {
		t.Fatalf("call after prewarm: cold=%v err=%v; want a warm call", res.Cold, res.Err)
	}
	if started, _ := e.Prewarm(context.Background(), f.request("POST"), 3); started != 0 {
		t.Fatalf("second Prewarm started %d, want 0 (already 3 idle)", started)
	}
	if closed := e.RetireIdle(0, 1); closed != 2 {
		t.Fatalf("RetireIdle closed %d, want 2 (keeping 1)", closed)
	}
	if closed := e.RetireIdle(time.Hour, 0); closed != 0 {
		t.Fatalf("RetireIdle of instances idle for less than an hour closed %d", closed)
	}
	// A command module is compiled by Prewarm, with no instances.
	cmd := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}
	if _, err := e.Prewarm(context.Background(), cmd.request("POST"), 5); err != nil {
		t.Fatal(err)
	}
	if res := run(e, cmd, ""); res.Cold {
		t.Fatal("a prewarmed command module started cold")
	}
}

func TestSharedCompiledCache(t *testing.T) {
	store := newStore(t)
	digest := upload(t, store, example("echo"))
	f := fn{name: "echo", digest: digest, abi: abi.Command}

	var results []Result
	var caches []*sharedCache
	for i := 0; i < 2; i++ { // two runners, each with its own disk cache
		e := newSharingEngine(t, store)
		res := run(e, f, "shared")
		wantOK(t, res, "shared")
		waitCompiled(t, e, f) // the first runner compiles and shares in the background
		results = append(results, res)
		caches = append(caches, e.shared)
	}
	if caches[0].uploads.Load() != 1 || caches[0].downloads.Load() != 0 {
		t.Fatalf("first runner: %d uploads %d downloads, want 1 and 0", caches[0].uploads.Load(), caches[0].downloads.Load())
	}
	if caches[1].downloads.Load() != 1 || caches[1].uploads.Load() != 0 {
		t.Fatalf("second runner: %d downloads %d uploads, want 1 and 0", caches[1].downloads.Load(), caches[1].uploads.Load())
	}
	if results[1].Interpreted {
		t.Fatal("the second runner ran the call on the interpreter; the shared compiled code was there")
	}
	noPipes(t, caches[1].dir)
	if ok, err := store.Exists(context.Background(), SharedCacheKey(digest)); err != nil || !ok {
		t.Fatalf("shared compiled code in S3: %v %v", ok, err)
	}
	t.Logf("cold start of a 2.5 MB Go module: first runner %s (interpreted: %v), from the shared cache %s",
		results[0].Init, results[0].Interpreted, results[1].Init)
}

// waitCompiled waits until the module of f has its compiled tier in place.
func waitCompiled(t testing.TB, e *Engine, f fn) {
	t.Helper()
	memoryMB := f.memoryMB
	if memoryMB <= 0 {
		memoryMB = limits.DefaultMemoryMB
	}
	e.mu.Lock()
	entry := e.modules[moduleKey{f.digest, memoryMB}]
	e.mu.Unlock()
	if entry == nil {
		t.Fatal("the module is not loaded")
	}
	select {
	case <-entry.optimized:
	case <-time.After(time.Minute):
		t.Fatal("no compiled tier after a minute")
	}
	if entry.interpreted() {
		t.Fatal("the compiled tier failed; the module stayed on the interpreter")
	}
}

// A broken shared archive costs a compile, not the call; the runner then
// shares its own compiled code in its place.
func TestSharedCompiledCacheBroken(t *testing.T) {
	store := newStore(t)
	f := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}
	if err := store.Put(context.Background(), SharedCacheKey(f.digest), []byte("not an archive"), "application/x-s2"); err != nil {
		t.Fatal(err)
	}
	e := newSharingEngine(t, store)
	wantOK(t, run(e, f, "anyway"), "Hello, anyway!\n")
	waitCompiled(t, e, f)
	if e.shared.uploads.Load() != 1 {
		t.Fatalf("%d uploads, want the broken archive replaced", e.shared.uploads.Load())
	}
	next := newSharingEngine(t, store)
	if res := run(next, f, "shared"); res.Err != nil || res.Interpreted || next.shared.downloads.Load() != 1 {
		t.Fatalf("next runner: err %v interpreted %v downloads %d; want the replaced archive used", res.Err, res.Interpreted, next.shared.downloads.Load())
	}
}

// TestPrewarmKeepsIdleInstancesWarm: a prewarm of instances already idle
// restarts their idle time, so that a runner's IdleTTL does not retire an
// instance the autoscaler asks for every minute.
func TestPrewarmKeepsIdleInstancesWarm(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	if started, err := e.Prewarm(context.Background(), f.request("POST"), 2); err != nil || started != 2 {
		t.Fatalf("Prewarm = %d, %v; want 2 started", started, err)
	}
	made := time.Now()
	testutil.Eventually(t, 5*time.Second, func() error { // the clock moves on
		if time.Since(made) < 50*time.Millisecond {
			return errNotYet
		}
		return nil
	})
	if started, _ := e.Prewarm(context.Background(), f.request("POST"), 1); started != 0 {
		t.Fatalf("Prewarm of 1 with 2 idle started %d", started)
	}
	// Idle for 50 ms since they were made, but one was prewarmed again now.
	if closed := e.RetireIdle(40*time.Millisecond, 0); closed != 1 {
		t.Fatalf("RetireIdle closed %d, want 1: the instance prewarmed again stays", closed)
	}
	if warm, _ := e.Warm(); len(warm) != 1 || warm[0].Idle != 1 {
		t.Fatalf("after the retire: %+v", warm)
	}
}
