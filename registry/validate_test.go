package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/abi"
)

// wat-free tiny modules, hand-assembled: exports with the wrong shapes.
func TestDetectABIRejectsBadExports(t *testing.T) {
	ctx := context.Background()
	v := newValidator(ctx, wazero.NewRuntimeConfigInterpreter())
	defer v.close(ctx)
	tests := []struct {
		name    string
		wasm    []byte
		mention string
	}{
		{"no entry point", module(nil), "neither _start"},
		{"only alloc", module([]export{{abi.Alloc, sigI32I32}}), "only one of"},
		{"alloc wrong type", module([]export{{abi.Alloc, sigNone}, {abi.Handle, sigHandle}}), "hearth_alloc must have type"},
		{"handle wrong type", module([]export{{abi.Alloc, sigI32I32}, {abi.Handle, sigI32I32}}), "hearth_handle must have type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.check(ctx, tt.wasm)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Code != CodeInvalidModule || !strings.Contains(ve.Message, tt.mention) {
				t.Fatalf("got %v, want invalid_module mentioning %q", err, tt.mention)
			}
		})
	}
	detected, err := v.check(ctx, module([]export{{abi.Alloc, sigI32I32}, {abi.Handle, sigHandle}}))
	if err != nil || detected != abi.Reactor {
		t.Fatalf("a well-formed reactor: %q %v", detected, err)
	}
}

type sig int

const (
	sigNone   sig = iota // () -> ()
	sigI32I32            // (i32) -> i32
	sigHandle            // (i32 i32 i32 i32) -> i64
)

type export struct {
	name string
	sig  sig
}

// module assembles a wasm module with one function per export, each of the
// given signature, returning a zero value.
func module(exports []export) []byte {
	types := []byte{
		0x60, 0x00, 0x00, // () -> ()
		0x60, 0x01, 0x7f, 0x01, 0x7f, // (i32) -> i32
		0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7e, // (i32 x4) -> i64
	}
	bodies := map[sig][]byte{
		sigNone:   {0x02, 0x00, 0x0b},             // size, no locals, end
		sigI32I32: {0x04, 0x00, 0x41, 0x00, 0x0b}, // i32.const 0
		sigHandle: {0x04, 0x00, 0x42, 0x00, 0x0b}, // i64.const 0
	}
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = append(out, section(1, append([]byte{3}, types...))...)
	funcs := []byte{byte(len(exports))}
	exps := []byte{byte(len(exports))}
	code := []byte{byte(len(exports))}
	for i, e := range exports {
		funcs = append(funcs, byte(e.sig))
		exps = append(exps, byte(len(e.name)))
		exps = append(exps, e.name...)
		exps = append(exps, 0x00, byte(i))
		code = append(code, bodies[e.sig]...)
	}
	out = append(out, section(3, funcs)...)
	out = append(out, section(7, exps)...)
	out = append(out, section(10, code)...)
	return out
}

func section(id byte, body []byte) []byte {
	return append([]byte{id, byte(len(body))}, body...)
}
