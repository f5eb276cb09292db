package runner

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
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
//
// With tiered start (the default), a module that has to be compiled is
// also compiled for wazero's interpreter, which takes about a tenth of the
// time: calls run on the interpreter until the optimizing compiler, working
// in the background, is done; then new instances use the compiled code.
// Whichever is ready first serves the first call, so a module whose
// compiled code is already in the compilation cache skips the interpreter.
type Engine struct {
	source    ModuleSource
	cache     wazero.CompilationCache
	ownsCache bool
	shared    *sharedCache // compiled code shared through S3; nil = off
	tiered    bool         // start cold modules on the interpreter
	memories  memoryPool   // linear memories of command instances, recycled
	log       *slog.Logger
	// testHookOptimize, when set, runs before a tiered start's optimizing
	// compile: tests hold the compiled tier back with it, or make the
	// compile fail by returning an error.
	testHookOptimize func(ctx context.Context) error

	// Compiles that outlive the call that started them; Close stops them.
	background     sync.WaitGroup
	backgroundCtx  context.Context
	stopBackground context.CancelFunc

	mu       sync.Mutex
	runtimes map[runtimeKey]wazero.Runtime
	modules  map[moduleKey]*moduleEntry // compiled modules
	pools    map[poolKey]*pool          // reactor instances
	inflight map[poolKey]int            // calls running, for the concurrency cap
	closed   bool
}

type moduleKey struct {
	digest   string
	memoryMB int
}

// runtimeKey names a runtime: a memory class, compiled or interpreted.
type runtimeKey struct {
	memoryMB    int
	interpreted bool
}

// moduleEntry is a loaded module, or the promise of one while the first
// caller fetches and compiles it.
type moduleEntry struct {
	ready     chan struct{} // closed once the module can run, or err is set
	err       error
	optimized chan struct{} // closed once the compiled tier is in place or could not be made

	mu   sync.Mutex
	tier *moduleTier // what new instances are made from
}

// moduleTier is one executable form of a module: compiled by the optimizing
// compiler, or for the interpreter.
type moduleTier struct {
	compiled    wazero.CompiledModule
	rt          wazero.Runtime
	interpreted bool
	users       int  // calls holding it (guarded by the entry's mu)
	retired     bool // replaced: closed once the last user is done
}

// acquire returns the current tier, held until release: a retired tier's
// compiled module stays open while a call may still instantiate it.
func (m *moduleEntry) acquire() *moduleTier {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tier.users++
	return m.tier
}

func (m *moduleEntry) release(t *moduleTier) {
	m.mu.Lock()
	t.users--
	done := t.retired && t.users == 0
	m.mu.Unlock()
	if done {
		_ = t.compiled.Close(context.Background())
	}
}

// interpreted reports whether new instances still use the interpreter.
func (m *moduleEntry) interpreted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tier != nil && m.tier.interpreted
}

// promote makes t the tier of new instances, retiring the previous one.
func (m *moduleEntry) promote(t *moduleTier) {
	m.mu.Lock()
	old := m.tier
	m.tier = t
	done := false
	if old != nil {
		old.retired = true
		done = old.users == 0
	}
	m.mu.Unlock()
	if done {
		_ = old.compiled.Close(context.Background())
	}
}

// NewEngine makes an engine that fetches modules from source and keeps
// compiled code in cache; a nil cache means a private in-memory one.
// Tiered start is on.
func NewEngine(source ModuleSource, cache wazero.CompilationCache) *Engine {
	e := &Engine{
		source:   source,
		cache:    cache,
		tiered:   true,
		log:      slog.Default(),
		runtimes: make(map[runtimeKey]wazero.Runtime),
		modules:  make(map[moduleKey]*moduleEntry),
		pools:    make(map[poolKey]*pool),
		inflight: make(map[poolKey]int),
	}
	e.backgroundCtx, e.stopBackground = context.WithCancel(context.Background())
	if cache == nil {
		e.cache, e.ownsCache = wazero.NewCompilationCache(), true
	}
	return e
}

// SetTieredStart turns tiered start on or off (see Engine); call it before
// the first Run. Off, a cold call waits for the optimizing compiler.
func (e *Engine) SetTieredStart(on bool) { e.tiered = on }

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

// interpreterConfig is the configuration of a memory class's interpreter
// runtime: the same limits as RuntimeConfig, wazero's interpreter instead
// of its compiler. The interpreter stops a guest at its deadline too
// (WithCloseOnContextDone adds the checks to its loops and calls).
func interpreterConfig(memoryMB int) wazero.RuntimeConfig {
	cfg := wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true)
	if memoryMB > 0 {
		cfg = cfg.WithMemoryLimitPages(uint32(memoryMB) * 16)
	}
	return cfg
}

