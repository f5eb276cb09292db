package chaos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hearthfn/hearth/internal/procutil"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterConfig says what to start.
type ClusterConfig struct {
	Root     string // the module's root, where hearth and nats-server are built from
	Dir      string // data: bin/, logs/, nats-N/, minio/, runner caches, keys
	MinIO    string // the MinIO server binary
	Gateways int    // 2 when 0
	Runners  int    // 3 when 0
	Hearth   string // a hearth binary to run instead of building one
	Log      *slog.Logger
}

// Cluster is a Hearth cluster on loopback whose every process can be
// killed, paused and started again: three clustered nats-server nodes with
// JetStream, a MinIO, gateways with --replicas 3 and runners, each in a
// process group of its own.
type Cluster struct {
	cfg      ClusterConfig
	log      *slog.Logger
	hearth   string
	nats     string
	adminKey string
	conn     []string // env of every hearth role: NATS, S3, logs

	nodes    []*natsNode
	minio    *proc
	s3URL    string
	gateways []*gatewayProc

	mu        sync.Mutex
	runners   []*proc // the live ones
	dead      []*proc // killed runners, kept for their logs
	runnerSeq int
}

type natsNode struct {
	*proc
	server  string // server_name
	client  int
	cluster int
	monitor int
}

type gatewayProc struct {
	*proc
	url string
}

