package fnbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/registry"
)

// Step is one function's build, as its hearth.yaml describes it.
type Step struct {
	Function string   // the function's name, for messages
	Dir      string   // where Command runs: the manifest's directory
	Command  string   // run by sh -c; "" only checks Module
	Requires []string // tools the command needs (Tools), checked first
	Module   string   // the .wasm file the command writes
	ABI      string   // abi.Command or abi.Reactor that Module must have; "" for either
}

// Result is a build's module, checked.
type Result struct {
	Module []byte
	ABI    string
	Took   time.Duration
}

// BuildError is a build command that failed.
type BuildError struct {
	Function string
	Command  string
	Err      error // the command's exit
	Output   string
}

func (e *BuildError) Error() string {
	msg := fmt.Sprintf("build of %s failed (%v): %s", e.Function, e.Err, e.Command)
	if e.Output != "" {
		msg += "\n" + strings.TrimRight(e.Output, "\n")
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// ModuleError is a build whose output is not a module Hearth would deploy,
// or not of the ABI the manifest expects.
type ModuleError struct {
	Function string
	Module   string
	Msg      string
}

func (e *ModuleError) Error() string { return fmt.Sprintf("%s: %s: %s", e.Function, e.Module, e.Msg) }

// Run builds s: it checks the required tools, runs the command with the
// function's node_modules/.bin first on PATH (as npm run does) and its
// output sent to log, then reads the module and checks it as a deploy
// would. The command's output is also kept, for the error of a failed
// build when log is io.Discard.
func Run(ctx context.Context, s Step, log io.Writer) (Result, error) {
	start := time.Now()
	if s.Command != "" {
		if err := CheckTools(s.Function, s.Dir, s.Requires); err != nil {
			return Result{}, err
		}
		dir, err := filepath.Abs(s.Dir)
		if err != nil {
			return Result{}, err
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", s.Command)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+filepath.Join(dir, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
		var kept tail
		cmd.Stdout = io.MultiWriter(log, &kept)
		cmd.Stderr = cmd.Stdout
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			out := ""
			if log == io.Discard {
				out = kept.String()
			}
			return Result{}, &BuildError{Function: s.Function, Command: s.Command, Err: err, Output: out}
		}
	}
	wasm, err := os.ReadFile(s.Module)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && s.Command != "" {
			return Result{}, &ModuleError{Function: s.Function, Module: s.Module, Msg: "the build did not write it; the build command must write the manifest's module"}
		}
		return Result{}, err
	}
	got, err := Check(ctx, wasm, s.ABI)
	if err != nil {
		return Result{}, &ModuleError{Function: s.Function, Module: s.Module, Msg: err.Error()}
	}
	return Result{Module: wasm, ABI: got, Took: time.Since(start)}, nil
}

// Check compiles wasm with wazero by the rules of a deploy and returns its
// ABI; want, when not "", is the ABI it must have.
func Check(ctx context.Context, wasm []byte, want string) (string, error) {
	got, err := registry.InspectModule(ctx, wasm)
	if err != nil {
		return "", err
	}
	if want != "" && got != want {
		return "", fmt.Errorf("it is a %s (it exports %s) but the manifest says abi: %s, which exports %s (docs/abi.md)", got, exportsOf(got), want, exportsOf(want))
	}
	return got, nil
}

func exportsOf(a string) string {
	if a == abi.Reactor {
		return abi.Alloc + " and " + abi.Handle
	}
	return abi.Start
}

// tail keeps the last 16 KiB written to it.
type tail struct{ buf bytes.Buffer }

const tailBytes = 16 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if t.buf.Len() > 2*tailBytes {
		b := t.buf.Bytes()
		keep := append([]byte(nil), b[len(b)-tailBytes:]...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	return len(p), nil
}

func (t *tail) String() string {
	b := t.buf.Bytes()
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return string(b)
}
