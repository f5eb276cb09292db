package runner

import (
	"fmt"
	"log/slog"

	"github.com/tetratelabs/wazero"
)

// NewEngineWithCacheDir makes a stand-alone engine like the one a runner
// with Config.CacheDir = dir uses: modules come from store, compiled code
// goes into an on-disk compilation cache in dir, which the engine owns and
// closes. With share, compiled code is also shared with other runners
// through store (fetched before compiling, uploaded after), as a runner
// does. `hearth bench` uses it to measure cold starts with and without the
// shared compiled cache.
func NewEngineWithCacheDir(store Store, dir string, share bool, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.Default()
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("runner: compilation cache in %s: %w", dir, err)
	}
	e := NewEngine(StoreSource(store), cache)
	e.ownsCache = true
	if share {
		e.shared = newSharedCache(store, dir, log)
	}
	return e, nil
}
