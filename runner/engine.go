package runner

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/wire"
)

// randSource is the randomness guests get through WASI.
var randSource = rand.Reader

// ModuleSource fetches module bytes by their sha256 hex digest.
type ModuleSource interface {
	Module(ctx context.Context, digest string) ([]byte, error)
}

// Engine compiles and runs modules with wazero. It keeps one wazero runtime
// per memory class (the memory limit is fixed when a module is compiled),
// the compiled modules of each, fetched and compiled once per runner, and a
// pool of warm instances per reactor function version.
type Engine struct {
	source    ModuleSource
	cache     wazero.CompilationCache
	ownsCache bool
	shared    *sharedCache // compiled code shared through S3; nil = off

	mu       sync.Mutex
	runtimes map[int]wazero.Runtime     // by memory MB
	modules  map[moduleKey]*moduleEntry // compiled modules
	pools    map[poolKey]*pool          // reactor instances
	inflight map[poolKey]int            // calls running, for the concurrency cap
	closed   bool
}

type moduleKey struct {
	digest   string
	memoryMB int
}

// moduleEntry is a compiled module, or the promise of one while the first
// caller fetches and compiles it.
type moduleEntry struct {
	ready    chan struct{}
	compiled wazero.CompiledModule
	rt       wazero.Runtime
	err      error
}

// NewEngine makes an engine that fetches modules from source and keeps
// compiled code in cache; a nil cache means a private in-memory one.
func NewEngine(source ModuleSource, cache wazero.CompilationCache) *Engine {
	e := &Engine{
		source:   source,
		cache:    cache,
		runtimes: make(map[int]wazero.Runtime),
		modules:  make(map[moduleKey]*moduleEntry),
		pools:    make(map[poolKey]*pool),
		inflight: make(map[poolKey]int),
	}
	if cache == nil {
		e.cache, e.ownsCache = wazero.NewCompilationCache(), true
	}
	return e
}

// RuntimeConfig is the wazero configuration of a memory class. The
// registry's validator uses the same settings, so that code it compiles
// into a shared cache is reusable here.
func RuntimeConfig(cache wazero.CompilationCache, memoryMB int) wazero.RuntimeConfig {
	cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(true)
	if cache != nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	if memoryMB > 0 {
		cfg = cfg.WithMemoryLimitPages(uint32(memoryMB) * 16) // 64 KiB pages
	}
	return cfg
}

// Result is what one call produced.
type Result struct {
	Response *CGIResponse // the output, read as CGI; nil on error
	Stderr   string       // log tail, at most StderrTailLimit bytes
	Cold     bool         // the module had to be loaded or an instance started
	Init     time.Duration
	Run      time.Duration
	Err      *wire.Error
}

// call is one invocation on its way through the engine.
type call struct {
	ctx         context.Context // carries the deadline
	req         *wire.Request
	body        []byte
	timeout     time.Duration
	outputLimit int
	compiled    wazero.CompiledModule
	rt          wazero.Runtime
	cold        bool
	init        time.Duration
}

func (c *call) meta() []byte { return reactorMeta(c.req) }

func (c *call) poolKey() poolKey {
	return poolKey{namespace: c.req.Namespace, function: c.req.Function, version: c.req.Version}
}

