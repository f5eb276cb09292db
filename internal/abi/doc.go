// Package abi names the contract between Hearth and a function's
// WebAssembly module (docs/abi.md, docs/decisions/0003-reactor-abi.md):
// the two ABIs a module can implement, the exports that tell them apart
// and that the host calls, the one host module a function may import, and
// the header a reactor fails a call with.
//
// It declares names only, so that the registry (which detects the ABI at
// deploy), the runner (which calls the exports) and sdk/guest (which
// implements them) cannot drift apart; it imports nothing. The names are
// fixed for good: every deployed module depends on them.
//
// A module is a reactor when it exports [Alloc] and [Handle], and a command
// when it exports [Start]; the function version records [Reactor] or
// [Command].
package abi
