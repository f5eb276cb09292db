package testmodules

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/internal/abi"
)

func TestPrintEnv(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var stdout bytes.Buffer
	big := string(bytes.Repeat([]byte("x"), 100<<10)) // the module grows its memory
	cfg := wazero.NewModuleConfig().WithStdout(&stdout).WithEnv("A", "1").WithEnv("BIG", big)
	if _, err := rt.InstantiateWithConfig(ctx, PrintEnv, cfg); err != nil {
		t.Fatal(err)
	}
	env, err := DecodeEnv(stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != 2 || env["A"] != "1" || env["BIG"] != big {
		t.Fatalf("PrintEnv wrote %d variables, A=%q, len(BIG)=%d", len(env), env["A"], len(env["BIG"]))
	}
}

func TestEnvReactor(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, EnvReactor, wazero.NewModuleConfig().WithEnv("A", "1").WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	input, err := mod.ExportedFunction(abi.Alloc).Call(ctx, 8192)
	if err != nil {
		t.Fatal(err)
	}
	if !mod.Memory().Write(uint32(input[0]), []byte("POST /\n")) {
		t.Fatal("hearth_alloc returned a pointer outside memory")
	}
	for range 2 { // an instance answers more than once
		res, err := mod.ExportedFunction(abi.Handle).Call(ctx, input[0], 7, input[0]+7, 0)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
		if !ok {
			t.Fatal("answer outside memory")
		}
		head, body, ok := bytes.Cut(out, []byte("\n\n"))
		if !ok || string(head) != "Content-Type: text/plain" {
			t.Fatalf("answer %q has no header block", out)
		}
		env, err := DecodeEnv(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(env) != 1 || env["A"] != "1" {
			t.Fatalf("EnvReactor answered env %v", env)
		}
	}
}
