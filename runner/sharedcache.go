package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
)

// SharedStore is where runners share compiled code: an object store,
// under compiled/wazero-<version>/<os>-<arch>/<module digest>/.
type SharedStore interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte, contentType string) error
}

// sharedCache makes a module compiled once per cluster (per wazero version
// and platform): the first runner to compile a module uploads the files
// wazero wrote into its on-disk compilation cache; the next runner downloads
// them into its own cache before compiling, and wazero then loads the
// compiled code instead of compiling.
//
// wazero does not say which cache file belongs to which module, so a
// compile that has to upload runs alone (mu) and the new files in the
// cache directory are the module's.
type sharedCache struct {
	store SharedStore
	dir   string
	log   *slog.Logger

	mu        sync.Mutex
	downloads atomic.Int64 // modules whose compiled code came from the store
	uploads   atomic.Int64 // modules whose compiled code this runner shared
}

func newSharedCache(store SharedStore, dir string, log *slog.Logger) *sharedCache {
	return &sharedCache{store: store, dir: dir, log: log}
}

// wazeroVersion is the version of wazero built into this binary; compiled
// code is only valid for the same version.
var wazeroVersion = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				return dep.Version
			}
		}
	}
	return "unknown"
}()

// SharedCachePrefix is where the compiled code of a module is shared.
func SharedCachePrefix(digest string) string {
	return fmt.Sprintf("compiled/wazero-%s/%s-%s/%s/", wazeroVersion, runtime.GOOS, runtime.GOARCH, digest)
}

// compile runs compile with the module's compiled code fetched from the
// store first, or shares what compile wrote afterwards.
func (s *sharedCache) compile(ctx context.Context, digest string, compile func() (wazero.CompiledModule, error)) (wazero.CompiledModule, error) {
	prefix := SharedCachePrefix(digest)
	keys, err := s.store.List(ctx, prefix)
	if err != nil {
		s.log.Warn("shared compilation cache unavailable", "error", err)
		return compile()
	}
	if len(keys) > 0 {
		if err := s.download(ctx, prefix, keys); err != nil {
			s.log.Warn("could not fetch shared compiled code; compiling", "digest", digest, "error", err)
		}
		return compile()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	before, err := cacheFiles(s.dir)
	if err != nil {
		return compile()
	}
	mod, err := compile()
	if err != nil {
		return nil, err
	}
	after, err := cacheFiles(s.dir)
	if err != nil {
		return mod, nil
	}
	shared := 0
	for rel := range after {
		if before[rel] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.dir, rel))
		if err == nil {
			err = s.store.Put(ctx, prefix+filepath.ToSlash(rel), data, "application/octet-stream")
		}
		if err != nil {
			s.log.Warn("could not share compiled code", "digest", digest, "error", err)
			return mod, nil
		}
		shared++
	}
	if shared > 0 {
		s.uploads.Add(1)
	}
	return mod, nil
}

// download writes the shared files into the local cache directory.
func (s *sharedCache) download(ctx context.Context, prefix string, keys []string) error {
	fetched := 0
	for _, key := range keys {
		rel := filepath.FromSlash(strings.TrimPrefix(key, prefix))
		if !filepath.IsLocal(rel) || strings.HasSuffix(rel, ".tmp") {
			continue
		}
		local := filepath.Join(s.dir, rel)
		if _, err := os.Stat(local); err == nil {
			continue
		}
		data, err := s.store.Get(ctx, key)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(local, data); err != nil {
			return err
		}
		fetched++
	}
	if fetched > 0 {
		s.downloads.Add(1)
	}
	return nil
}

// cacheFiles lists the finished files of a compilation cache directory.
func cacheFiles(dir string) (map[string]bool, error) {
	files := make(map[string]bool)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(path, ".tmp") {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			files[rel] = true
		}
		return nil
	})
	return files, err
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
