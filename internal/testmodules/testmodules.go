package testmodules

import _ "embed"

// Trap is a WASI command whose _start executes `unreachable`.
//
//go:embed trap.wasm
var Trap []byte

// Loop is a WASI command whose _start never returns.
//
//go:embed loop.wasm
var Loop []byte

// ExitCode is a WASI command that writes "bad things\n" to stderr and exits
// with code 3.
//
//go:embed exitcode.wasm
var ExitCode []byte

// MemoryBomb is a WASI command that grows its memory a page at a time until
// memory.grow fails, then traps: a memory limit shows as an error.
//
//go:embed membomb.wasm
var MemoryBomb []byte

// BigOutput is a WASI command that writes the same 64 KiB buffer to stdout
// forever, ignoring write errors.
//
//go:embed bigoutput.wasm
var BigOutput []byte

// Dirty is a WASI command that exits with code 1 if its memory (grown by a
// page first) holds a non-zero byte when it starts, then fills it with
// 0xab and exits with 0: a runner that recycles memories must hand every
// instance a zeroed one.
//
//go:embed dirty.wasm
var Dirty []byte

// ForbiddenImport imports env.socket_open, a host function Hearth does not
// provide.
//
//go:embed forbidden.wasm
var ForbiddenImport []byte

// Sleep is a WASI command (C) that sleeps for the milliseconds given on
// stdin and prints "slept N".
//
//go:embed sleep.wasm
var Sleep []byte

// Reactor is a Go module with the reactor ABI (built with sdk/guest) whose
// behaviour the request body chooses; see reactor/main.go.
//
//go:embed reactor.wasm
var Reactor []byte
