package runner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var errNotYet = errors.New("not yet")

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustDirCache(t testing.TB, dir string) wazero.CompilationCache {
	t.Helper()
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func mustInstantiateWASI(ctx context.Context, rt wazero.Runtime) {
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
}
