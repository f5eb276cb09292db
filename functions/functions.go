package functions

import (
	_ "embed"
)

//go:embed echo/echo.wasm
var echoWasm []byte

//go:embed hello/hello.wasm
var helloWasm []byte

//go:embed reverse/reverse.wasm
var reverseWasm []byte

//go:embed reverse-c/reverse.wasm
var reverseCWasm []byte

// Example is a built example function shipped with Hearth.
type Example struct {
	Name string
	Wasm []byte
}

// Examples returns the examples in this order: echo, hello, reverse,
// reverse-c. Other packages' tests index it by position, so append new
// examples at the end.
func Examples() []Example {
	return []Example{
		{Name: "echo", Wasm: echoWasm},
		{Name: "hello", Wasm: helloWasm},
		{Name: "reverse", Wasm: reverseWasm},
		{Name: "reverse-c", Wasm: reverseCWasm},
	}
}
