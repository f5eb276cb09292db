package chaos

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Config is one chaos run: the cluster, the load of each phase and the
// faults of the second.
type Config struct {
	Invocations int     `json:"invocations"` // async invocations per phase
	AsyncRate   float64 `json:"async_rps"`
	SyncRate    float64 `json:"sync_rps"`
	SyncWorkers int     `json:"sync_workers"` // sync calls in flight at most
	Gateways    int     `json:"gateways"`
	Runners     int     `json:"runners"`
	Baseline    bool    `json:"baseline"` // run the same load without faults first

	RunnerKillEvery Seconds `json:"runner_kill_every_s"` // kill -9 a runner (and start another) this often
	NATSDown        Seconds `json:"nats_down_s"`         // how long the killed NATS node stays down
	MinIOPause      Seconds `json:"minio_pause_s"`       // how long MinIO is stopped (SIGSTOP)
	GatewayGrace    Seconds `json:"gateway_grace_s"`     // SIGTERM to SIGKILL for the restarted gateway
	SyncTimeout     Seconds `json:"sync_timeout_s"`      // a sync call's answer must come within this
	SubmitPatience  Seconds `json:"submit_patience_s"`   // how long a submission is retried
	SettleTimeout   Seconds `json:"settle_timeout_s"`    // after the load, for every accepted invocation to be final
	RecoveryTimeout Seconds `json:"recovery_timeout_s"`  // after the last fault, for the cluster to be healthy

	Root   string       `json:"-"` // the module root (binaries are built from it)
	Dir    string       `json:"-"` // the cluster's data; a temp dir when ""
	MinIO  string       `json:"-"` // the MinIO binary
	Hearth string       `json:"-"` // a hearth binary to run; built from Root when ""
	Log    *slog.Logger `json:"-"`
}

// Seconds is a duration that is a number of seconds in JSON.
type Seconds time.Duration

// MarshalJSON writes the seconds.
func (s Seconds) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(s).Seconds()) }

// D is the duration.
func (s Seconds) D() time.Duration { return time.Duration(s) }

// Full is the on-demand run: 20,000 async invocations per phase.
func Full() Config {
	return Config{Invocations: 20000, AsyncRate: 100, SyncRate: 20, Baseline: true}.withDefaults()
}

// Trimmed is the run CI makes: the same faults on a shorter load.
func Trimmed() Config {
	return Config{Invocations: 1500, AsyncRate: 50, SyncRate: 10, Baseline: true}.withDefaults()
}

func (c Config) withDefaults() Config {
	def := func(p *Seconds, d time.Duration) {
		if *p == 0 {
			*p = Seconds(d)
		}
	}
	if c.Gateways == 0 {
		c.Gateways = 2
	}
	if c.Runners == 0 {
		c.Runners = 3
	}
	if c.SyncWorkers == 0 {
		c.SyncWorkers = 8
	}
	def(&c.RunnerKillEvery, 6*time.Second)
	def(&c.NATSDown, 10*time.Second)
	def(&c.MinIOPause, 5*time.Second)
	def(&c.GatewayGrace, 40*time.Second)
	def(&c.SyncTimeout, 15*time.Second) // the function's 10 s timeout, and the queue wait
	def(&c.SubmitPatience, 60*time.Second)
	def(&c.SettleTimeout, 180*time.Second)
	def(&c.RecoveryTimeout, 120*time.Second)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Run starts the cluster, deploys the test function, runs the baseline
// (if asked) and the phase with faults, and stops the cluster. The
// cluster's data and logs stay in cfg.Dir (kept if it was given).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if cfg.Invocations <= 0 || cfg.AsyncRate <= 0 || cfg.SyncRate < 0 {
		return nil, errors.New("chaos: invocations and the async rate must be positive, the sync rate not negative")
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "hearth-chaos-*")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	log := cfg.Log
	log.Info("starting the cluster", "dir", dir, "gateways", cfg.Gateways, "runners", cfg.Runners)
	cl, err := StartCluster(ctx, ClusterConfig{Root: cfg.Root, Dir: dir, MinIO: cfg.MinIO, Hearth: cfg.Hearth, Gateways: cfg.Gateways, Runners: cfg.Runners, Log: log})
	if err != nil {
		return nil, err
	}
	defer cl.Stop()
	hearthBin, natsBin := cl.Binaries()
	rep := &Report{Config: cfg, Versions: versions(cfg.Root, hearthBin, natsBin, cfg.MinIO, cfg.Hearth == "")}

	c := newClient(cl.GatewayURLs(), cl.AdminKey(), cfg.SyncTimeout.D())
	if err := deploy(ctx, c, cfg.Root); err != nil {
		return nil, err
	}
	cb, err := startCallbacks()
	if err != nil {
		return nil, err
	}
	defer cb.close()

	if cfg.Baseline {
		log.Info("baseline: the load without faults", "invocations", cfg.Invocations, "rate", cfg.AsyncRate)
		b, err := phase(ctx, cl, c, cb, cfg, "baseline", false)
		if err != nil {
			return nil, err
		}
		rep.Baseline = b
	}
	log.Info("faults: the same load with faults", "invocations", cfg.Invocations, "rate", cfg.AsyncRate)
	f, err := phase(ctx, cl, c, cb, cfg, "faults", true)
	if err != nil {
		return nil, err
	}
	rep.Result = *f
	return rep, nil
}