// Result is what one call produced.
type Result struct {
	Response *CGIResponse // the output, read as CGI; nil on error
	Stderr   string       // log tail, at most limits.StderrTailBytes
	Cold     bool         // the module had to be loaded or an instance started
	// Interpreted: the call ran on wazero's interpreter, the module's
	// compiled code not being ready yet (tiered start).
	Interpreted bool
	Init        time.Duration
	Run         time.Duration
	Err         *wire.Error
}

// call is one invocation on its way through the engine.
type call struct {
	ctx         context.Context // carries the deadline
	req         *wire.Request
	body        []byte
	timeout     time.Duration
	outputLimit int
	entry       *moduleEntry
	tier        *moduleTier // held for the call
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
		memoryMB = limits.DefaultMemoryMB
	}
	timeout := time.Duration(req.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = limits.DefaultTimeout
	}
	timeout = min(timeout, limits.MaxTimeout)
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
	c.entry = entry
	tier := entry.acquire()
	if tier.interpreted {
		return e.runTiered(ctx, c, tier)
	}
	defer entry.release(tier)
	return e.attempt(ctx, *c, tier)
}

// runTiered runs a call that starts on the interpreter tier. If the
// compiled tier becomes ready while it runs, the call starts on compiled
// code too, with its full timeout there, and the first success answers; a
// call that failed on the interpreter runs again on compiled code. So a
// failure is always compiled code's (the interpreter is slower, so a call
// may run out of time there, and its stack limit differs), and no call
// takes longer than without tiered start: the compile, then the run.
// Running a call twice is safe: a guest has no effect outside its own
// output (WASI without files or sockets), and the loser's is discarded.
func (e *Engine) runTiered(ctx context.Context, c *call, tier *moduleTier) Result {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the attempt that lost
	defer context.AfterFunc(e.backgroundCtx, cancel)()
	closed := Result{Cold: c.cold, Init: c.init, Err: &wire.Error{Code: wire.CodeModuleUnavailable, Message: errEngineClosed.Error()}}

	interpreted := e.goAttempt(ctx, *c, tier)
	if interpreted == nil {
		return closed
	}
	var failed Result
	select {
	case res := <-interpreted:
		if res.Err == nil || !res.Interpreted {
			return res
		}
		failed, interpreted = res, nil
		select {
		case <-c.entry.optimized:
		case <-ctx.Done():
			return failed
		}
	case <-c.entry.optimized:
	}
	compiledTier := c.entry.acquire()
	if compiledTier.interpreted { // the compile failed: the interpreter answers
		c.entry.release(compiledTier)
		if interpreted != nil {
			return <-interpreted
		}
		return failed
	}
	again := *c
	again.cold, again.init = true, c.init+time.Since(start)
	compiled := e.goAttempt(ctx, again, compiledTier)
	if compiled == nil {
		return closed
	}
	if interpreted != nil {
		select {
		case res := <-interpreted:
			if res.Err == nil {
				return res
			}
		case res := <-compiled:
			return res
		}
	}
	return <-compiled
}

// attempt runs the call once on tier, under the call's timeout.
func (e *Engine) attempt(ctx context.Context, c call, tier *moduleTier) Result {
	c.tier = tier
	var cancel context.CancelFunc
	c.ctx, cancel = context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.req.ABI == abi.Reactor {
		return e.runReactor(&c)
	}
	return e.runCommand(&c, cancel)
}

// goAttempt runs an attempt in a goroutine that Close waits for, and
// releases tier after it; nil when the engine is closed.
func (e *Engine) goAttempt(ctx context.Context, c call, tier *moduleTier) <-chan Result {
	out := make(chan Result, 1)
	if !e.goBackground(func(context.Context) {
		defer c.entry.release(tier)
		out <- e.attempt(ctx, c, tier)
	}) {
		c.entry.release(tier)
		return nil
	}
	return out
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

// runtime returns the compiled or interpreted runtime of a memory class,
// creating it on first use.
func (e *Engine) runtime(ctx context.Context, k runtimeKey) (wazero.Runtime, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errEngineClosed
	}
	if rt, ok := e.runtimes[k]; ok {
		return rt, nil
	}
	cfg := RuntimeConfig(e.cache, k.memoryMB)
	if k.interpreted {
		cfg = interpreterConfig(k.memoryMB)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	e.runtimes[k] = rt
	return rt, nil
}

var errEngineClosed = errors.New("runner: engine closed")

// goBackground runs f in a goroutine that Close waits for, unless the
// engine is closed.
func (e *Engine) goBackground(f func(ctx context.Context)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		f(e.backgroundCtx)
	}()
	return true
}