// StartCluster builds the binaries and starts the cluster; it returns
// once every gateway is ready and lists every runner.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	if cfg.Gateways == 0 {
		cfg.Gateways = 2
	}
	if cfg.Runners == 0 {
		cfg.Runners = 3
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, log: cfg.Log}
	for _, d := range []string{"bin", "logs", "minio"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	if err := c.build(ctx); err != nil {
		return nil, err
	}
	if err := c.writeKeys(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	if err := c.startNATS(ctx); err != nil {
		return nil, err
	}
	if err := c.startMinIO(ctx); err != nil {
		return nil, err
	}
	for g := 1; g <= cfg.Gateways; g++ {
		if err := c.startGateway(ctx, g); err != nil {
			return nil, err
		}
	}
	for range cfg.Runners {
		if _, err := c.StartRunner(); err != nil {
			return nil, err
		}
	}
	if err := c.WaitRunners(ctx, cfg.Runners, 60*time.Second); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

func (c *Cluster) build(ctx context.Context) error {
	c.hearth = filepath.Join(c.cfg.Dir, "bin", "hearth")
	c.nats = filepath.Join(c.cfg.Dir, "bin", "nats-server")
	builds := [][2]string{{c.nats, "github.com/nats-io/nats-server/v2"}}
	if c.cfg.Hearth != "" {
		c.hearth = c.cfg.Hearth
	} else {
		builds = append(builds, [2]string{c.hearth, "./cmd/hearth"})
	}
	for _, b := range builds {
		c.log.Info("building", "binary", b[1])
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
		cmd.Dir = c.cfg.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	return nil
}

func (c *Cluster) writeKeys() error {
	c.adminKey = randomKey(36)
	secretsKey := make([]byte, 32)
	_, _ = rand.Read(secretsKey)
	files := map[string]string{
		"admin.key":     c.adminKey,
		"secrets.key":   base64.StdEncoding.EncodeToString(secretsKey),
		"s3-access-key": "hearth",
		"s3-secret-key": randomKey(24),
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(c.cfg.Dir, name), []byte(v+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func randomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func (c *Cluster) startNATS(ctx context.Context) error {
	const nodes = 3
	for i := 1; i <= nodes; i++ {
		n := &natsNode{server: fmt.Sprintf("nats-%d", i)}
		var err error
		if n.client, err = procutil.FreePort(); err != nil {
			return err
		}
		if n.cluster, err = procutil.FreePort(); err != nil {
			return err
		}
		if n.monitor, err = procutil.FreePort(); err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
	}
	var routes strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&routes, "    nats-route://127.0.0.1:%d\n", n.cluster)
	}
	for _, n := range c.nodes {
		store := filepath.Join(c.cfg.Dir, n.server)
		conf := filepath.Join(c.cfg.Dir, n.server+".conf")
		text := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
max_payload: 8MB
jetstream {
  store_dir: %q
  max_file_store: 2GB
  max_memory_store: 256MB
}
cluster {
  name: hearth-chaos
  listen: 127.0.0.1:%d
  routes: [
%s  ]
}
`, n.server, n.client, n.monitor, store, n.cluster, routes.String())
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return err
		}
		n.proc = newProc(n.server, c.cfg.Dir, c.logDir(), procutil.EnvWithout("HEARTH_"), c.nats, "-c", conf)
		if err := n.start(); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		if err := c.waitHTTP(ctx, n.proc, fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitor), 60*time.Second); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startMinIO(ctx context.Context) error {
	port, err := procutil.FreePort()
	if err != nil {
		return err
	}
	console, err := procutil.FreePort()
	if err != nil {
		return err
	}
	c.s3URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	secret, err := os.ReadFile(filepath.Join(c.cfg.Dir, "s3-secret-key"))
	if err != nil {
		return err
	}
	env := append(procutil.EnvWithout("HEARTH_"), "MINIO_ROOT_USER=hearth", "MINIO_ROOT_PASSWORD="+strings.TrimSpace(string(secret)),
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	c.minio = newProc("minio", c.cfg.Dir, c.logDir(), env, c.cfg.MinIO, "server", filepath.Join(c.cfg.Dir, "minio"),
		"--address", fmt.Sprintf("127.0.0.1:%d", port), "--console-address", fmt.Sprintf("127.0.0.1:%d", console), "--quiet")
	if err := c.minio.start(); err != nil {
		return err
	}
	return c.waitHTTP(ctx, c.minio, c.s3URL+"/minio/health/live", 60*time.Second)
}

// roleEnv is the environment of a hearth role: connection settings by
// env var (they survive changes of the flag syntax), JSON logs at debug
// level (the runners' "invocation done" lines count executions).
func (c *Cluster) roleEnv(extra ...string) []string {
	env := append(procutil.EnvWithout("HEARTH_"),
		"HEARTH_NATS_URL="+c.NATSURL(),
		"HEARTH_S3_ENDPOINT="+c.s3URL,
		"HEARTH_S3_BUCKET=hearth",
		"HEARTH_S3_ACCESS_KEY_FILE="+filepath.Join(c.cfg.Dir, "s3-access-key"),
		"HEARTH_S3_SECRET_KEY_FILE="+filepath.Join(c.cfg.Dir, "s3-secret-key"),
		"HEARTH_LOG_FORMAT=json",
		"HEARTH_LOG_LEVEL=debug",
	)
	return append(env, extra...)
}

func (c *Cluster) startGateway(ctx context.Context, g int) error {
	port, err := procutil.FreePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := c.roleEnv("HEARTH_ADMIN_KEY="+c.adminKey,
		"HEARTH_SECRETS_KEY_FILE="+filepath.Join(c.cfg.Dir, "secrets.key"),
		"HEARTH_LISTEN="+addr)
	gw := &gatewayProc{url: "http://" + addr}
	gw.proc = newProc(fmt.Sprintf("gateway-%d", g), c.cfg.Dir, c.logDir(), env, c.hearth, "gateway", "--replicas", "3")
	c.gateways = append(c.gateways, gw)
	if err := gw.start(); err != nil {
		return err
	}
	return c.waitHTTP(ctx, gw.proc, gw.url+"/readyz", 90*time.Second)
}

// StartRunner starts a runner with a new id and returns its name.
func (c *Cluster) StartRunner() (string, error) {
	c.mu.Lock()
	c.runnerSeq++
	name := fmt.Sprintf("runner-%d", c.runnerSeq)
	c.mu.Unlock()
	cache := filepath.Join(c.cfg.Dir, name, "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return "", err
	}
	p := newProc(name, c.cfg.Dir, c.logDir(), c.roleEnv("HEARTH_RUNNER_ID="+name, "HEARTH_CACHE_DIR="+cache), c.hearth, "runner")
	if err := p.start(); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.runners = append(c.runners, p)
	c.mu.Unlock()
	return name, nil
}

// KillRunner kills the i-th live runner (modulo their count) with SIGKILL
// and returns its name.
func (c *Cluster) KillRunner(i int) (string, error) {
	c.mu.Lock()
	if len(c.runners) == 0 {
		c.mu.Unlock()
		return "", errors.New("no runner to kill")
	}
	i %= len(c.runners)
	p := c.runners[i]
	c.runners = append(c.runners[:i:i], c.runners[i+1:]...)
	c.dead = append(c.dead, p)
	c.mu.Unlock()
	if err := p.signal(syscall.SIGKILL); err != nil {
		return p.name, err
	}
	if !p.wait(10 * time.Second) {
		return p.name, fmt.Errorf("%s did not die of SIGKILL in 10 s", p.name)
	}
	return p.name, nil
}

// LiveRunners returns the names of the runners not killed.
func (c *Cluster) LiveRunners() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, p := range c.runners {
		names = append(names, p.name)
	}
	return names
}

// RunnerLogs returns the log files of every runner started, killed or not.
func (c *Cluster) RunnerLogs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var files []string
	for _, p := range append(append([]*proc(nil), c.dead...), c.runners...) {
		files = append(files, p.log)
	}
	return files
}

// WaitRunners waits until every gateway lists the live runners (at least n).
func (c *Cluster) WaitRunners(ctx context.Context, n int, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		live := c.LiveRunners()
		if len(live) < n {
			return fmt.Errorf("%d live runners, want %d", len(live), n)
		}
		for _, gw := range c.gateways {
			var list struct {
				Runners []struct{ ID, State string }
			}
			if err := c.getJSON(ctx, gw.url+"/v1/runners", &list); err != nil {
				return err
			}
			ready := map[string]bool{}
			for _, r := range list.Runners {
				if r.State == "" || r.State == "ready" {
					ready[r.ID] = true
				}
			}
			for _, name := range live {
				if !ready[name] {
					return fmt.Errorf("%s does not list %s as ready", gw.name, name)
				}
			}
		}
		return nil
	})
}

// StopGateway stops gateway i (0-based) with SIGTERM and waits for it to
// exit; RestartGateway starts it again on the same address.
func (c *Cluster) StopGateway(i int, grace time.Duration) (string, bool) {
	gw := c.gateways[i]
	return gw.name, gw.stop(syscall.SIGTERM, grace)
}

// RestartGateway starts gateway i again and waits for /readyz.
func (c *Cluster) RestartGateway(ctx context.Context, i int) error {
	gw := c.gateways[i]
	if err := gw.start(); err != nil {
		return err
	}
	return c.waitHTTP(ctx, gw.proc, gw.url+"/readyz", 90*time.Second)
}

// StreamLeader returns the index of the NATS node that leads stream.
func (c *Cluster) StreamLeader(ctx context.Context, stream string) (int, error) {
	nc, err := nats.Connect(c.NATSURL(), nats.Name("hearth-chaos"), nats.Timeout(2*time.Second))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	var leader string
	err = poll(ctx, 20*time.Second, func() error {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("stream %s has no leader", stream)
		}
		leader = info.Cluster.Leader
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i, n := range c.nodes {
		if n.server == leader {
			return i, nil
		}
	}
	return 0, fmt.Errorf("stream %s is led by %q, not a node of this cluster", stream, leader)
}

// KillNATS kills node i with SIGKILL; StartNATS starts it again (same
// ports, same store) and waits until it is healthy.
func (c *Cluster) KillNATS(i int) (string, error) {
	n := c.nodes[i]
	if err := n.signal(syscall.SIGKILL); err != nil {
		return n.server, err
	}
	if !n.wait(10 * time.Second) {
		return n.server, fmt.Errorf("%s did not die of SIGKILL", n.server)
	}
	return n.server, nil
}

// StartNATS starts node i again and waits for its /healthz.
func (c *Cluster) StartNATS(ctx context.Context, i int) error {
	n := c.nodes[i]
	if err := n.start(); err != nil {
		return err
	}
	return c.waitHTTP(ctx, n.proc, fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitor), 90*time.Second)
}

// PauseMinIO stops MinIO with SIGSTOP; ResumeMinIO continues it.
func (c *Cluster) PauseMinIO() error  { return c.minio.signal(syscall.SIGSTOP) }
func (c *Cluster) ResumeMinIO() error { return c.minio.signal(syscall.SIGCONT) }

// Healthy reports nil when every gateway is ready, every process alive.
func (c *Cluster) Healthy(ctx context.Context) error {
	for _, n := range c.nodes {
		if !n.running() {
			return fmt.Errorf("%s is not running", n.server)
		}
	}
	if !c.minio.running() {
		return errors.New("minio is not running")
	}
	for _, gw := range c.gateways {
		if err := c.get(ctx, gw.url+"/readyz"); err != nil {
			return fmt.Errorf("%s: %w", gw.name, err)
		}
	}
	return nil
}

// Stop ends every process: the hearth roles first (with SIGTERM, so that
// they drain while NATS is there), then MinIO and NATS.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	stopAll := func(ps []*proc, grace time.Duration) {
		for _, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !p.stop(syscall.SIGTERM, grace) {
					c.log.Warn("killed after the grace period", "process", p.name)
				}
			}()
		}
		wg.Wait()
	}
	var roles []*proc
	for _, gw := range c.gateways {
		roles = append(roles, gw.proc)
	}
	c.mu.Lock()
	roles = append(roles, c.runners...)
	c.mu.Unlock()
	stopAll(roles, 40*time.Second)
	var infra []*proc
	if c.minio != nil {
		infra = append(infra, c.minio)
	}
	for _, n := range c.nodes {
		if n.proc != nil {
			infra = append(infra, n.proc)
		}
	}
	stopAll(infra, 20*time.Second)
}

// NATSURL is the comma-separated client URLs of the three nodes.
func (c *Cluster) NATSURL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, "nats://127.0.0.1:"+strconv.Itoa(n.client))
	}
	return strings.Join(urls, ",")
}

// GatewayURLs returns the gateways' base URLs.
func (c *Cluster) GatewayURLs() []string {
	var urls []string
	for _, gw := range c.gateways {
		urls = append(urls, gw.url)
	}
	return urls
}

// AdminKey is the bootstrap admin key of the gateways.
func (c *Cluster) AdminKey() string { return c.adminKey }

// Binaries returns the paths of the hearth and nats-server binaries.
func (c *Cluster) Binaries() (hearth, natsServer string) { return c.hearth, c.nats }

func (c *Cluster) logDir() string { return filepath.Join(c.cfg.Dir, "logs") }

// waitHTTP polls url for a 200 while p is alive.
func (c *Cluster) waitHTTP(ctx context.Context, p *proc, url string, timeout time.Duration) error {
	err := poll(ctx, timeout, func() error {
		if !p.running() {
			return errExited
		}
		return c.get(ctx, url)
	})
	if errors.Is(err, errExited) {
		return fmt.Errorf("%s exited while starting; the end of its log:\n%s", p.name, procutil.Tail(p.log, 20))
	}
	if err != nil {
		return fmt.Errorf("%s: %w (log %s)", p.name, err, p.log)
	}
	return nil
}

var errExited = errors.New("exited")

var probe = &http.Client{Timeout: 2 * time.Second}

func (c *Cluster) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.adminKey)
	resp, err := probe.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func (c *Cluster) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.adminKey)
	resp, err := probe.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return decodeJSON(resp.Body, v)
}

// poll calls check until it returns nil, ctx ends or timeout passes.
func poll(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil || errors.Is(err, errExited) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