//go:embed testdata/slowecho.wasm
var slowEcho []byte

// deploy puts the test functions and waits until every gateway runs them.
func deploy(ctx context.Context, c *client, root string) error {
	reverse, err := os.ReadFile(filepath.Join(root, "functions", "reverse-c", "reverse.wasm"))
	if err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"application/wasm"}}
	for name, wasm := range map[string][]byte{Reverse: reverse, SlowEcho: slowEcho} {
		resp, _, err := c.do(ctx, http.MethodPut, "/v1/functions/"+name, h, wasm)
		if err != nil {
			return fmt.Errorf("deploy %s: %w", name, err)
		}
		if resp.status != http.StatusCreated {
			return fmt.Errorf("deploy %s: %d %s", name, resp.status, resp.body)
		}
	}
	return poll(ctx, 30*time.Second, func() error {
		for range c.gateways {
			for name, want := range map[string]string{Reverse: Expected("ready"), SlowEcho: "ready"} {
				resp, gw, err := c.do(ctx, http.MethodPost, "/v1/functions/"+name+"/invoke", http.Header{"Content-Type": {"text/plain"}}, []byte("ready"))
				if err != nil {
					return err
				}
				if resp.status != http.StatusOK || string(resp.body) != want {
					return fmt.Errorf("%s %s: %d %s", gw, name, resp.status, resp.body)
				}
			}
		}
		return nil
	})
}

// phase runs the load, with faults or not, and checks what came of it.
func phase(ctx context.Context, cl *Cluster, c *client, cb *callbacks, cfg Config, name string, faults bool) (*Result, error) {
	r := &Result{Phase: name, Started: time.Now().UTC(), AsyncRate: cfg.AsyncRate, SyncRate: cfg.SyncRate}
	load := time.Duration(float64(cfg.Invocations) / cfg.AsyncRate * float64(time.Second))
	began := time.Now()

	syncCtx, stopSync := context.WithCancel(ctx)
	var sst *syncStats
	var wg sync.WaitGroup
	if cfg.SyncRate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sst = syncLoad(syncCtx, c, name, cfg.SyncRate, cfg.SyncWorkers, cfg.SyncTimeout.D())
		}()
	}
	var f *faulter
	var recovered error
	if faults {
		f = &faulter{cl: cl, cfg: cfg, t0: began, log: cfg.Log}
		f.done.Add(2) // the runner killer and the sequence of the others
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.run(ctx, load)
			f.wait()
			// Recovery, under the load still running: from the end of the
			// last fault until every gateway is ready and lists every live
			// runner, and a sync call succeeds.
			recovered = poll(ctx, cfg.RecoveryTimeout.D(), func() error { return healthy(ctx, cl, c) })
			r.RecoveryS = time.Since(f.lastEnd()).Seconds()
		}()
	}
	subs := asyncLoad(ctx, c, name, cfg.Invocations, cfg.AsyncRate, cb.URL(), cfg.SubmitPatience.D())
	r.LoadS = time.Since(began).Seconds()
	cfg.Log.Info("load sent", "phase", name, "seconds", r.LoadS)
	if f != nil {
		f.wait()
	}
	stopSync()
	wg.Wait()
	if f != nil {
		r.Timeline = f.events()
		if recovered != nil {
			return nil, fmt.Errorf("the cluster did not recover: %w", recovered)
		}
	}
	if sst != nil {
		r.SyncOK, r.SyncErrors, r.SyncBad, r.SyncExamples = sst.ok, sst.errors, sst.bad, sst.examples
	}

	recs, took := settle(ctx, c, subs, cfg.SettleTimeout.D())
	r.SettleS = took.Seconds()
	runs, err := executions(cl.RunnerLogs())
	if err != nil {
		return nil, err
	}
	check(ctx, c, subs, recs, cb, runs, r)
	cfg.Log.Info("phase checked", "phase", name, "accepted", r.Accepted, "completed", r.Completed, "lost", r.Lost,
		"wrong", r.WrongResult, "duplicates", r.Duplicates, "dead", r.DeadLettered, "sync_ok", r.SyncOK)
	return r, nil
}

