package functions

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// run runs a WASI command with input on stdin and returns its stdout.
func run(t *testing.T, wasm, input []byte) string {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var stdout bytes.Buffer
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().
		WithStdin(bytes.NewReader(input)).WithStdout(&stdout).WithStderr(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	mod.Close(ctx)
	return stdout.String()
}

func TestExamples(t *testing.T) {
	// Commands are run here; the reverse reactor is run by the runner's tests.
	want := map[string]string{"echo": "Hearth", "hello": "Hello, Hearth!\n", "reverse": ""}
	exs := Examples()
	if len(exs) != len(want) {
		t.Fatalf("%d examples, want %d", len(exs), len(want))
	}
	for _, ex := range exs {
		t.Run(ex.Name, func(t *testing.T) {
			if !bytes.HasPrefix(ex.Wasm, []byte("\x00asm")) {
				t.Fatal("not a wasm module")
			}
			if ex.Name == "reverse" {
				return
			}
			if got := run(t, ex.Wasm, []byte("Hearth")); got != want[ex.Name] {
				t.Fatalf("output %q, want %q", got, want[ex.Name])
			}
		})
	}
	if got := run(t, helloWasm, nil); got != "Hello, world!\n" {
		t.Fatalf("hello with no input: %q", got)
	}
}
