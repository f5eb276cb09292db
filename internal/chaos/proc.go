package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// proc is one process of the cluster: a command started in a process
// group of its own (its pid is the group's id), with its output appended
// to a log file, that can be signalled, waited for and started again with
// the same command line.
type proc struct {
	name string
	args []string
	env  []string
	dir  string
	log  string // log file, appended to across restarts

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
}

func newProc(name, dir, logDir string, env []string, args ...string) *proc {
	return &proc{name: name, args: args, env: env, dir: dir, log: filepath.Join(logDir, name+".log")}
}

// start runs the command; it fails if the current run is still alive.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%s: already running (pid %d)", p.name, p.cmd.Process.Pid)
		}
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "---- chaos: start %s at %s\n", p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// running reports whether the current run has not exited.
func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process group of the current run.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return fmt.Errorf("%s: not started", p.name)
	}
	err := syscall.Kill(-p.cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // gone already
	}
	return err
}

// wait waits up to timeout for the current run to exit.
func (p *proc) wait(timeout time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop asks the group to end with sig, waits up to grace, then kills it.
// It reports whether the group ended by itself.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) bool {
	if !p.running() {
		return true
	}
	_ = p.signal(syscall.SIGCONT) // a paused process cannot exit
	_ = p.signal(sig)
	if p.wait(grace) {
		return true
	}
	_ = p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
	return false
}
