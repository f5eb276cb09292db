package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
)

// sleeperBin is testdata/sleeper built once for the package's tests: a
// stand-in for `hearth runner` that drains on SIGTERM and leaves markers.
var sleeperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "provider-sleeper-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sleeperBin = filepath.Join(dir, "sleeper")
	build := exec.Command("go", "build", "-o", sleeperBin, "./testdata/sleeper")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build testdata/sleeper:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// newSleepers returns a Process provider running sleepers that leave their
// markers in the returned directory. The provider is closed at cleanup.
func newSleepers(t *testing.T, stopTimeout time.Duration, args ...string) (*Process, string) {
	t.Helper()
	dir := t.TempDir()
	p := NewProcess(ProcessConfig{
		Binary:      sleeperBin,
		Args:        args,
		Env:         []string{"SLEEPER_DIR=" + dir},
		StopTimeout: stopTimeout,
		Log:         testLogger(t),
	})
	t.Cleanup(func() { _ = p.Close() })
	return p, dir
}

// waitReady waits until each runner has written its ready marker, that is,
// handles SIGTERM, and returns their pids.
func waitReady(t *testing.T, dir string, ids ...string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	testutil.Eventually(t, 10*time.Second, func() error {
		for _, id := range ids {
			b, err := os.ReadFile(filepath.Join(dir, "ready-"+id))
			if err != nil {
				return err
			}
			pid, err := strconv.Atoi(string(b))
			if err != nil {
				return fmt.Errorf("ready-%s: %w", id, err) // half written
			}
			pids[id] = pid
		}
		return nil
	})
	return pids
}

func drained(dir, id string) bool {
	_, err := os.Stat(filepath.Join(dir, "drained-"+id))
	return err == nil
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func wantRunners(t *testing.T, p *Process, ids ...string) {
	t.Helper()
	if n, err := p.Runners(context.Background()); n != len(ids) || err != nil {
		t.Fatalf("Runners() = %d, %v; want %d", n, err, len(ids))
	}
	if got := p.IDs(); !slices.Equal(got, ids) {
		t.Fatalf("IDs() = %v, want %v", got, ids)
	}
}

func TestProcessScaleUpAndDrainDown(t *testing.T) {
	ctx := context.Background()
	p, dir := newSleepers(t, 10*time.Second)
	if p.Name() != "process" {
		t.Errorf("Name() = %q, want process", p.Name())
	}
	wantRunners(t, p)

	if err := p.Scale(ctx, 3); err != nil {
		t.Fatalf("Scale(3): %v", err)
	}
	wantRunners(t, p, "runner-1", "runner-2", "runner-3")
	pids := waitReady(t, dir, "runner-1", "runner-2", "runner-3")
	for id, pid := range pids {
		if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
			t.Errorf("%s: pgid = %d, %v; want its own group %d", id, pgid, err, pid)
		}
	}

	// Scale returns once the stopped runners have exited, so their markers
	// are already there.
	if err := p.Scale(ctx, 1); err != nil {
		t.Fatalf("Scale(1): %v", err)
	}
	wantRunners(t, p, "runner-1")
	for _, id := range []string{"runner-2", "runner-3"} {
		if !drained(dir, id) {
			t.Errorf("%s was stopped without draining (no drained marker)", id)
		}
		if alive(pids[id]) {
			t.Errorf("%s (pid %d) still running after Scale(1)", id, pids[id])
		}
	}
	if drained(dir, "runner-1") || !alive(pids["runner-1"]) {
		t.Errorf("runner-1 was stopped; Scale(1) should keep the oldest runner")
	}

	// Scaling to the current number changes nothing.
	if err := p.Scale(ctx, 1); err != nil {
		t.Fatalf("Scale(1) again: %v", err)
	}
	wantRunners(t, p, "runner-1")

	// Scaling up again reuses the lowest free number.
	for _, id := range []string{"runner-2", "runner-3"} {
		_ = os.Remove(filepath.Join(dir, "ready-"+id))
		_ = os.Remove(filepath.Join(dir, "drained-"+id))
	}
	if err := p.Scale(ctx, 2); err != nil {
		t.Fatalf("Scale(2): %v", err)
	}
	wantRunners(t, p, "runner-1", "runner-2")
	waitReady(t, dir, "runner-1", "runner-2")

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantRunners(t, p)
	for _, id := range []string{"runner-1", "runner-2"} {
		if !drained(dir, id) {
			t.Errorf("Close stopped %s without draining", id)
		}
	}
	if err := p.Scale(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Scale after Close = %v, want ErrClosed", err)
	}
}

