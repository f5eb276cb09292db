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

	fetchingMu sync.Mutex
	fetching   map[string]chan struct{} // modules being fetched; closed when done

	downloads atomic.Int64 // modules whose compiled code came from the store
	uploads   atomic.Int64 // modules whose compiled code this runner shared
}

func newSharedCache(store SharedStore, dir string, log *slog.Logger) *sharedCache {
	removePipes(dir, log)
	return &sharedCache{store: store, dir: dir, log: log, fetched: make(map[string]bool), fetching: make(map[string]chan struct{})}
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

// fetch starts bringing the module's shared compiled code, if the store
// has any, into the cache directory. When it has, ok is true: the caller
// compiles, which finds the code in the cache, then calls wait, which
// reports whether all of it arrived. The module's cache file may still be
// downloading when fetch returns: wazero reads it through a named pipe
// (pipeFile) while it downloads, and its validation of the module, which
// comes first, overlaps the download.
func (s *sharedCache) fetch(ctx context.Context, digest string) (wait func() bool, ok bool) {
	release := s.claim(digest)
	r, err := s.store.Open(ctx, SharedCacheKey(digest))
	if err != nil {
		release()
		if !errors.Is(err, objstore.ErrNotFound) {
			s.log.Warn("shared compilation cache unavailable", "error", err)
		}
		return nil, false
	}
	done := func(written int, err error) bool {
		r.Close()
		release()
		if err != nil {
			s.log.Warn("could not fetch shared compiled code; compiling", "digest", digest, "error", err)
			return false
		}
		if written > 0 {
			s.downloads.Add(1)
		}
		return true
	}
	tr := tar.NewReader(s2.NewReader(r))
	pipe, written, err := s.startPipe(tr)
	if err != nil {
		return nil, done(written, err)
	}
	if pipe == nil {
		n, err := s.unpack(tr)
		return func() bool { return true }, done(written+n, err)
	}
	result := make(chan bool, 1)
	go func() {
		err := pipe.download(tr)
		n := 0
		if err == nil {
			n, err = s.unpack(tr)
		}
		result <- done(1+n, err)
	}()
	return sync.OnceValue(func() bool {
		ok := <-result
		pipe.close()
		return ok
	}), true
}

// claim makes fetches of one module take turns, so that only one pipe at
// a time stands for its cache file; the next finds the file complete.
func (s *sharedCache) claim(digest string) (release func()) {
	s.fetchingMu.Lock()
	for {
		busy, ok := s.fetching[digest]
		if !ok {
			break
		}
		s.fetchingMu.Unlock()
		<-busy
		s.fetchingMu.Lock()
	}
	busy := make(chan struct{})
	s.fetching[digest] = busy
	s.fetchingMu.Unlock()
	return func() {
		s.fetchingMu.Lock()
		delete(s.fetching, digest)
		s.fetchingMu.Unlock()
		close(busy)
	}
}

// startPipe reads the archive's first entry and, if its file is new here
// and pipes are available, puts a pipeFile at its path; the caller then
// downloads the entry into it. Otherwise pipe is nil and the entry, if
// new, is written (written is 1).
func (s *sharedCache) startPipe(tr *tar.Reader) (pipe *pipeFile, written int, err error) {
	hdr, local, err := s.next(tr)
	if err != nil || local == "" {
		return nil, 0, err
	}
	if hdr.Size <= 1<<30 {
		pipe, err = newPipeFile(local, hdr.Size)
		if err == nil {
			return pipe, 0, nil
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			s.log.Debug("no pipe for the shared compiled code; writing it first", "error", err)
		}
	}
	if err := writeFileAtomic(local, tr); err != nil {
		return nil, 0, err
	}
	return nil, 1, nil
}

// unpack writes the files of a shared archive that the cache directory does
// not have yet; it returns how many it wrote.
func (s *sharedCache) unpack(tr *tar.Reader) (int, error) {
	written := 0
	for {
		_, local, err := s.next(tr)
		if errors.Is(err, io.EOF) {
			return written, nil
		}
		if err != nil {
			return written, err
		}
		if local == "" {
			continue
		}
		if err := writeFileAtomic(local, tr); err != nil {
			return written, err
		}
		written++
	}
}

// next reads the header of the archive's next entry. local is where its
// file goes, "" when the entry is not a cache file or the cache has its
// file already (a named pipe left by a runner that stopped mid-download is
// removed). Files written here are marked fetched, never shared again.
func (s *sharedCache) next(tr *tar.Reader) (hdr *tar.Header, local string, err error) {
	hdr, err = tr.Next()
	if err != nil {
		return nil, "", err
	}
	rel := filepath.FromSlash(hdr.Name)
	if hdr.Typeflag != tar.TypeReg || !filepath.IsLocal(rel) || strings.HasSuffix(rel, ".tmp") {
		return hdr, "", nil
	}
	local = filepath.Join(s.dir, rel)
	if info, err := os.Lstat(local); err == nil {
		if info.Mode()&os.ModeNamedPipe == 0 {
			return hdr, "", nil
		}
		if err := os.Remove(local); err != nil {
			return hdr, "", err
		}
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return hdr, "", err
	}
	s.fetchedMu.Lock()
	s.fetched[rel] = true
	s.fetchedMu.Unlock()
	return hdr, local, nil
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

// removePipes removes the named pipes a runner that stopped mid-download
// left in the cache directory: wazero would wait on them for ever.
func removePipes(dir string, log *slog.Logger) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeNamedPipe != 0 {
			if err := os.Remove(path); err != nil {
				log.Warn("could not remove a stale pipe from the compilation cache", "path", path, "error", err)
			}
		}
		return nil
	})
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
