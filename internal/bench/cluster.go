package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/procutil"
	"github.com/hearthfn/hearth/sdk/client"
)

// cluster is the deployment users run, on loopback: `hearth nats`,
// `hearth gateway` and `hearth runner`, each a process of its own (its
// own process group, stopped by its pid), with S3 served by this process
// (off the hot path: modules are fetched once). The cluster cases measure
// each process's CPU.
type cluster struct {
	s3      *embeds3.Server
	procs   []*benchProc // nats, gateway, runner: the order they stop in reverse
	gateway string       // base URL
}

// profiled reports whether the run profiles a cluster case: its
// processes then serve their profiles (--pprof-listen).
func (b *bencher) profiled() bool {
	return b.cfg.CPUProfile != "" && strings.HasPrefix(b.cfg.ProfileCase, "hearth-warm-reactor-cluster")
}

// benchProc is one process of the cluster.
type benchProc struct {
	name  string
	cmd   *exec.Cmd
	log   string // its stderr
	pprof string // host:port of its profiles, when profiled
	done  chan struct{}
}

// clusterRoles are the processes whose CPU the cluster cases report, in
// the table's order.
var clusterRoles = []string{"gateway", "nats", "runner"}

// clusterCase measures warm sync calls of example on the cluster.
func clusterCase(example string) func(b *bencher, ctx context.Context) (Result, error) {
	return func(b *bencher, ctx context.Context) (Result, error) {
		c, err := b.startCluster(ctx)
		if err != nil {
			return Result{}, err
		}
		b.procCPU = c.pids()
		defer func() { b.procCPU = nil }()
		return b.syncLoad(ctx, c.gateway, c.gateway+"/v1/functions/"+example+"/invoke", nil, nil, reversed(b.body))
	}
}

// startCluster starts the cluster on first use, with reverse and
// reverse-c deployed and warm.
func (b *bencher) startCluster(ctx context.Context) (*cluster, error) {
	if b.cluster != nil {
		return b.cluster, nil
	}
	if b.cfg.Hearth == "" {
		return nil, errors.New("the cluster cases run the hearth binary as separate processes; Config.Hearth is not set (run them from `hearth bench`)")
	}
	b.bar.Status("starting the cluster (hearth nats, hearth gateway, hearth runner as processes; S3 here)…")
	dir := filepath.Join(b.dataDir, "cluster")
	c := &cluster{}
	ok := false
	defer func() {
		if !ok {
			c.stop(b)
		}
	}()
	access, secret, err := embeds3.LoadOrCreateCredentials(dir)
	if err != nil {
		return nil, err
	}
	if c.s3, err = embeds3.Start(embeds3.Config{Dir: filepath.Join(dir, "s3"), Addr: "127.0.0.1:0", AccessKey: access, SecretKey: secret, Logger: b.log}); err != nil {
		return nil, err
	}
	env := append(procutil.EnvWithout("HEARTH_"), "HEARTH_S3_ACCESS_KEY="+access, "HEARTH_S3_SECRET_KEY="+secret, "HEARTH_LOG_LEVEL=warn")
	natsURL, err := c.start(ctx, b, dir, env, "nats", "NATS listening on ", "nats", "--listen", "127.0.0.1:0", "--store-dir", filepath.Join(dir, "nats"))
	if err != nil {
		return nil, err
	}
	conn := []string{"--nats", natsURL, "--s3-endpoint", c.s3.Endpoint()}
	if c.gateway, err = c.start(ctx, b, dir, env, "gateway", "Hearth gateway listening on ",
		append([]string{"gateway", "--listen", "127.0.0.1:0", "--insecure-no-auth"}, conn...)...); err != nil {
		return nil, err
	}
	if _, err := c.start(ctx, b, dir, env, "runner", "", append([]string{"runner", "--cache-dir", filepath.Join(dir, "runner-cache")}, conn...)...); err != nil {
		return nil, err
	}
	if err := c.waitRunner(ctx, b); err != nil {
		return nil, err
	}
	cl := client.New(c.gateway)
	for _, ex := range functions.Examples() {
		if ex.Name != "reverse" && ex.Name != "reverse-c" {
			continue
		}
		if _, err := cl.DeployWith(ctx, ex.Name, ex.Wasm, nil, client.DeployOptions{Warm: client.WarmWait}); err != nil {
			return nil, fmt.Errorf("deploy %s on the cluster: %w", ex.Name, err)
		}
	}
	b.cluster = c
	ok = true
	return c, nil
}

