//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/hearthfn/hearth/internal/cliconfig"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// openPTY opens a pseudo-terminal; what the program writes to tty is read
// from the returned buffer, which holds everything once tty is closed
// (done reports that).
func openPTY(t *testing.T) (ptmx, tty *os.File, out *syncBuffer, done <-chan struct{}) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pseudo-terminal:", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	out = &syncBuffer{}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		_, _ = io.Copy(out, ptmx) // ends with EIO once tty is closed
	}()
	return ptmx, tty, out, ch
}

// TestLoginPrompt: on a terminal, login prompts for the key and reads it
// with echo off, so the key never shows on the screen.
func TestLoginPrompt(t *testing.T) {
	path := isolateConfig(t)
	a := newAuthStack(t)
	ptmx, tty, screen, drained := openPTY(t)
	testStdin = tty
	t.Cleanup(func() { testStdin = nil })

	var stdout, stderr syncBuffer
	result := make(chan int, 1)
	go func() {
		result <- run(context.Background(), []string{"login", "--gateway", a.GatewayURL}, &stdout, &stderr)
	}()
	// Type the key once the prompt is up and echo is off.
	testutil.Eventually(t, 10*time.Second, func() error {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			return err
		}
		if tio.Lflag&unix.ECHO != 0 || !strings.Contains(stderr.String(), "API key for "+a.GatewayURL+": ") {
			return errors.New("no prompt with echo off yet: " + stderr.String())
		}
		return nil
	})
	if _, err := ptmx.Write([]byte(a.AdminKey + "\n")); err != nil {
		t.Fatal(err)
	}
	var code int
	select {
	case code = <-result:
	case <-time.After(30 * time.Second):
		t.Fatal("login did not return within 30s")
	}
	if code != 0 || !strings.Contains(stdout.String(), "logged in to "+a.GatewayURL) {
		t.Fatalf("login: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	tty.Close()
	<-drained
	if strings.Contains(screen.String(), a.AdminKey) || strings.Contains(stdout.String()+stderr.String(), a.AdminKey) {
		t.Errorf("the key was echoed: screen %q", screen.String())
	}
	if cfg, err := cliconfig.LoadFile(path); err != nil || cfg.Context("").Key != a.AdminKey {
		t.Errorf("stored: %+v %v", cfg, err)
	}
}

// TestUploadProgressBar: on a terminal, a large upload is one line
// redrawn in place: a bar that ends full, then cleared.
func TestUploadProgressBar(t *testing.T) {
	isolateConfig(t)
	s := stacktest.Dev(t, t.TempDir())
	big := filepath.Join(t.TempDir(), "big.wasm")
	if err := os.WriteFile(big, padModule(stacktest.ExampleWasm(t, "hello"), 6<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	_, tty, screen, drained := openPTY(t)
	var stdout syncBuffer
	code := run(context.Background(), []string{"deploy", "big", big, "--gateway", s.GatewayURL}, &stdout, tty)
	tty.Close()
	<-drained
	out := screen.String()
	if code != 0 || !strings.Contains(stdout.String(), "deployed big version 1") {
		t.Fatalf("deploy: exit %d, %q, screen %q", code, stdout.String(), out)
	}
	bar := "uploading /v1/functions/big [==============================] 100%"
	if !strings.Contains(out, "\r\033[Kuploading /v1/functions/big [>") || !strings.Contains(out, bar) || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("no bar redrawn in place on the terminal: %q", out)
	}
	if n := strings.Count(out, "\n"); n != 1 { // the "deploying …" line only
		t.Errorf("%d lines on the terminal, want the bar on one: %q", n, out)
	}
}
