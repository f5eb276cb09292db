package functions

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/abi"
)

// runner runs WASI commands, compiling each module once.
type runner struct {
	t        *testing.T
	rt       wazero.Runtime
	compiled map[string]wazero.CompiledModule
}

func newRunner(t *testing.T) *runner {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	return &runner{t: t, rt: rt, compiled: map[string]wazero.CompiledModule{}}
}

// run runs wasm with input on stdin and env in its environment (name, value
// pairs) and returns its stdout and stderr.
func (r *runner) run(wasm, input []byte, env ...string) (stdout, stderr string) {
	r.t.Helper()
	ctx := context.Background()
	compiled, ok := r.compiled[string(wasm)]
	if !ok {
		var err error
		if compiled, err = r.rt.CompileModule(ctx, wasm); err != nil {
			r.t.Fatal(err)
		}
		r.compiled[string(wasm)] = compiled
	}
	var out, errOut bytes.Buffer
	cfg := wazero.NewModuleConfig().WithName("").
		WithStdin(bytes.NewReader(input)).WithStdout(&out).WithStderr(&errOut)
	for i := 0; i+1 < len(env); i += 2 {
		cfg = cfg.WithEnv(env[i], env[i+1])
	}
	mod, err := r.rt.InstantiateModule(ctx, compiled, cfg)
	if err != nil {
		r.t.Fatalf("%v (stderr %q)", err, errOut.String())
	}
	mod.Close(ctx)
	return out.String(), errOut.String()
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	for _, ex := range Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	t.Fatalf("no example %q", name)
	return nil
}

func TestExamplesAreWasm(t *testing.T) {
	var names []string
	for _, ex := range Examples() {
		names = append(names, ex.Name)
		if len(ex.Wasm) <= 8 || !bytes.HasPrefix(ex.Wasm, []byte("\x00asm")) {
			t.Errorf("%s: not a wasm module (%d bytes)", ex.Name, len(ex.Wasm))
		}
	}
	// Other packages index Examples() by position, so the order is fixed.
	if got, want := strings.Join(names, ","), "echo,hello,reverse,reverse-c"; got != want {
		t.Fatalf("examples %s, want %s", got, want)
	}
}

func TestHello(t *testing.T) {
	hello, r := example(t, "hello"), newRunner(t)
	big := strings.Repeat("x", 100_000) // well past the first 4 KiB read buffer
	for _, tc := range []struct{ in, out, log string }{
		{"Hearth", "Hello, Hearth!\n", "hello: greeted 6 bytes\n"},
		{"Hearth\n", "Hello, Hearth!\n", "hello: greeted 7 bytes\n"},
		{"Hearth\r\n", "Hello, Hearth!\n", "hello: greeted 8 bytes\n"},
		{"", "Hello, world!\n", "hello: greeted 0 bytes\n"},
		{"\n", "Hello, world!\n", "hello: greeted 1 bytes\n"},
		{big, "Hello, " + big + "!\n", "hello: greeted 100000 bytes\n"},
	} {
		out, log := r.run(hello, []byte(tc.in))
		if out != tc.out {
			t.Errorf("input %.20q: output %.40q, want %.40q", tc.in, out, tc.out)
		}
		if log != tc.log {
			t.Errorf("input %.20q: stderr %q, want %q", tc.in, log, tc.log)
		}
	}
}

func TestEcho(t *testing.T) {
	echo, r := example(t, "echo"), newRunner(t)
	if out, log := r.run(echo, []byte("Hearth")); out != "Hearth" || log != "" {
		t.Errorf("output %q, stderr %q; want %q and nothing", out, log, "Hearth")
	}
	in := make([]byte, 200_000)
	for i := range in {
		in[i] = byte(i * 7)
	}
	if out, _ := r.run(echo, in); out != string(in) {
		t.Errorf("binary input of %d bytes came back as %d different bytes", len(in), len(out))
	}
	out, log := r.run(echo, []byte("Hearth"), "REQUEST_METHOD", "PUT")
	if out != "Hearth" || !strings.HasSuffix(log, "\n") || !strings.Contains(log, "PUT") {
		t.Errorf("with REQUEST_METHOD=PUT: output %q, stderr %q", out, log)
	}
}

// TestReverseC calls the C reactor through its exports as the runner does
// (docs/abi.md): abi.Alloc for the input buffer, then abi.Handle.
func TestReverseC(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, example(t, "reverse-c"), wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	alloc, handle := mod.ExportedFunction(abi.Alloc), mod.ExportedFunction(abi.Handle)
	if alloc == nil || handle == nil {
		t.Fatalf("%s or %s is not exported", abi.Alloc, abi.Handle)
	}
	meta := "POST /\n"
	// Growing inputs exercise both buffers' reallocation; the last call
	// must not see leftovers of the longer one before it.
	for _, body := range []string{"", "a", "Hearth", strings.Repeat("0123456789", 1000), "xy"} {
		in := meta + body
		res, err := alloc.Call(ctx, uint64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		ptr := uint32(res[0])
		if !mod.Memory().Write(ptr, []byte(in)) {
			t.Fatalf("input buffer at %d does not hold %d bytes", ptr, len(in))
		}
		res, err = handle.Call(ctx, uint64(ptr), uint64(len(meta)), uint64(ptr)+uint64(len(meta)), uint64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		out, ok := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
		if !ok {
			t.Fatalf("response %#x is outside memory", res[0])
		}
		want := "Status: 200\nContent-Type: application/octet-stream\n\n" + string(reverseBytes([]byte(body)))
		if string(out) != want {
			t.Errorf("body of %d bytes: got %.80q…, want %.80q…", len(body), out, want)
		}
	}
}

func reverseBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}