// Run runs one invocation with the limits of its request: memory class,
// timeout, output limit and the function's concurrency cap.
func (e *Engine) Run(ctx context.Context, req *wire.Request, body []byte, outputLimit int) Result {
	memoryMB := req.MemoryMB
	if memoryMB <= 0 {
		memoryMB = DefaultMemoryMB
	}
	timeout := time.Duration(req.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timeout = min(timeout, MaxTimeout)
	c := &call{req: req, body: body, timeout: timeout, outputLimit: outputLimit}

	if !e.acquire(c.poolKey(), req.Concurrency) {
		return Result{Err: &wire.Error{Code: wire.CodeConcurrencyLimit,
			Message: fmt.Sprintf("the function already runs %d calls on this runner, its concurrency limit", req.Concurrency)}}
	}
	defer e.release(c.poolKey())

	start := time.Now()
	entry, cold, err := e.compiled(ctx, req.Digest, memoryMB)
	c.cold = cold
	if cold {
		c.init = time.Since(start)
	}
	if err != nil {
		return Result{Cold: cold, Init: c.init, Err: &wire.Error{Code: wire.CodeModuleUnavailable, Message: err.Error()}}
	}
	c.compiled, c.rt = entry.compiled, entry.rt

	var cancel context.CancelFunc
	c.ctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	if req.ABI == wire.ABIReactor {
		return e.runReactor(c)
	}
	return e.runCommand(c, cancel)
}

// acquire counts a call against the function's concurrency cap (0 = none).
func (e *Engine) acquire(k poolKey, limit int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if limit > 0 && e.inflight[k] >= limit {
		return false
	}
	e.inflight[k]++
	return true
}

func (e *Engine) release(k poolKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight[k]--; e.inflight[k] <= 0 {
		delete(e.inflight, k)
	}
}

// runtimeLocked returns the runtime of a memory class, creating it on first
// use. Callers hold e.mu.
func (e *Engine) runtimeLocked(ctx context.Context, memoryMB int) wazero.Runtime {
	if rt, ok := e.runtimes[memoryMB]; ok {
		return rt
	}
	rt := wazero.NewRuntimeWithConfig(ctx, RuntimeConfig(e.cache, memoryMB))
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	e.runtimes[memoryMB] = rt
	return rt
}

// compiled returns the compiled module for digest in memory class memoryMB,
// fetching and compiling it on first use. cold reports whether this call did
// that work; concurrent callers for the same module wait for one compile.
func (e *Engine) compiled(ctx context.Context, digest string, memoryMB int) (entry *moduleEntry, cold bool, err error) {
	key := moduleKey{digest, memoryMB}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, false, fmt.Errorf("runner: engine closed")
	}
	rt := e.runtimeLocked(ctx, memoryMB)
	entry, ok := e.modules[key]
	if !ok {
		entry = &moduleEntry{ready: make(chan struct{}), rt: rt}
		e.modules[key] = entry
	}
	e.mu.Unlock()

	if ok {
		select {
		case <-entry.ready:
			return entry, false, entry.err
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}

	entry.compiled, entry.err = e.load(ctx, rt, digest)
	if entry.err != nil {
		e.mu.Lock()
		delete(e.modules, key) // let the next call try again
		e.mu.Unlock()
	}
	close(entry.ready)
	return entry, true, entry.err
}

func (e *Engine) load(ctx context.Context, rt wazero.Runtime, digest string) (wazero.CompiledModule, error) {
	// Fetch and compile detached from the caller's deadline: the result is
	// shared with every later call, so one short timeout must not spoil it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	wasm, err := e.source.Module(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("fetch module %s: %w", digest, err)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != digest {
		return nil, fmt.Errorf("module %s: stored bytes have digest %s", digest, got)
	}
	compile := func() (wazero.CompiledModule, error) { return rt.CompileModule(ctx, wasm) }
	var compiled wazero.CompiledModule
	if e.shared != nil {
		compiled, err = e.shared.compile(ctx, digest, compile)
	} else {
		compiled, err = compile()
	}
	if err != nil {
		return nil, fmt.Errorf("compile module %s: %w", digest, err)
	}
	return compiled, nil
}

// pool returns the instance pool of the call's function version.
func (e *Engine) pool(c *call) *pool {
	k := c.poolKey()
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.pools[k]
	if !ok {
		p = &pool{key: k, digest: c.req.Digest, memoryMB: c.req.MemoryMB}
		e.pools[k] = p
	}
	return p
}

