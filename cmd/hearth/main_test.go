package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the user's config file (and a context named in the
// environment) out of every test: the package's tests run with an empty
// config directory of their own; those of the config file set one each
// (isolateConfig).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth-cli-config-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv("HEARTH_CONFIG")
	os.Unsetenv("HEARTH_CONTEXT")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
