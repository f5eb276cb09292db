package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/objstore"
)

// ModuleSource fetches module bytes by their sha256 hex digest.
type ModuleSource interface {
	Module(ctx context.Context, digest string) ([]byte, error)
}

// Engine compiles and runs modules with wazero. It keeps one wazero runtime
// per memory class (the memory limit is fixed when a module is compiled) and
// the compiled modules of each, fetched and compiled once per runner; the
// compilation cache on disk makes a restart cheap.
type Engine struct {
	source    ModuleSource
	cache     wazero.CompilationCache
	ownsCache bool

	mu       sync.Mutex
	runtimes map[int]wazero.Runtime     // by memory MB
	modules  map[moduleKey]*moduleEntry // compiled modules
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

// runtime returns the runtime of a memory class, creating it on first use.
// Callers hold e.mu.
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
func (e *Engine) compiled(ctx context.Context, digest string, memoryMB int) (mod wazero.CompiledModule, rt wazero.Runtime, cold bool, err error) {
	key := moduleKey{digest, memoryMB}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, false, fmt.Errorf("runner: engine closed")
	}
	rt = e.runtimeLocked(ctx, memoryMB)
	entry, ok := e.modules[key]
	if !ok {
		entry = &moduleEntry{ready: make(chan struct{})}
		e.modules[key] = entry
	}
	e.mu.Unlock()

	if ok {
		select {
		case <-entry.ready:
			return entry.compiled, rt, false, entry.err
		case <-ctx.Done():
			return nil, nil, false, ctx.Err()
		}
	}

	entry.compiled, entry.err = e.load(ctx, rt, digest)
	if entry.err != nil {
		e.mu.Lock()
		delete(e.modules, key) // let the next call try again
		e.mu.Unlock()
	}
	close(entry.ready)
	return entry.compiled, rt, true, entry.err
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
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile module %s: %w", digest, err)
	}
	return compiled, nil
}

// Close releases every runtime and compiled module.
func (e *Engine) Close(ctx context.Context) error {
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