// healthy reports nil when every part runs, every gateway is ready and
// lists every live runner, and a sync call succeeds.
func healthy(ctx context.Context, cl *Cluster, c *client) error {
	if err := cl.Healthy(ctx); err != nil {
		return err
	}
	if err := cl.WaitRunners(ctx, len(cl.LiveRunners()), 0); err != nil {
		return err
	}
	resp, gw, err := c.do(ctx, http.MethodPost, "/v1/functions/"+Reverse+"/invoke", http.Header{"Content-Type": {"text/plain"}}, []byte("recovered"))
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK || string(resp.body) != Expected("recovered") {
		return fmt.Errorf("%s: %d %s", gw, resp.status, resp.body)
	}
	return nil
}

// faulter makes the faults of a phase and keeps their timeline.
type faulter struct {
	cl  *Cluster
	cfg Config
	t0  time.Time
	log *slog.Logger

	mu   sync.Mutex
	tl   []Event
	end  time.Time
	done sync.WaitGroup
}

func (f *faulter) note(action, target, detail string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.tl = append(f.tl, Event{AtS: now.Sub(f.t0).Seconds(), Action: action, Target: target, Detail: detail})
	f.end = now
	f.log.Info("fault", "action", action, "target", target, "detail", detail)
}

func (f *faulter) events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.tl...)
}

func (f *faulter) lastEnd() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.end
}

func (f *faulter) wait() { f.done.Wait() }

// until waits until at (on the phase's clock) or ctx's end.
func (f *faulter) until(ctx context.Context, at time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(f.t0.Add(at))):
		return true
	}
}

// run makes, within a load of length load: a runner killed with SIGKILL
// (and another started) every RunnerKillEvery; then one after another,
// the NATS node leading HEARTH_ASYNC killed with SIGKILL and started
// again after NATSDown, gateway 1 stopped with SIGTERM and started again,
// MinIO stopped with SIGSTOP for MinIOPause.
func (f *faulter) run(ctx context.Context, load time.Duration) {
	go func() {
		defer f.done.Done()
		every := f.cfg.RunnerKillEvery.D()
		for at := every; at < load-2*time.Second; at += every {
			if !f.until(ctx, at) {
				return
			}
			name, err := f.cl.KillRunner(rand.IntN(1 << 20))
			f.note("kill -9", name, errText(err))
			started, err := f.cl.StartRunner()
			f.note("start", started, errText(err))
		}
	}()
	defer f.done.Done()
	next := load / 5
	// Each fault starts at its time, or 2 s after the one before ended.
	step := func(at time.Duration, do func()) {
		if at < next {
			at = next
		}
		if !f.until(ctx, at) {
			return
		}
		do()
		next = time.Since(f.t0) + 2*time.Second
	}
	step(load/5, func() {
		i, err := f.cl.StreamLeader(ctx, "HEARTH_ASYNC")
		if err != nil {
			f.note("find leader", "HEARTH_ASYNC", err.Error())
			return
		}
		name, err := f.cl.KillNATS(i)
		f.note("kill -9", name, "leader of HEARTH_ASYNC "+errText(err))
		select {
		case <-ctx.Done():
		case <-time.After(f.cfg.NATSDown.D()):
		}
		err = f.cl.StartNATS(ctx, i)
		f.note("restart", name, "healthy "+errText(err))
	})
	step(load*2/5, func() {
		began := time.Now()
		name, clean := f.cl.StopGateway(0, f.cfg.GatewayGrace.D())
		detail := fmt.Sprintf("exited in %.1fs", time.Since(began).Seconds())
		if !clean {
			detail = "killed after the grace period"
		}
		f.note("SIGTERM", name, detail)
		err := f.cl.RestartGateway(ctx, 0)
		f.note("restart", name, "ready "+errText(err))
	})
	step(load*3/5, func() {
		err := f.cl.PauseMinIO()
		f.note("SIGSTOP", "minio", errText(err))
		select {
		case <-ctx.Done():
		case <-time.After(f.cfg.MinIOPause.D()):
		}
		err = f.cl.ResumeMinIO()
		f.note("SIGCONT", "minio", errText(err))
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