// Prewarm makes sure the function version of req has its module compiled
// and, for a reactor, at least n idle instances. It returns how many
// instances it started. The autoscaler drives it.
func (e *Engine) Prewarm(ctx context.Context, req *wire.Request, n int) (int, error) {
	memoryMB := req.MemoryMB
	if memoryMB <= 0 {
		memoryMB = DefaultMemoryMB
	}
	entry, _, err := e.compiled(ctx, req.Digest, memoryMB)
	if err != nil {
		return 0, err
	}
	if req.ABI != wire.ABIReactor {
		return 0, nil
	}
	c := &call{req: req, compiled: entry.compiled, rt: entry.rt}
	p := e.pool(c)
	idle, _, _ := p.counts()
	started := 0
	for ; idle+started < n; started++ {
		inst, err := newInstance(ctx, entry.rt, entry.compiled, req.Env, req.Function)
		if err != nil {
			return started, fmt.Errorf("prewarm %s: %w", req.Function, err)
		}
		p.addIdle(inst)
	}
	return started, nil
}

// RetireIdle closes idle instances not used for idleFor, keeping keep idle
// instances per function version; it returns how many it closed.
func (e *Engine) RetireIdle(idleFor time.Duration, keep int) int {
	cutoff := time.Now().Add(-idleFor)
	closed := 0
	for _, p := range e.poolList() {
		closed += p.retire(cutoff, keep)
	}
	return closed
}

func (e *Engine) poolList() []*pool {
	e.mu.Lock()
	defer e.mu.Unlock()
	pools := make([]*pool, 0, len(e.pools))
	for _, p := range e.pools {
		pools = append(pools, p)
	}
	return pools
}

// Warm reports the compiled modules with their instance counts, and the
// linear memory held by idle instances.
func (e *Engine) Warm() ([]wire.WarmModule, uint64) {
	e.mu.Lock()
	byKey := make(map[moduleKey]*wire.WarmModule)
	for k, entry := range e.modules {
		select {
		case <-entry.ready:
			if entry.err == nil {
				byKey[k] = &wire.WarmModule{Digest: k.digest, MemoryMB: k.memoryMB}
			}
		default:
		}
	}
	e.mu.Unlock()
	var memory uint64
	for _, p := range e.poolList() {
		idle, busy, mem := p.counts()
		memory += mem
		mb := p.memoryMB
		if mb <= 0 {
			mb = DefaultMemoryMB
		}
		if w, ok := byKey[moduleKey{p.digest, mb}]; ok {
			w.Idle += idle
			w.Busy += busy
		}
	}
	warm := make([]wire.WarmModule, 0, len(byKey))
	for _, w := range byKey {
		warm = append(warm, *w)
	}
	sort.Slice(warm, func(i, j int) bool { return warm[i].Digest < warm[j].Digest })
	return warm, memory
}

// Close releases every instance, runtime and compiled module.
func (e *Engine) Close(ctx context.Context) error {
	for _, p := range e.poolList() {
		p.closeAll(ctx)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, rt := range e.runtimes {
		_ = rt.Close(ctx)
	}
	e.runtimes = nil
	e.modules = nil
	if e.ownsCache {
		return e.cache.Close(ctx)
	}
	return nil
}

// ObjectGetter reads objects by key; *objstore.Store is one.
type ObjectGetter interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// StoreSource serves modules from an object store, where the registry
// keeps them under objstore.ModuleKey(digest).
func StoreSource(store ObjectGetter) ModuleSource { return storeSource{store} }

type storeSource struct{ store ObjectGetter }

func (s storeSource) Module(ctx context.Context, digest string) ([]byte, error) {
	return s.store.Get(ctx, objstore.ModuleKey(digest))
}

// inFlight is the number of calls of a function version running now.
func (e *Engine) inFlight(k poolKey) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inflight[k]
}

// Retire closes idle instances of one function version, keeping keep of
// them; it returns how many it closed.
func (e *Engine) Retire(k poolKey, keep int) int {
	e.mu.Lock()
	p, ok := e.pools[k]
	e.mu.Unlock()
	if !ok {
		return 0
	}
	return p.retire(time.Now().Add(time.Hour), keep) // every idle instance is "old enough"
}
