package testmodules

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hearthfn/hearth/internal/abi"
)

// commands are the WASI command fixtures.
var commands = map[string][]byte{
	"Trap": Trap, "Loop": Loop, "ExitCode": ExitCode, "MemoryBomb": MemoryBomb,
	"BigOutput": BigOutput, "Sleep": Sleep, "Dirty": Dirty,
}

func TestModulesCompile(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for name, wasm := range commands {
		compiled, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := compiled.ExportedFunctions()[abi.Start]; !ok {
			t.Errorf("%s exports no _start", name)
		}
		if _, ok := compiled.ExportedMemories()["memory"]; !ok {
			t.Errorf("%s exports no memory", name)
		}
		for _, fn := range compiled.ImportedFunctions() {
			if mod, fname, _ := fn.Import(); mod != wasi_snapshot_preview1.ModuleName {
				t.Errorf("%s imports %s.%s, not a WASI function", name, mod, fname)
			}
		}
	}

	forbidden, err := rt.CompileModule(ctx, ForbiddenImport)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fn := range forbidden.ImportedFunctions() {
		mod, name, _ := fn.Import()
		found = found || (mod == "env" && name == "socket_open" &&
			len(fn.ParamTypes()) == 1 && fn.ParamTypes()[0] == api.ValueTypeI32 &&
			len(fn.ResultTypes()) == 1 && fn.ResultTypes()[0] == api.ValueTypeI32)
	}
	if !found {
		t.Error("ForbiddenImport does not import env.socket_open (i32) -> i32")
	}
	_, hasStart := forbidden.ExportedFunctions()[abi.Start]
	_, hasMemory := forbidden.ExportedMemories()["memory"]
	if !hasStart || !hasMemory {
		t.Error("ForbiddenImport does not export _start and memory")
	}

	reactor, err := rt.CompileModule(ctx, Reactor)
	if err != nil {
		t.Fatal(err)
	}
	// Reactor is built with sdk/guest: this checks its export directives.
	for _, name := range []string{abi.Alloc, abi.Handle, abi.Initialize} {
		if _, ok := reactor.ExportedFunctions()[name]; !ok {
			t.Errorf("Reactor does not export %s", name)
		}
	}
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// run runs a command fixture with at most memoryPages of memory until it
// ends or timeout passes.
func run(t *testing.T, wasm []byte, memoryPages uint32, timeout time.Duration, stdout, stderr io.Writer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithMemoryLimitPages(memoryPages).WithCloseOnContextDone(true))
	defer rt.Close(context.Background())
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().
		WithStdout(stdout).WithStderr(stderr))
	if mod != nil {
		mod.Close(ctx)
	}
	return err
}

func TestModulesMisbehave(t *testing.T) {
	const pages = 160 // 10 MiB
	var exitErr *sys.ExitError

	if err := run(t, Trap, pages, 5*time.Second, io.Discard, io.Discard); err == nil || errors.As(err, &exitErr) {
		t.Errorf("Trap: %v, want a trap", err)
	}

	var stderr bytes.Buffer
	err := run(t, ExitCode, pages, 5*time.Second, io.Discard, &stderr)
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 || stderr.String() != "bad things\n" {
		t.Errorf("ExitCode: %v, stderr %q; want exit code 3 and %q", err, stderr.String(), "bad things\n")
	}

	if err := run(t, MemoryBomb, pages, 5*time.Second, io.Discard, io.Discard); err == nil || errors.As(err, &exitErr) {
		t.Errorf("MemoryBomb: %v, want a trap", err)
	}

	// Loop and BigOutput never end on their own: the deadline stops them.
	if err := run(t, Loop, pages, 100*time.Millisecond, io.Discard, io.Discard); !errors.As(err, &exitErr) || exitErr.ExitCode() != sys.ExitCodeDeadlineExceeded {
		t.Errorf("Loop: %v, want the deadline to stop it", err)
	}
	var out countingWriter
	err = run(t, BigOutput, pages, 100*time.Millisecond, &out, io.Discard)
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != sys.ExitCodeDeadlineExceeded || out.n < 2<<16 || out.n%(1<<16) != 0 {
		t.Errorf("BigOutput: %v after %d bytes, want the deadline to stop it after several 64 KiB writes", err, out.n)
	}
}
