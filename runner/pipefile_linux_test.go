package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hearthfn/hearth/internal/abi"
)

// pipeTestData is larger than the pipe's buffer, so feed waits on the
// reader.
func pipeTestData() []byte {
	data := make([]byte, 3<<20)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(data)
	return data
}

// within fails the test if f does not return in time, instead of hanging.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

// openPipe puts a pipeFile for size bytes in a temporary directory and
// opens it for reading, as wazero does.
func openPipe(t *testing.T, size int) (string, *pipeFile, *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "code")
	p, err := newPipeFile(path, int64(size))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return path, p, f
}

func wantRegular(t *testing.T, path string, data []byte) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() {
		t.Fatalf("%s: %v %v; want the complete file", path, info, err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatalf("%s holds %d bytes, not the %d downloaded", path, len(got), len(data))
	}
}

// A reader that opens the file while it downloads reads every byte
// through the pipe; afterwards the complete file stands in its place.
func TestPipeFileReadWhileDownloading(t *testing.T) {
	data := pipeTestData()
	path, p, f := openPipe(t, len(data)) // the download has not started
	read := make(chan []byte, 1)
	go func() {
		got := make([]byte, len(data))
		n, _ := io.ReadFull(iotest.OneByteReader(io.LimitReader(f, 8)), got[:8]) // as wazero reads its header
		m, _ := io.ReadFull(f, got[n:])
		read <- got[:n+m]
	}()
	within(t, "download", func() {
		if err := p.download(iotest.HalfReader(bytes.NewReader(data))); err != nil {
			t.Error(err)
		}
	})
	var got []byte
	within(t, "the reader", func() { got = <-read })
	within(t, "close", p.close)
	if !bytes.Equal(got, data) {
		t.Fatalf("the reader got %d bytes, not the %d downloaded", len(got), len(data))
	}
	wantRegular(t, path, data)
}

// A reader that comes after the download opens the complete file, and
// close stops the feed that waited on the pipe with nobody reading.
func TestPipeFileReadAfterDownload(t *testing.T) {
	data := pipeTestData()
	path := filepath.Join(t.TempDir(), "code")
	p, err := newPipeFile(path, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.download(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	wantRegular(t, path, data)
	within(t, "close", p.close)
}

// When the download fails, a reader gets the end of the file early, and
// the pipe is gone, so that the next reader finds no file.
func TestPipeFileDownloadFails(t *testing.T) {
	data := pipeTestData()
	path, p, f := openPipe(t, len(data))
	broken := errors.New("connection reset")
	if err := p.download(io.MultiReader(bytes.NewReader(data[:1<<20]), iotest.ErrReader(broken))); !errors.Is(err, broken) {
		t.Fatalf("download: %v, want %v", err, broken)
	}
	var got []byte
	var err error
	within(t, "the reader", func() { got, err = io.ReadAll(f) })
	if err != nil || !bytes.Equal(got, data[:len(got)]) || len(got) >= len(data) {
		t.Fatalf("the reader got %d bytes, %v; want a prefix, then the end", len(got), err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after a failed download: %v; want no file", err)
	}
	within(t, "close", p.close)
}

// A reader that wants more bytes than the file has (a corrupt entry) gets
// the end of the file once the pipe has lingered, instead of waiting for
// ever: the caller closes the pipe only after the read.
func TestPipeFileShortReadEnds(t *testing.T) {
	defer func(d time.Duration) { pipeLinger = d }(pipeLinger)
	pipeLinger = 50 * time.Millisecond
	data := []byte("a cache file shorter than its header says")
	_, p, f := openPipe(t, len(data))
	if err := p.download(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var n int
	var err error
	within(t, "a read past the end", func() { n, err = io.ReadFull(f, make([]byte, 2*len(data))) })
	if n != len(data) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read %d bytes, %v; want %d, then the end", n, err, len(data))
	}
	within(t, "close", p.close)
}

// A pipe left by a runner that stopped mid-download is removed when the
// next one starts: wazero would wait on it for ever.
func TestSharedCacheRemovesStalePipes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wazero-v0-amd64-linux", "code")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := makePipe(path)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	newSharedCache(newStore(t), dir, quietLog())
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale pipe: %v; want it removed", err)
	}
}

// A shared archive cut short costs a compile, not the call, whether wazero
// was reading the pipe when the download broke or opened the path after.
func TestSharedCompiledCacheTruncated(t *testing.T) {
	store := newStore(t)
	f := fn{name: "echo", digest: upload(t, store, example("echo")), abi: abi.Command}
	first := newSharingEngine(t, store)
	wantOK(t, run(first, f, "x"), "x")
	waitCompiled(t, first, f)
	ctx := context.Background()
	archive, err := store.Get(ctx, SharedCacheKey(f.digest))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, SharedCacheKey(f.digest), archive[:len(archive)/2], "application/x-s2"); err != nil {
		t.Fatal(err)
	}
	next := newSharingEngine(t, store)
	wantOK(t, run(next, f, "y"), "y")
	waitCompiled(t, next, f)
	noPipes(t, next.shared.dir)
	// Which of the two happened depends on timing: wazero read the pipe
	// and found the file short (the runner then compiles and shares), or
	// found no file and compiled.
	t.Logf("after the broken download, the runner shared its own code: %v", next.shared.uploads.Load() == 1)
}