// compiled returns the loaded module for digest in memory class memoryMB,
// fetching and compiling it on first use. cold reports whether this call did
// that work; concurrent callers for the same module wait for one load.
func (e *Engine) compiled(ctx context.Context, digest string, memoryMB int) (entry *moduleEntry, cold bool, err error) {
	key := moduleKey{digest, memoryMB}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, false, errEngineClosed
	}
	entry, ok := e.modules[key]
	if !ok {
		entry = &moduleEntry{ready: make(chan struct{}), optimized: make(chan struct{})}
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

	entry.err = e.load(ctx, entry, digest, memoryMB)
	if entry.err != nil {
		e.mu.Lock()
		delete(e.modules, key) // let the next call try again
		e.mu.Unlock()
		close(entry.optimized)
	}
	close(entry.ready)
	return entry, true, entry.err
}

type compileResult struct {
	compiled wazero.CompiledModule
	err      error
}

// load fetches a module and gives entry its first tier: the compiled code
// when it is in the shared cache (or tiered start is off), else whichever
// of the compiled and the interpreted code is ready first; the compiled
// tier then replaces an interpreted one from the background.
func (e *Engine) load(ctx context.Context, entry *moduleEntry, digest string, memoryMB int) error {
	// Fetch and compile detached from the caller's deadline: the result is
	// shared with every later call, so one short timeout must not spoil it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	rt, err := e.runtime(ctx, runtimeKey{memoryMB: memoryMB})
	if err != nil {
		return err
	}
	// Shared compiled code downloads while the module does, and goes on
	// downloading while wazero validates the module (sharedCache.fetch).
	type sharedFetch struct {
		wait func() bool
		ok   bool
	}
	fetched := make(chan sharedFetch, 1)
	if e.shared != nil {
		go func() {
			wait, ok := e.shared.fetch(ctx, digest)
			fetched <- sharedFetch{wait, ok}
		}()
	} else {
		fetched <- sharedFetch{}
	}
	wasm, err := e.fetch(ctx, digest)
	shared := <-fetched
	hit := shared.ok
	if hit {
		defer shared.wait() // on every path; wait is idempotent
	}
	if err != nil {
		return err
	}
	compile := func(ctx context.Context) (wazero.CompiledModule, error) {
		build := func() (wazero.CompiledModule, error) { return rt.CompileModule(ctx, wasm) }
		if e.shared == nil {
			return build()
		}
		if hit {
			compiled, err := build()
			if shared.wait() || err == nil {
				return compiled, err
			}
			// The download failed while wazero read it: compile, and
			// share the result in place of what could not be read.
		}
		return e.shared.compileAndShare(ctx, digest, build)
	}
	if !e.tiered || hit {
		compiled, err := compile(ctx)
		if err != nil {
			return fmt.Errorf("compile module %s: %w", digest, err)
		}
		entry.promote(&moduleTier{compiled: compiled, rt: rt})
		close(entry.optimized)
		return nil
	}

	irt, err := e.runtime(ctx, runtimeKey{memoryMB: memoryMB, interpreted: true})
	if err != nil {
		return err
	}
	optimized := make(chan compileResult, 1)
	interpreted := make(chan compileResult) // unbuffered: see below
	lost := make(chan struct{})             // the interpreted code is not wanted
	defer close(lost)
	started := e.goBackground(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if e.testHookOptimize != nil {
			if err := e.testHookOptimize(ctx); err != nil {
				optimized <- compileResult{err: err}
				return
			}
		}
		// Two workers: the compile ends sooner, and only a parallel
		// compile stops when its context is canceled (Close).
		compiled, err := compile(experimental.WithCompilationWorkers(ctx, 2))
		optimized <- compileResult{compiled, err}
	}) && e.goBackground(func(ctx context.Context) {
		compiled, err := irt.CompileModule(ctx, wasm)
		select {
		case interpreted <- compileResult{compiled, err}:
		case <-lost: // the compiled code was ready first
			if err == nil {
				_ = compiled.Close(context.Background())
			}
		}
	})
	if !started { // closing: a background compile may have started; it ends soon
		return errEngineClosed
	}

	// The first of the two to succeed serves; a compile error counts only
	// when both fail (the compiler's says why). A compiled tier that fails
	// after the interpreter's is there leaves the module on the interpreter.
	var failed error
	for pending := 2; ; pending-- {
		if pending == 0 {
			return fmt.Errorf("compile module %s: %w", digest, failed)
		}
		select {
		case r := <-optimized:
			if r.err != nil {
				failed = r.err
				optimized = nil // received: nothing to wait for below
				continue
			}
			entry.promote(&moduleTier{compiled: r.compiled, rt: rt})
			close(entry.optimized)
			return nil
		case r := <-interpreted:
			if r.err != nil {
				if failed == nil {
					failed = r.err
				}
				interpreted = nil
				continue
			}
			entry.promote(&moduleTier{compiled: r.compiled, rt: irt, interpreted: true})
		}
		break
	}
	if optimized == nil { // the compile failed already
		e.log.Warn("compiling failed; the module stays on the interpreter", "digest", digest, "error", failed)
		close(entry.optimized)
		return nil
	}
	// Switch to the compiled code when it is ready. Started under the
	// background WaitGroup's rules: if the engine is closing, the compile
	// above was canceled, and the interpreted tier stays until the end.
	if !e.goBackground(func(ctx context.Context) {
		defer close(entry.optimized)
		r := <-optimized
		switch {
		case r.err == nil:
			entry.promote(&moduleTier{compiled: r.compiled, rt: rt})
			e.tierUpPools(ctx, entry, digest, memoryMB) // tierup.go
		case ctx.Err() == nil:
			e.log.Warn("compiling in the background failed; the module stays on the interpreter", "digest", digest, "error", r.err)
		}
	}) {
		close(entry.optimized)
	}
	return nil
}