// start runs `hearth args...` as the process of role name and, with a
// ready prefix, waits for the line on its stdout that starts with it and
// returns the rest of that line.
func (c *cluster) start(ctx context.Context, b *bencher, dir string, env []string, name, ready string, args ...string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := &benchProc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	if b.profiled() {
		port, err := procutil.FreePort()
		if err != nil {
			return "", err
		}
		p.pprof = fmt.Sprintf("127.0.0.1:%d", port)
		args = append(args, "--pprof-listen", p.pprof)
	}
	stderr, err := os.Create(p.log)
	if err != nil {
		return "", err
	}
	defer stderr.Close() // the child has its own descriptor
	p.cmd = exec.Command(b.cfg.Hearth, args...)
	p.cmd.Env, p.cmd.Stderr = env, stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := p.cmd.Start(); err != nil {
		return "", fmt.Errorf("start hearth %s: %w", name, err)
	}
	c.procs = append(c.procs, p)
	lines := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if !found && ready != "" && strings.HasPrefix(sc.Text(), ready) {
				found = true
				lines <- strings.TrimSpace(strings.TrimPrefix(sc.Text(), ready))
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = p.cmd.Wait()
	}()
	if ready == "" {
		return "", nil
	}
	select {
	case line := <-lines:
		return line, nil
	case <-p.done:
		return "", fmt.Errorf("hearth %s exited before it was ready: %s", name, procutil.Tail(p.log, 20))
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("hearth %s not ready after 60 s: %s", name, procutil.Tail(p.log, 20))
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// waitRunner polls the gateway's runner table until a runner is ready.
func (c *cluster) waitRunner(ctx context.Context, b *bencher) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var table struct {
			Runners []struct {
				State string `json:"state"`
			} `json:"runners"`
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.gateway+"/v1/runners", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&table)
			resp.Body.Close()
		}
		for _, r := range table.Runners {
			if r.State == "ready" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no runner ready on the cluster after 60 s: %s", procutil.Tail(c.procs[len(c.procs)-1].log, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// profile fetches a CPU profile of d from every process of the cluster
// at once; wait writes each to file with its role before the extension
// (cpu.pprof: cpu.gateway.pprof, cpu.nats.pprof, cpu.runner.pprof).
func (c *cluster) profile(ctx context.Context, d time.Duration, file string) (wait func() error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	errs := make(chan error, len(c.procs))
	for _, p := range c.procs {
		go func() {
			errs <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, secs), roleFile(file, p.name))
		}()
	}
	return func() error {
		var all []error
		for range c.procs {
			all = append(all, <-errs)
		}
		return errors.Join(all...)
	}
}

func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %.200s", url, resp.Status, data)
	}
	return os.WriteFile(file, data, 0o644)
}

// roleFile is file with role before its extension.
func roleFile(file, role string) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "." + role + ext
}

// pids are the cluster's processes by role.
func (c *cluster) pids() map[string]int {
	out := map[string]int{}
	for _, p := range c.procs {
		out[p.name] = p.cmd.Process.Pid
	}
	return out
}

// stop stops the processes in reverse order, each by SIGTERM to its
// process group, then SIGKILL after stopTimeout, and then S3.
func (c *cluster) stop(b *bencher) {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			b.log.Warn("killing a cluster process that did not stop", "process", p.name, "pid", p.cmd.Process.Pid)
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	if c.s3 != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = c.s3.Close(ctx)
	}
}
