// Package testmodules holds small WebAssembly modules that misbehave on
// purpose, for tests of limits and validation. Most are built from the .wat
// source beside them with wat2wasm; Sleep (sleep/, C) and Reactor (reactor/,
// Go) are compiled. functions/README.md lists the commands; `go tool task
// functions` runs them.
//
// Each module is a []byte variable named for what it does: commands
// ([Trap], [Loop], [ExitCode], [MemoryBomb], [BigOutput], [Sleep],
// [Dirty]), one that imports a host function Hearth does not provide
// ([ForbiddenImport]) and a reactor whose request body chooses its
// behaviour ([Reactor]).
package testmodules
