// Package functions ships Hearth's example functions: their sources live in
// the subdirectories beside the built .wasm files embedded here, which
// `hearth dev` deploys on start. Rebuild them with `go tool task functions`.
//
// [Examples] returns them, each an [Example] with its name and module
// bytes: echo and hello (commands, Go and C), reverse and reverse-c
// (reactors, Go with sdk/guest and C).
package functions