func TestProcessKillsRunnerThatDoesNotDrain(t *testing.T) {
	ctx := context.Background()
	p, dir := newSleepers(t, 100*time.Millisecond, "--ignore-term")
	if err := p.Scale(ctx, 1); err != nil {
		t.Fatalf("Scale(1): %v", err)
	}
	pid := waitReady(t, dir, "runner-1")["runner-1"]
	start := time.Now()
	if err := p.Scale(ctx, 0); err != nil {
		t.Fatalf("Scale(0): %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Scale(0) returned after %s, before StopTimeout", d)
	}
	wantRunners(t, p)
	if alive(pid) {
		t.Errorf("runner-1 (pid %d) survived SIGKILL", pid)
	}
	if drained(dir, "runner-1") {
		t.Errorf("runner-1 wrote a drained marker though it ignores SIGTERM")
	}
}

func TestProcessCancelledScaleKills(t *testing.T) {
	p, dir := newSleepers(t, time.Minute, "--ignore-term")
	if err := p.Scale(context.Background(), 1); err != nil {
		t.Fatalf("Scale(1): %v", err)
	}
	waitReady(t, dir, "runner-1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Scale(ctx, 0); err != nil {
		t.Fatalf("Scale(0): %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Scale(0) waited %s for StopTimeout though ctx ended", d)
	}
	wantRunners(t, p)
}

func TestProcessReplacesExitedRunner(t *testing.T) {
	ctx := context.Background()
	p, dir := newSleepers(t, 10*time.Second)
	if err := p.Scale(ctx, 2); err != nil {
		t.Fatalf("Scale(2): %v", err)
	}
	pids := waitReady(t, dir, "runner-1", "runner-2")
	_ = os.Remove(filepath.Join(dir, "ready-runner-1"))
	if err := syscall.Kill(pids["runner-1"], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		if n, _ := p.Runners(ctx); n != 1 {
			return fmt.Errorf("Runners() = %d, want 1 after runner-1 died", n)
		}
		return nil
	})
	if err := p.Scale(ctx, 2); err != nil {
		t.Fatalf("Scale(2) after a crash: %v", err)
	}
	wantRunners(t, p, "runner-2", "runner-1")
	if pid := waitReady(t, dir, "runner-1")["runner-1"]; pid == pids["runner-1"] {
		t.Errorf("runner-1 was not restarted (same pid %d)", pid)
	}
}

func TestProcessBadInput(t *testing.T) {
	ctx := context.Background()
	p, _ := newSleepers(t, time.Second)
	if err := p.Scale(ctx, -1); !errors.Is(err, ErrNegative) {
		t.Errorf("Scale(-1) = %v, want ErrNegative", err)
	}
	wantRunners(t, p)

	missing := NewProcess(ProcessConfig{Binary: filepath.Join(t.TempDir(), "no-such-hearth"), Args: []string{"runner"}})
	t.Cleanup(func() { _ = missing.Close() })
	err := missing.Scale(ctx, 2)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Scale with a missing binary = %v, want an error wrapping os.ErrNotExist", err)
	}
	if n, _ := missing.Runners(ctx); n != 0 {
		t.Errorf("Runners() after a failed start = %d, want 0", n)
	}
}
