package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/objstore"
)

// SharedStore is where runners share compiled code: an object store, one
// object per module under SharedCacheKey.
type SharedStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	// Open streams an object; a missing one is objstore.ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Put(ctx context.Context, key string, data []byte, contentType string) error
}

// sharedCache makes a module compiled once per cluster (per wazero version
// and platform): the first runner to compile a module uploads the files
// wazero wrote into its on-disk compilation cache, as one tar archive
// compressed with S2 (a quarter of the size; decompressing costs less than
// the bytes saved, even on loopback); the next runner streams them into its own cache before
// compiling, and wazero then loads the compiled code instead of compiling.
//
// wazero does not say which cache file belongs to which module, so a
// compile that has to upload runs alone (mu) and the new files in the
// cache directory, other than those fetched meanwhile, are the module's.
type sharedCache struct {
	store SharedStore
	dir   string
	log   *slog.Logger

	mu        sync.Mutex
	fetchedMu sync.Mutex
	fetched   map[string]bool // cache files written by fetch, never shared again

	downloads atomic.Int64 // modules whose compiled code came from the store
	uploads   atomic.Int64 // modules whose compiled code this runner shared
}

func newSharedCache(store SharedStore, dir string, log *slog.Logger) *sharedCache {
	return &sharedCache{store: store, dir: dir, log: log, fetched: make(map[string]bool)}
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

// SharedCacheKey is where the compiled code of a module is shared: a tar
// archive of its compilation cache files, in the S2 stream format, under
// compiled/<wazero version>/<platform>/<digest>/ (the registry's collector
// deletes that folder with the module).
func SharedCacheKey(digest string) string {
	return fmt.Sprintf("compiled/wazero-%s/%s-%s/%s/code.tar.s2", wazeroVersion, runtime.GOOS, runtime.GOARCH, digest)
}

// fetch streams the module's shared compiled code, if any, into the cache
// directory, and reports whether it is there now.
func (s *sharedCache) fetch(ctx context.Context, digest string) bool {
	r, err := s.store.Open(ctx, SharedCacheKey(digest))
	if errors.Is(err, objstore.ErrNotFound) {
		return false
	}
	if err != nil {
		s.log.Warn("shared compilation cache unavailable", "error", err)
		return false
	}
	defer r.Close()
	written, err := s.unpack(r)
	if err != nil {
		s.log.Warn("could not fetch shared compiled code; compiling", "digest", digest, "error", err)
		return false
	}
	if written > 0 {
		s.downloads.Add(1)
	}
	return true
}

// unpack writes the files of a shared archive that the cache directory does
// not have yet; it returns how many it wrote.
func (s *sharedCache) unpack(r io.Reader) (int, error) {
	tr := tar.NewReader(s2.NewReader(r))
	written := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return written, nil
		}
		if err != nil {
			return written, err
		}
		rel := filepath.FromSlash(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(rel) || strings.HasSuffix(rel, ".tmp") {
			continue
		}
		local := filepath.Join(s.dir, rel)
		if _, err := os.Stat(local); err == nil {
			continue
		}
		s.fetchedMu.Lock()
		s.fetched[rel] = true
		s.fetchedMu.Unlock()
		if err := writeFileAtomic(local, tr); err != nil {
			return written, err
		}
		written++
	}
}

// compileAndShare runs compile, then shares the files it added to the
// cache directory.
func (s *sharedCache) compileAndShare(ctx context.Context, digest string, compile func() (wazero.CompiledModule, error)) (wazero.CompiledModule, error) {
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
	var added []string
	s.fetchedMu.Lock()
	for rel := range after {
		if !before[rel] && !s.fetched[rel] {
			added = append(added, rel)
		}
	}
	s.fetchedMu.Unlock()
	if len(added) == 0 {
		return mod, nil
	}
	sort.Strings(added)
	data, err := s.pack(added)
	if err == nil {
		err = s.store.Put(ctx, SharedCacheKey(digest), data, "application/x-s2")
	}
	if err != nil {
		s.log.Warn("could not share compiled code", "digest", digest, "error", err)
		return mod, nil
	}
	s.uploads.Add(1)
	return mod, nil
}

// pack makes the shared archive of cache files (relative paths).
func (s *sharedCache) pack(files []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf, s2.WriterConcurrency(1))
	tw := tar.NewWriter(zw)
	for _, rel := range files {
		if err := addFile(tw, s.dir, rel); err != nil {
			zw.Close()
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addFile(tw *tar.Writer, dir, rel string) error {
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: info.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
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

// writeFileAtomic writes what r yields to path, which appears complete or
// not at all.
func writeFileAtomic(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
