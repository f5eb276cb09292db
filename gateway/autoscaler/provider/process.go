package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessConfig configures a Process provider.
type ProcessConfig struct {
	// Binary is the program to run, usually the hearth binary itself.
	Binary string
	// Args are its arguments, usually "runner" and connection flags. Each
	// runner gets "--id runner-N" appended.
	Args []string
	// Env is added to this process's environment for each runner.
	Env []string
	// Dir is the runners' working directory; empty means this process's.
	Dir string
	// StopTimeout is how long a runner has to drain after SIGTERM before it
	// is killed. Zero means 35s: the runner's own 30s drain and a margin.
	StopTimeout time.Duration
	// Output receives the runners' stdout and stderr; nil means this
	// process's stderr.
	Output io.Writer
	// Log reports starts, stops and unexpected exits; nil discards.
	Log *slog.Logger
}

const defaultStopTimeout = 35 * time.Second

// ErrClosed is returned by Scale after Close.
var ErrClosed = errors.New("process provider is closed")

// Process starts and stops local runner processes. Each runs in its own
// process group, so stopping one reaches everything it started; a stop is
// SIGTERM to the group, then SIGKILL if it has not exited after StopTimeout.
//
// Scale reconciles: runners that exited on their own no longer count, and
// the next Scale starts replacements. Close stops all runners.
type Process struct {
	cfg ProcessConfig
	log *slog.Logger

	mu     sync.Mutex // serialises Scale and Close
	procs  []*proc    // ordered by start; scale-down stops the newest
	closed bool
}

type proc struct {
	id     string
	n      int
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	err    error         // its exit status, valid after exited
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// NewProcess returns a Process provider that runs no runners yet.
func NewProcess(cfg ProcessConfig) *Process {
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = defaultStopTimeout
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Process{cfg: cfg, log: log.With("provider", "process")}
}

// Name returns "process".
func (p *Process) Name() string { return "process" }

// Runners reports how many runner processes are running now.
func (p *Process) Runners(context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reap()
	return len(p.procs), nil
}

// IDs returns the runner ids of the running processes, oldest first.
func (p *Process) IDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reap()
	ids := make([]string, len(p.procs))
	for i, r := range p.procs {
		ids[i] = r.id
	}
	return ids
}

// Scale starts or stops runner processes until n run. It stops the newest
// runners first, all at once, and returns when they have exited. If ctx
// ends while runners drain, they are killed.
func (p *Process) Scale(ctx context.Context, n int) error {
	if err := checkCount(n); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("scale to %d: %w", n, ErrClosed)
	}
	p.reap()
	for len(p.procs) < n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scale to %d: %w", n, err)
		}
		r, err := p.start()
		if err != nil {
			return fmt.Errorf("scale to %d (running %d): %w", n, len(p.procs), err)
		}
		p.procs = append(p.procs, r)
	}
	if len(p.procs) > n {
		stopping := p.procs[n:]
		p.procs = slices.Clone(p.procs[:n])
		p.stopAll(ctx, stopping)
	}
	return nil
}

// Close stops all runners and makes later Scale calls fail with ErrClosed.
// It waits up to StopTimeout for them to drain.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	stopping := p.procs
	p.procs = nil
	p.stopAll(context.Background(), stopping)
	return nil
}

// reap drops runners that have exited. Callers hold p.mu.
func (p *Process) reap() {
	p.procs = slices.DeleteFunc(p.procs, func(r *proc) bool {
		if r.alive() {
			return false
		}
		p.log.Warn("runner exited on its own; the next Scale replaces it", "runner", r.id, "err", r.err)
		return true
	})
}

// start launches one runner with the lowest free number. Callers hold p.mu.
func (p *Process) start() (*proc, error) {
	n := 1
	for slices.ContainsFunc(p.procs, func(r *proc) bool { return r.n == n }) {
		n++
	}
	id := "runner-" + strconv.Itoa(n)
	cmd := exec.Command(p.cfg.Binary, append(slices.Clone(p.cfg.Args), "--id", id)...)
	cmd.Env = append(childEnviron(), p.cfg.Env...)
	cmd.Dir = p.cfg.Dir
	cmd.Stdout = p.cfg.Output
	cmd.Stderr = p.cfg.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start runner %s: %w (check ProcessConfig.Binary)", id, err)
	}
	r := &proc{id: id, n: n, cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by r: ends when the process exits, which stop ensures
		r.err = cmd.Wait()
		close(r.exited)
	}()
	p.log.Info("runner started", "runner", id, "pid", cmd.Process.Pid)
	return r, nil
}

// stopAll stops runners concurrently and waits for all of them.
func (p *Process) stopAll(ctx context.Context, rs []*proc) {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() { p.stop(ctx, r) })
	}
	wg.Wait()
}

// stop sends SIGTERM to the runner's process group and waits for it to exit;
// after StopTimeout, or when ctx ends, it sends SIGKILL.
func (p *Process) stop(ctx context.Context, r *proc) {
	pgid := r.cmd.Process.Pid // the leader of its own group
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		p.log.Warn("signal runner", "runner", r.id, "err", err)
	}
	timer := time.NewTimer(p.cfg.StopTimeout)
	defer timer.Stop()
	select {
	case <-r.exited:
		if r.err != nil {
			p.log.Warn("runner exited with an error while draining", "runner", r.id, "err", r.err)
		} else {
			p.log.Info("runner drained", "runner", r.id)
		}
		return
	case <-timer.C:
		p.log.Warn("runner did not drain in time; killing it", "runner", r.id, "timeout", p.cfg.StopTimeout)
	case <-ctx.Done():
		p.log.Warn("scale cancelled while runner drained; killing it", "runner", r.id, "err", ctx.Err())
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-r.exited
}

// gatewayOnly are variables of the gateway's environment a runner must not
// inherit: keys that only the gateway uses.
var gatewayOnly = []string{"HEARTH_ADMIN_KEY", "HEARTH_SECRETS_KEY", "HEARTH_SECRETS_KEY_FILE", "HEARTH_API_KEY"}

// childEnviron is this process's environment without gatewayOnly.
func childEnviron() []string {
	env := os.Environ()
	return slices.DeleteFunc(env, func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(gatewayOnly, name)
	})
}