// fetch returns the module's bytes, checked against its digest.
func (e *Engine) fetch(ctx context.Context, digest string) ([]byte, error) {
	wasm, err := e.source.Module(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("fetch module %s: %w", digest, err)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); got != digest {
		return nil, fmt.Errorf("module %s: stored bytes have digest %s", digest, got)
	}
	return wasm, nil
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
// instances it started. The autoscaler drives it. The instances get the
// env of the version's last call (which has the secrets the gateway
// grants it; a prewarm request does not), or req's before the first call.
func (e *Engine) Prewarm(ctx context.Context, req *wire.Request, n int) (int, error) {
	memoryMB := req.MemoryMB
	if memoryMB <= 0 {
		memoryMB = limits.DefaultMemoryMB
	}
	entry, _, err := e.compiled(ctx, req.Digest, memoryMB)
	if err != nil {
		return 0, err
	}
	// Warm instances are for the calls to come: made from compiled code.
	select {
	case <-entry.optimized:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if req.ABI != abi.Reactor {
		return 0, nil
	}
	tier := entry.acquire()
	defer entry.release(tier)
	p := e.pool(&call{req: req})
	env, gen := p.prewarmEnv(req.Env) // the env of the calls, secrets included
	// The instances already idle count as used now: a prewarm says they
	// are wanted, so IdleTTL runs from the last prewarm, not from their
	// last call (the autoscaler prewarms every minute a function is
	// forecast warm; without this, a runner retired them every IdleTTL
	// and the function went cold until the next minute's prewarm).
	idle := p.keepIdle(n)
	started := 0
	for ; idle+started < n; started++ {
		inst, err := newInstance(ctx, tier, env, gen, req.Function)
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
			mb = limits.DefaultMemoryMB
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

// Close stops background compiles and releases every instance, runtime
// and compiled module.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stopBackground()
	e.background.Wait()
	for _, p := range e.poolList() {
		p.closeAll(ctx)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
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

// functionInstances are the instances of one function, all its versions.
type functionInstances struct {
	namespace, function string
	idle, busy          int
}

// instances reports the reactor instances of each function with a pool,
// sorted by namespace and function.
func (e *Engine) instances() []functionInstances {
	byFn := map[fnKey]*functionInstances{}
	for _, p := range e.poolList() {
		idle, busy, _ := p.counts()
		k := fnKey{p.key.namespace, p.key.function}
		fi := byFn[k]
		if fi == nil {
			fi = &functionInstances{namespace: k.namespace, function: k.function}
			byFn[k] = fi
		}
		fi.idle += idle
		fi.busy += busy
	}
	out := make([]functionInstances, 0, len(byFn))
	for _, fi := range byFn {
		out = append(out, *fi)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].namespace != out[j].namespace {
			return out[i].namespace < out[j].namespace
		}
		return out[i].function < out[j].function
	})
	return out
}
