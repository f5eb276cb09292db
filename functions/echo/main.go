// Command echo is Hearth's Go example: it copies its input to its output.
// Build: GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags="-s -w" -o echo.wasm .
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if method := os.Getenv("REQUEST_METHOD"); method != "" {
		fmt.Fprintln(os.Stderr, "echo:", method, os.Getenv("PATH_INFO"))
	}
	if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}
