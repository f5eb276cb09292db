package runner

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var errNotYet = errors.New("not yet")

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustInstantiateWASI(ctx context.Context, rt wazero.Runtime) {
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
}

// noPipes fails the test if the cache directory holds anything but
// directories and regular files (a pipe left by a shared-cache download).
func noPipes(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !d.Type().IsRegular() {
			t.Errorf("%s is left in the cache (%v)", path, d.Type())
		}
		return nil
	})
}
