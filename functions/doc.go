// Package functions ships Hearth's example functions: their sources live in
// the subdirectories beside the built .wasm files embedded here, which
// `hearth dev` deploys on start. Rebuild them with `go tool task functions`.
//
// [Examples] returns them, each an [Example] with its name and module
// bytes: echo and hello (commands, Go and C), reverse and reverse-c
// (reactors, Go with sdk/guest and C).
//
// The other folders are examples with a hearth.yaml of their own, which
// hearth dev does not deploy: jsontransform, markdown and thumbnail (Go
// reactors), wc-wat (WebAssembly text), slugify (AssemblyScript) and
// csv2json-rust (Rust); README.md describes them and the thumbnailer's
// measurement, and examples_test.go calls each through a dev stack.
package functions
