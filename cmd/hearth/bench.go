package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/loadgen"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/runner"
)

// benchCase is one line of `hearth bench`'s table.
type benchCase struct {
	name    string
	measure string // what one operation is, for the notes under the table
	run     func(b *bencher, ctx context.Context) (benchResult, error)
}

// benchCases are the cases in the order they run. Every case does the same
// trivial work where it has work to do: reverse (or, for the C command,
// greet) a 100-byte body.
var benchCases = []benchCase{
	{"bare-nethttp", "POST of the body to a plain net/http server on loopback that reverses it natively: the ceiling", (*bencher).bareNetHTTP},
	{"wazero-inprocess", "hearth_handle call of the reverse-c reactor (C, 14 KB) on a pooled wazero instance in this process, no network; the runner's wazero settings", wazeroInProcess("reverse-c")},
	{"wazero-inprocess-go", "the same with the Go reverse reactor (2.2 MB, built with sdk/guest)", wazeroInProcess("reverse")},
	{"hearth-warm-reactor", "POST /v1/functions/reverse-c/invoke: gateway → runner in the same process (`hearth dev`) → pooled reverse-c reactor (C) → back", warmReactor("reverse-c", false)},
	{"hearth-warm-reactor-go", "the same with the Go reverse reactor", warmReactor("reverse", false)},
	{"hearth-warm-reactor-nats", "POST /v1/functions/reverse-c/invoke on a gateway that sends every call through NATS (gateway → NATS → runner → NATS → gateway), as when the gateway and the runners run apart", warmReactor("reverse-c", true)},
	{"hearth-warm-command", "POST /v1/functions/hello/invoke: the C hello command, a fresh instance per call (its compiled code is warm)", (*bencher).warmCommand},
	{"cold-start-c", "first call of the just-deployed C hello (31 KB) on a runner in service that never ran it (a new engine with an empty disk cache that has loaded another module): fetch from S3, compile, run; req/s = 1/mean", coldStart("hello", false)},
	{"cold-start-go", "first call of the just-deployed Go echo command (2.5 MB), same; req/s = 1/mean", coldStart("echo", false)},
	{"cold-start-go-shared-cache", "the same, after another runner compiled echo and shared its compiled code through S3; req/s = 1/mean", coldStart("echo", true)},
	{"async-accept", "POST with Prefer: respond-async to hello, answered 202 once stored in JetStream (file storage); dispatcher off", (*bencher).asyncAccept},
	{"async-e2e", "async hello invocations queued for half the duration, counted until hearth_async_finished_total reaches them: completions/s", (*bencher).asyncEndToEnd},
	{"scheduler-1000", "scheduler.Place among 1,000 simulated runners (hashing strategy), in process", (*bencher).scheduler1000},
}

// benchConfig is what `hearth bench` was asked to do.
type benchConfig struct {
	Duration    time.Duration
	Concurrency int
	Cases       []string
	JSON        string
	CPUProfile  string // hidden: a CPU profile of ProfileCase
	ProfileCase string // hidden
}

// benchResult is one case's measurements, as written to the JSON file.
type benchResult struct {
	Name  string   `json:"name"`
	RPS   float64  `json:"rps"`
	P50   *float64 `json:"p50_us"` // null where there is no per-operation latency
	P99   *float64 `json:"p99_us"`
	Ratio *float64 `json:"ratio"` // rps / rps of bare-nethttp; null without it
	Mean  *float64 `json:"mean_us,omitempty"`
	Ops   int64    `json:"ops"`
	// Errors are operations that failed (counted, not timed).
	Errors int64 `json:"errors"`
	// CPUPerOp is the whole process's CPU time per operation: server and
	// load generator (and, for hearth cases, NATS and S3) together.
	CPUPerOp *float64 `json:"cpu_us_per_op,omitempty"`
	// ServerCPUPerOp is CPUPerOp less the load generator's share, told
	// apart by a CPU profile of the case (HTTP cases): the server's CPU
	// per request, ±3 % (profile sampling).
	ServerCPUPerOp *float64 `json:"server_cpu_us_per_op,omitempty"`
	// CPUCores is the process's CPU time per second of the measured period:
	// how many cores the case kept busy. Below GOMAXPROCS, the case was
	// bound by latency, or other processes took the CPUs (see Load1).
	CPUCores *float64 `json:"cpu_cores,omitempty"`
	// Load1 is the system's one-minute load average when the case ended;
	// on a shared machine it shows other work competing for the CPUs.
	Load1   *float64 `json:"load1,omitempty"`
	Measure string   `json:"measure"`
	Note    string   `json:"note,omitempty"`
	Failed  string   `json:"failed,omitempty"`
}

// benchReport is the JSON file.
type benchReport struct {
	Date        string        `json:"date"`
	GoVersion   string        `json:"go_version"`
	OS          string        `json:"os"`
	Arch        string        `json:"arch"`
	CPU         string        `json:"cpu,omitempty"`
	NumCPU      int           `json:"num_cpu"`
	GOMAXPROCS  int           `json:"gomaxprocs"`
	Wazero      string        `json:"wazero,omitempty"`
	Revision    string        `json:"revision,omitempty"`
	Concurrency int           `json:"concurrency"`
	Duration    string        `json:"duration"`
	BodyBytes   int           `json:"body_bytes"`
	Cases       []benchResult `json:"cases"`
}

const benchSynopsis = "[--duration 5s] [--concurrency 32] [--json FILE] [--cases a,b,…]"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr, benchSynopsis)
	var cfg benchConfig
	var cases string
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time of each case (after a warm-up of a fifth of it, at most 1 s)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight at once (closed loop)")
	fs.StringVar(&cfg.JSON, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&cases, "cases", "", "comma-separated cases to run (default all): "+strings.Join(benchCaseNames(), ", "))
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of one case's measured period to `FILE`")
	fs.StringVar(&cfg.ProfileCase, "profile-case", "hearth-warm-reactor", "the case --cpuprofile profiles")
	hidden := map[string]bool{"cpuprofile": true, "profile-case": true}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hearth bench %s\n\nRuns every case on loopback in this process with one load generator and prints\na markdown table: req/s, p50 and p99 latency, and the ratio to bare-nethttp.\n\nflags:\n", benchSynopsis)
		fs.VisitAll(func(f *flag.Flag) {
			if hidden[f.Name] {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usagef("unexpected argument %q; usage: hearth bench %s", positional[0], benchSynopsis)
	}
	if cfg.Duration <= 0 {
		return usagef("--duration %s: give a positive duration such as 5s", cfg.Duration)
	}
	if cfg.Concurrency < 1 {
		return usagef("--concurrency %d: give at least 1", cfg.Concurrency)
	}
	if cfg.Cases, err = parseBenchCases(cases); err != nil {
		return err
	}
	if cfg.CPUProfile != "" && !slices.Contains(cfg.Cases, cfg.ProfileCase) {
		return usagef("--cpuprofile profiles case %q, which is not among the cases run", cfg.ProfileCase)
	}

	bar := &progressBar{w: stderr}
	log := slog.New(slog.NewTextHandler(bar, &slog.HandlerOptions{Level: slog.LevelWarn}))
	report, err := runBenchCases(ctx, cfg, bar, log)
	if err != nil {
		return err
	}
	if err := writeBenchMarkdown(stdout, report); err != nil {
		return err
	}
	if cfg.JSON != "" {
		if err := writeBenchJSON(cfg.JSON, report); err != nil {
			return err
		}
	}
	var failed []string
	for _, c := range report.Cases {
		if c.Failed != "" {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d case(s) failed: %s (see the table and the log above)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

func benchCaseNames() []string {
	names := make([]string, len(benchCases))
	for i, c := range benchCases {
		names[i] = c.name
	}
	return names
}

// parseBenchCases checks a --cases list and returns the names in run order.
func parseBenchCases(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return benchCaseNames(), nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(benchCaseNames(), name) {
			return nil, usagef("--cases: unknown case %q; the cases are %s", name, strings.Join(benchCaseNames(), ", "))
		}
		want[name] = true
	}
	var names []string
	for _, c := range benchCases {
		if want[c.name] {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		return nil, usagef("--cases: no case named; the cases are %s", strings.Join(benchCaseNames(), ", "))
	}
	return names, nil
}

// runBenchCases runs the chosen cases one after the other and collects
// their results; a case that fails is reported as failed, and the others
// still run.
func runBenchCases(ctx context.Context, cfg benchConfig, bar *progressBar, log *slog.Logger) (*benchReport, error) {
	dataDir, err := os.MkdirTemp("", "hearth-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary data directory: %w", err)
	}
	b := &bencher{cfg: cfg, log: log, bar: bar, dataDir: dataDir, body: bytes.Repeat([]byte("0123456789"), 10)}
	defer func() {
		bar.status("stopping…")
		b.close()
		bar.clear()
		if err := os.RemoveAll(dataDir); err != nil {
			log.Warn("could not remove the temporary data directory", "dir", dataDir, "error", err)
		}
	}()

	report := &benchReport{
		Date:        time.Now().UTC().Format(time.RFC3339),
		GoVersion:   runtime.Version(),
		OS:          runtime.GOOS,
		Arch:        runtime.GOARCH,
		CPU:         cpuModel(),
		NumCPU:      runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		Concurrency: cfg.Concurrency,
		Duration:    cfg.Duration.String(),
		BodyBytes:   len(b.body),
	}
	report.Wazero, report.Revision = buildVersions()

	for i, name := range cfg.Cases {
		c := benchCaseByName(name)
		bar.begin(i+1, len(cfg.Cases), name)
		b.current = name
		res, err := c.run(b, ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted during %s: %w", name, context.Cause(ctx))
		}
		res.Name, res.Measure = name, c.measure
		res.Load1 = loadAverage()
		if err != nil {
			log.Error("case failed", "case", name, "error", err)
			res.Failed = err.Error()
		}
		report.Cases = append(report.Cases, res)
		bar.done(res)
	}
	if base := benchFind(report.Cases, "bare-nethttp"); base != nil && base.Failed == "" && base.RPS > 0 {
		baseRPS := base.RPS
		for i := range report.Cases {
			if report.Cases[i].Failed == "" {
				report.Cases[i].Ratio = ptr(report.Cases[i].RPS / baseRPS)
			}
		}
	}
	return report, nil
}

func benchCaseByName(name string) benchCase {
	for _, c := range benchCases {
		if c.name == name {
			return c
		}
	}
	panic("no bench case " + name)
}

func benchFind(cases []benchResult, name string) *benchResult {
	for i := range cases {
		if cases[i].Name == name {
			return &cases[i]
		}
	}
	return nil
}

// bencher holds what the cases share: the configuration, the body, and the
// platform, started the first time a case needs it.
type bencher struct {
	cfg     benchConfig
	log     *slog.Logger
	bar     *progressBar
	dataDir string
	body    []byte
	dev     *stack.Stack // gateway, runner, NATS, S3 and the examples; dispatcher on
	natsURL string       // a second gateway on dev that sends every call through NATS
	current string       // the case running
}

func (b *bencher) close() {
	if b.dev != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := b.dev.Close(ctx); err != nil {
			b.log.Warn("stopping the platform", "error", err)
		}
		b.dev = nil
	}
}

// platform returns the running platform, starting it on first use.
func (b *bencher) platform(ctx context.Context) (*stack.Stack, error) {
	if b.dev != nil {
		return b.dev, nil
	}
	b.bar.status("starting the platform (NATS, S3, gateway, runner; deploying the examples)…")
	s, err := b.startPlatform(ctx, "dev", gateway.Config{})
	if err != nil {
		return nil, err
	}
	b.dev = s
	return s, nil
}

// natsGateway starts, on first use, a second gateway on the platform's
// NATS, registry and store that sends every call through NATS even to the
// runner in this process (gateway.Config.NoLocal), and returns its URL.
func (b *bencher) natsGateway(ctx context.Context, s *stack.Stack) (string, error) {
	if b.natsURL == "" {
		url, err := s.StartExtraGateway(ctx, gateway.Config{NoLocal: true, NoDispatcher: true, NoTriggers: true})
		if err != nil {
			return "", err
		}
		b.natsURL = url
	}
	return b.natsURL, nil
}

// startPlatform starts `hearth dev` on random loopback ports in a
// directory of its own.
func (b *bencher) startPlatform(ctx context.Context, dir string, gw gateway.Config) (*stack.Stack, error) {
	return stack.StartDev(ctx, stack.DevConfig{
		DataDir:    filepath.Join(b.dataDir, dir),
		Listen:     "127.0.0.1:0",
		NATSListen: "127.0.0.1:0",
		S3Listen:   "127.0.0.1:0",
		Log:        b.log,
		Gateway:    gw,
	})
}

// load runs the load generator with the bench's concurrency and duration
// (unless cfg sets them), a warm-up and the progress bar. With split, a CPU
// profile of the measured period tells the load generator's share of the
// process's CPU apart (its share; NaN without split); --cpuprofile writes
// the profile of its case to a file.
func (b *bencher) load(ctx context.Context, cfg loadgen.Config, op loadgen.Op) (*loadgen.Result, error) {
	res, _, err := b.loadSplit(ctx, cfg, op, false)
	return res, err
}

func (b *bencher) loadSplit(ctx context.Context, cfg loadgen.Config, op loadgen.Op, split bool) (*loadgen.Result, float64, error) {
	name := b.current
	share := math.NaN()
	if cfg.Concurrency == 0 {
		cfg.Concurrency = b.cfg.Concurrency
	}
	if cfg.Duration == 0 {
		cfg.Duration = b.cfg.Duration
	}
	cfg.Progress = b.bar.update
	toFile := b.cfg.CPUProfile != "" && name == b.cfg.ProfileCase
	var prof bytes.Buffer
	profiling := false
	if split || toFile {
		var once sync.Once
		cfg.OnMeasure = func() {
			once.Do(func() {
				if err := pprof.StartCPUProfile(&prof); err != nil {
					b.log.Error("CPU profile", "error", err)
					return
				}
				profiling = true
			})
		}
		defer func() {
			if profiling {
				pprof.StopCPUProfile()
			}
		}()
	}
	res, err := loadgen.Run(ctx, cfg, op)
	if err != nil {
		return nil, share, err
	}
	if profiling {
		pprof.StopCPUProfile()
		profiling = false
		if toFile {
			if err := os.WriteFile(b.cfg.CPUProfile, prof.Bytes(), 0o644); err != nil {
				return nil, share, fmt.Errorf("--cpuprofile: %w", err)
			}
		}
		if split {
			if share, err = clientShare(prof.Bytes()); err != nil {
				b.log.Warn("could not tell the load generator's CPU apart", "case", name, "error", err)
				share = math.NaN()
			}
		}
	}
	if res.Errors > 0 {
		b.log.Warn("some operations failed", "case", name, "failed", res.Errors, "succeeded", res.Ops, "first_error", res.FirstErr)
	}
	if res.Ops == 0 {
		if res.FirstErr != nil {
			return res, share, fmt.Errorf("every operation failed: %w", res.FirstErr)
		}
		return res, share, errors.New("no operation completed")
	}
	return res, share, nil
}

// warmup is the unrecorded start of a throughput case.
func (b *bencher) warmup() time.Duration {
	return min(max(b.cfg.Duration/5, 50*time.Millisecond), time.Second)
}

// throughput turns a load generator result into a table line.
func throughput(res *loadgen.Result) benchResult {
	r := benchResult{RPS: res.Rate(), Ops: res.Ops, Errors: res.Errors}
	if res.Latency.Count() > 0 {
		r.P50, r.P99, r.Mean = ptr(micros(res.Latency.Quantile(0.50))), ptr(micros(res.Latency.Quantile(0.99))), ptr(micros(res.Latency.Mean()))
	}
	if res.CPU > 0 && res.Ops > 0 {
		r.CPUPerOp = ptr(micros(res.CPUPerOp()))
	}
	if res.CPU > 0 && res.Elapsed > 0 {
		r.CPUCores = ptr(math.Round(100*res.CPU.Seconds()/res.Elapsed.Seconds()) / 100)
	}
	return r
}

// clientShare is the share of a CPU profile's samples that the load
// generator took: those labeled loadgen=worker.
func clientShare(data []byte) (float64, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return 0, err
	}
	cpu := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			cpu = i
		}
	}
	if cpu < 0 {
		return 0, errors.New("the profile has no cpu samples")
	}
	var all, client int64
	for _, sample := range p.Sample {
		v := sample.Value[cpu]
		all += v
		if slices.Contains(sample.Label["loadgen"], "worker") {
			client += v
		}
	}
	if all == 0 {
		return 0, errors.New("the profile is empty")
	}
	return float64(client) / float64(all), nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func ptr[T any](v T) *T { return &v }

// reversed is what the reverse example answers to body.
func reversed(body []byte) []byte {
	out := make([]byte, len(body))
	for i, c := range body {
		out[len(out)-1-i] = c
	}
	return out
}

// benchClient is an HTTP client that keeps a connection per worker.
func benchClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		DisableCompression:  true,
	}}
}

// httpLoad posts the body to url at the bench's concurrency, checks each
// answer's status and body, and tells the server's CPU per request from
// the load generator's (a CPU profile of the measured period).
func (b *bencher) httpLoad(ctx context.Context, url string, header http.Header, wantStatus int, want []byte) (benchResult, error) {
	client := benchClient(b.cfg.Concurrency)
	defer client.CloseIdleConnections()
	res, share, err := b.loadSplit(ctx, loadgen.Config{Warmup: b.warmup()}, func(ctx context.Context, w *loadgen.Worker) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != wantStatus {
			return fmt.Errorf("status %d, want %d: %.200s", resp.StatusCode, wantStatus, body)
		}
		if want != nil && !bytes.Equal(body, want) {
			return fmt.Errorf("answer %.100q, want %.100q", body, want)
		}
		return nil
	}, true)
	if err != nil {
		return benchResult{}, err
	}
	r := throughput(res)
	if r.CPUPerOp != nil && !math.IsNaN(share) {
		r.ServerCPUPerOp = ptr(math.Round(10**r.CPUPerOp*(1-share)) / 10)
	}
	return r, nil
}

func (b *bencher) bareNetHTTP(ctx context.Context) (benchResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return benchResult{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(reversed(body))
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	return b.httpLoad(ctx, "http://"+ln.Addr().String()+"/", nil, http.StatusOK, reversed(b.body))
}

// reactorInstance is one instance of a reactor module, called through the
// reactor ABI directly (docs/abi.md).
type reactorInstance struct {
	mod          api.Module
	handle       api.Function
	input, inCap uint32
}

func newReactorInstance(ctx context.Context, rt wazero.Runtime, compiled wazero.CompiledModule) (*reactorInstance, error) {
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader).WithStartFunctions())
	if err != nil {
		return nil, err
	}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if _, err := init.Call(ctx); err != nil {
			return nil, fmt.Errorf("_initialize: %w", err)
		}
	}
	alloc, handle := mod.ExportedFunction(runner.ReactorAlloc), mod.ExportedFunction(runner.ReactorHandle)
	if alloc == nil || handle == nil {
		return nil, errors.New("not a reactor")
	}
	const size = 4096
	res, err := alloc.Call(ctx, size)
	if err != nil {
		return nil, err
	}
	return &reactorInstance{mod: mod, handle: handle, input: uint32(res[0]), inCap: size}, nil
}

// call passes meta and body to hearth_handle and returns a copy of the
// output.
func (r *reactorInstance) call(ctx context.Context, meta, body []byte) ([]byte, error) {
	if uint32(len(meta)+len(body)) > r.inCap {
		return nil, errors.New("input larger than the instance's buffer")
	}
	mem := r.mod.Memory()
	metaPtr, bodyPtr := r.input, r.input+uint32(len(meta))
	if !mem.Write(metaPtr, meta) || !mem.Write(bodyPtr, body) {
		return nil, errors.New("input buffer outside memory")
	}
	res, err := r.handle.Call(ctx, uint64(metaPtr), uint64(len(meta)), uint64(bodyPtr), uint64(len(body)))
	if err != nil {
		return nil, err
	}
	ptr, n := uint32(res[0]>>32), uint32(res[0])
	out, ok := mem.Read(ptr, n)
	if !ok {
		return nil, errors.New("output outside memory")
	}
	return bytes.Clone(out), nil
}

// wazeroInProcess measures pooled reactor calls of an example in this
// process, without a network.
func wazeroInProcess(example string) func(b *bencher, ctx context.Context) (benchResult, error) {
	return func(b *bencher, ctx context.Context) (benchResult, error) {
		return b.wazeroInProcess(ctx, example)
	}
}

func (b *bencher) wazeroInProcess(ctx context.Context, example string) (benchResult, error) {
	// The runner's wazero settings: compiler, memory limit, and
	// WithCloseOnContextDone, which lets a deadline stop a running guest.
	rt := wazero.NewRuntimeWithConfig(ctx, runner.RuntimeConfig(nil, runner.DefaultMemoryMB))
	defer rt.Close(context.Background())
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, benchExample(example))
	if err != nil {
		return benchResult{}, err
	}
	// A pool of instances: one per worker, made on its first call (during
	// the warm-up), as the runner's pool grows to the calls in flight.
	pool := make([]*reactorInstance, b.cfg.Concurrency)
	meta := []byte("POST /\nContent-Type: application/octet-stream\n")
	want := reversed(b.body)
	res, err := b.load(ctx, loadgen.Config{Warmup: b.warmup()}, func(ctx context.Context, w *loadgen.Worker) error {
		inst := pool[w.ID]
		if inst == nil {
			w.StopTimer()
			var err error
			if inst, err = newReactorInstance(ctx, rt, compiled); err != nil {
				return err
			}
			pool[w.ID] = inst
			w.StartTimer()
		}
		// A deadline per call, as the runner sets one.
		cctx, cancel := context.WithTimeout(ctx, runner.DefaultTimeout)
		out, err := inst.call(cctx, meta, b.body)
		cancel()
		if err != nil { // a trapped instance is not reused
			_ = inst.mod.Close(context.Background())
			pool[w.ID] = nil
			return err
		}
		if got := runner.ParseCGI(out).Body; !bytes.Equal(got, want) {
			return fmt.Errorf("answer %.100q, want %.100q", got, want)
		}
		return nil
	})
	if err != nil {
		return benchResult{}, err
	}
	r := throughput(res)
	r.Note = "wazero with WithCloseOnContextDone(true) and a deadline per call, as in the runner"
	return r, nil
}

// warmReactor measures warm sync calls of a reactor example through the
// gateway; with viaNATS, on a gateway that sends every call through NATS
// even to the runner in its own process.
func warmReactor(example string, viaNATS bool) func(b *bencher, ctx context.Context) (benchResult, error) {
	return func(b *bencher, ctx context.Context) (benchResult, error) {
		s, err := b.platform(ctx)
		if err != nil {
			return benchResult{}, err
		}
		url := s.GatewayURL
		if viaNATS {
			if url, err = b.natsGateway(ctx, s); err != nil {
				return benchResult{}, err
			}
		}
		return b.syncLoad(ctx, url, url+"/v1/functions/"+example+"/invoke", reversed(b.body))
	}
}

// syncLoad measures sync calls of url on the gateway at base, and notes
// whether every call's record was written.
func (b *bencher) syncLoad(ctx context.Context, base, url string, want []byte) (benchResult, error) {
	before, err := recordsDropped(ctx, base)
	if err != nil {
		return benchResult{}, err
	}
	r, err := b.httpLoad(ctx, url, nil, http.StatusOK, want)
	if err != nil {
		return benchResult{}, err
	}
	after, err := recordsDropped(ctx, base)
	if err != nil {
		return benchResult{}, err
	}
	r.Note = fmt.Sprintf("invocation records dropped by the gateway's writer: %.0f", after-before)
	return r, nil
}

func (b *bencher) warmCommand(ctx context.Context) (benchResult, error) {
	s, err := b.platform(ctx)
	if err != nil {
		return benchResult{}, err
	}
	want := []byte("Hello, " + string(b.body) + "!\n")
	return b.syncLoad(ctx, s.GatewayURL, s.GatewayURL+"/v1/functions/hello/invoke", want)
}

// coldStart measures the first call of a deployed module on a new engine
// whose disk cache is empty and which has loaded another module, as on a
// runner in service that never ran it; with
// shared, another runner has compiled the module and shared its compiled
// code through S3 first.
func coldStart(example string, shared bool) func(b *bencher, ctx context.Context) (benchResult, error) {
	return func(b *bencher, ctx context.Context) (benchResult, error) {
		s, err := b.platform(ctx)
		if err != nil {
			return benchResult{}, err
		}
		req := exampleRequest(example, wire.ABICommand)
		otherReq := exampleRequest("reverse-c", wire.ABIReactor)
		var setUp loadgen.Histogram
		// newEngine makes the engine of a runner in service that never ran
		// example: it has loaded another module, so its wazero runtimes
		// and WASI module exist, as on any runner after its first call.
		newEngine := func() (*runner.Engine, string, error) {
			dir, err := os.MkdirTemp(b.dataDir, "cold-")
			if err != nil {
				return nil, "", err
			}
			e, err := runner.NewEngineWithCacheDir(s.Store, dir, shared, b.log)
			if err != nil {
				os.RemoveAll(dir)
				return nil, "", err
			}
			start := time.Now()
			if _, err := e.Prewarm(ctx, otherReq, 0); err != nil {
				_ = e.Close(context.Background())
				os.RemoveAll(dir)
				return nil, "", fmt.Errorf("load reverse-c first: %w", err)
			}
			setUp.Record(time.Since(start))
			return e, dir, nil
		}
		closeEngine := func(e *runner.Engine, dir string) {
			_ = e.Close(context.Background())
			_ = os.RemoveAll(dir)
		}
		if shared { // another runner compiles the module and shares it
			b.bar.status("compiling " + example + " on a first runner, which shares the compiled code…")
			e, dir, err := newEngine()
			if err != nil {
				return benchResult{}, err
			}
			res := e.Run(ctx, req, b.body, runner.DefaultOutputLimit)
			if res.Err == nil && res.Interpreted {
				// Tiered start: the compiled code, and its upload, come
				// from the background; Prewarm waits for them.
				_, err = e.Prewarm(ctx, req, 0)
			}
			closeEngine(e, dir)
			if res.Err != nil {
				return benchResult{}, fmt.Errorf("first runner: %s", res.Err.Message)
			}
			if err != nil {
				return benchResult{}, fmt.Errorf("first runner: %w", err)
			}
		}
		var init loadgen.Histogram // the runner's Init: fetch and compile (one worker: no lock)
		res, err := b.load(ctx, loadgen.Config{Concurrency: 1, MinOps: 3, MaxOps: 1000}, func(ctx context.Context, w *loadgen.Worker) error {
			w.StopTimer()
			e, dir, err := newEngine()
			if err != nil {
				return err
			}
			defer closeEngine(e, dir)
			w.StartTimer()
			res := e.Run(ctx, req, b.body, runner.DefaultOutputLimit)
			w.StopTimer()
			if res.Err != nil {
				return fmt.Errorf("%s: %s", res.Err.Code, res.Err.Message)
			}
			if !res.Cold {
				return errors.New("the call was not cold")
			}
			init.Record(res.Init)
			return nil
		})
		if err != nil {
			return benchResult{}, err
		}
		r := throughput(res)
		r.CPUPerOp, r.CPUCores = nil, nil // the clean-up between repetitions would count
		r.RPS = 1 / res.Latency.Mean().Seconds()
		r.Note = fmt.Sprintf("%d repetitions; of which fetch and compile (the runner's init time) p50 %.1f ms, the rest instantiation and the run. Not timed: the new runner's first load (its wazero runtimes and WASI module, and the 14 KB reverse-c) before each repetition, p50 %.1f ms",
			res.Ops, micros(init.Quantile(0.5))/1000, micros(setUp.Quantile(0.5))/1000)
		return r, nil
	}
}

func (b *bencher) asyncAccept(ctx context.Context) (benchResult, error) {
	b.bar.status("starting a second platform with the async dispatcher off…")
	s, err := b.startPlatform(ctx, "accept", gateway.Config{NoDispatcher: true})
	if err != nil {
		return benchResult{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := s.Close(cctx); err != nil {
			b.log.Warn("stopping the second platform", "error", err)
		}
	}()
	header := http.Header{"Prefer": {"respond-async"}}
	return b.httpLoad(ctx, s.GatewayURL+"/v1/functions/hello/invoke", header, http.StatusAccepted, nil)
}

func (b *bencher) asyncEndToEnd(ctx context.Context) (benchResult, error) {
	s, err := b.platform(ctx)
	if err != nil {
		return benchResult{}, err
	}
	client := benchClient(b.cfg.Concurrency)
	defer client.CloseIdleConnections()
	before, deadBefore, err := asyncFinished(ctx, client, s.GatewayURL, "hello")
	if err != nil {
		return benchResult{}, err
	}
	url := s.GatewayURL + "/v1/functions/hello/invoke?async=true"
	cpuStart, start := loadgen.ProcessCPU(), time.Now()
	res, err := b.load(ctx, loadgen.Config{Duration: max(b.cfg.Duration/2, time.Millisecond)}, func(ctx context.Context, w *loadgen.Worker) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d, want 202", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		return benchResult{}, err
	}
	queued := float64(res.Ops)
	// Wait for the dispatchers to finish them all (or give up).
	deadline := time.Now().Add(max(10*b.cfg.Duration, time.Minute))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var finished, dead float64
	for {
		total, d, err := asyncFinished(ctx, client, s.GatewayURL, "hello")
		if err != nil {
			return benchResult{}, err
		}
		finished, dead = total-before, d-deadBefore
		b.bar.update(loadgen.Progress{Elapsed: time.Since(start), Ops: int64(finished)})
		if finished >= queued {
			break
		}
		if time.Now().After(deadline) {
			b.log.Warn("async invocations still unfinished; reporting those done", "queued", queued, "finished", finished)
			break
		}
		select {
		case <-ctx.Done():
			return benchResult{}, ctx.Err()
		case <-tick.C:
		}
	}
	elapsed := time.Since(start)
	cpu := loadgen.ProcessCPU() - cpuStart
	succeeded := finished - dead
	r := benchResult{RPS: succeeded / elapsed.Seconds(), Ops: int64(succeeded), Errors: int64(dead) + res.Errors}
	if cpu > 0 && succeeded > 0 {
		r.CPUPerOp = ptr(micros(time.Duration(float64(cpu) / succeeded)))
		r.CPUCores = ptr(math.Round(100*cpu.Seconds()/elapsed.Seconds()) / 100)
	}
	r.Note = fmt.Sprintf("%d queued in %s at c=%d, %.0f finished %s after the first was queued, %.0f of them dead-lettered; no per-call latency",
		res.Ops, res.Elapsed.Round(time.Millisecond), b.cfg.Concurrency, finished, elapsed.Round(time.Millisecond), dead)
	if dead > 0 {
		b.log.Warn("async invocations were dead-lettered", "case", b.current, "dead", dead, "finished", finished)
	}
	return r, nil
}

// asyncFinished reads hearth_async_finished_total of a function from the
// gateway's metrics: all final statuses, and the dead ones.
func asyncFinished(ctx context.Context, client *http.Client, base, function string) (total, dead float64, err error) {
	err = scrapeMetrics(ctx, client, base, "hearth_async_finished_total{", func(line string, v float64) {
		if strings.Contains(line, `function="`+function+`"`) {
			total += v
			if strings.Contains(line, `status="dead"`) {
				dead += v
			}
		}
	})
	return total, dead, err
}

// recordsDropped reads hearth_records_dropped_total from the gateway's
// metrics: sync records the background writer could not keep up with.
func recordsDropped(ctx context.Context, base string) (dropped float64, err error) {
	err = scrapeMetrics(ctx, http.DefaultClient, base, "hearth_records_dropped_total", func(_ string, v float64) { dropped += v })
	return dropped, err
}

// scrapeMetrics calls sample for every sample of the gateway's /metrics
// whose line starts with prefix.
func scrapeMetrics(ctx context.Context, client *http.Client, base, prefix string, sample func(line string, v float64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return fmt.Errorf("metrics: %q: %w", line, err)
		}
		sample(line, v)
	}
	return sc.Err()
}

func (b *bencher) scheduler1000(ctx context.Context) (benchResult, error) {
	const runners = 1000
	now := time.Now()
	table := scheduler.NewTable(time.Second)
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for i := range runners {
		var warm []wire.WarmModule
		for range 5 {
			warm = append(warm, wire.WarmModule{Digest: fmt.Sprintf("m%d", rng.IntN(5000)), Idle: rng.IntN(2)})
		}
		table.Observe(wire.Heartbeat{ID: fmt.Sprintf("r%04d", i), State: wire.StateReady, Capacity: 64, InFlight: rng.IntN(32), Warm: warm, Time: now}, now)
	}
	sched := scheduler.New(table, scheduler.Config{})
	digests := make([]string, 1024)
	for i := range digests {
		digests[i] = fmt.Sprintf("m%d", rng.IntN(10000))
	}
	res, err := b.load(ctx, loadgen.Config{Warmup: b.warmup()}, func(ctx context.Context, w *loadgen.Worker) error {
		_, err := sched.Place(scheduler.Request{Digest: digests[(w.ID*131+w.Iter)%len(digests)]}, nil)
		return err
	})
	if err != nil {
		return benchResult{}, err
	}
	r := throughput(res)
	r.Note = "1,000 runners, 5 warm modules each, loads 0–31 of 64; 1,024 module digests"
	return r, nil
}

// exampleRequest is a POST of a deployed example (version 1) as a runner
// gets it.
func exampleRequest(name, abi string) *wire.Request {
	return &wire.Request{Namespace: registry.DefaultNamespace, Function: name, Version: 1,
		Digest: strings.TrimPrefix(registry.DigestOf(benchExample(name)), "sha256:"), ABI: abi, Method: http.MethodPost, Path: "/"}
}

func benchExample(name string) []byte {
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	panic("no example " + name)
}

// loadAverage is the one-minute load average, where the system says it.
func loadAverage() *float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	field, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(field, 64)
	if err != nil {
		return nil
	}
	return &v
}

// cpuModel is the processor's name, where the system says it.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// buildVersions are wazero's version and the source revision, where the
// build recorded them.
func buildVersions() (wazeroVersion, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/tetratelabs/wazero" {
			wazeroVersion = dep.Version
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return wazeroVersion, revision
}

// writeBenchMarkdown prints the table, the CPU comparison and the notes.
func writeBenchMarkdown(w io.Writer, r *benchReport) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "| case | req/s | p50 µs | p99 µs | ratio to bare-nethttp | CPU µs/op (process) | CPU µs/op (server) | cores busy | load avg |\n")
	fmt.Fprintf(&buf, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range r.Cases {
		if c.Failed != "" {
			fmt.Fprintf(&buf, "| %s | failed: %s | | | | | | | |\n", c.Name, strings.ReplaceAll(strings.SplitN(c.Failed, "\n", 2)[0], "|", "\\|"))
			continue
		}
		fmt.Fprintf(&buf, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Name, formatRate(c.RPS), formatOpt(c.P50, 0), formatOpt(c.P99, 0),
			formatRatio(c.Ratio), formatOpt(c.CPUPerOp, 1), formatOpt(c.ServerCPUPerOp, 1), formatFixed(c.CPUCores, 2), formatFixed(c.Load1, 2))
	}
	fmt.Fprintf(&buf, "\n%s, %s/%s, %d CPUs (GOMAXPROCS %d)%s; concurrency %d, %s per case, %d-byte body; wazero %s; %s.\n",
		r.GoVersion, r.OS, r.Arch, r.NumCPU, r.GOMAXPROCS, orEmpty(", "+r.CPU, r.CPU != ""), r.Concurrency, r.Duration, r.BodyBytes, orEmpty(r.Wazero, r.Wazero != ""), r.Date)

	base := benchFind(r.Cases, "bare-nethttp")
	if base != nil && base.CPUPerOp != nil {
		var lines []string
		for _, name := range []string{"hearth-warm-reactor", "hearth-warm-command"} {
			if c := benchFind(r.Cases, name); c != nil && c.CPUPerOp != nil {
				lines = append(lines, fmt.Sprintf("%s %.1f µs (%.1f× bare, +%.1f µs)", name, *c.CPUPerOp, *c.CPUPerOp / *base.CPUPerOp, *c.CPUPerOp-*base.CPUPerOp))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&buf, "\nCPU per request, whole process (load generator, HTTP client and server, NATS, runner): bare-nethttp %.1f µs; %s. The client's share is the same in every HTTP case, so the difference is what Hearth adds.\n", *base.CPUPerOp, strings.Join(lines, "; "))
		}
	}
	if base != nil && base.ServerCPUPerOp != nil {
		var lines []string
		for _, c := range r.Cases {
			if c.Name != base.Name && c.ServerCPUPerOp != nil && *c.ServerCPUPerOp > 0 {
				lines = append(lines, fmt.Sprintf("%s %.1f µs (%.2f×)", c.Name, *c.ServerCPUPerOp, *base.ServerCPUPerOp / *c.ServerCPUPerOp))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&buf, "\nServer CPU per request (the process's CPU less the load generator's share of the case's CPU profile, ±3 %%), and bare-nethttp's as a ratio to it: bare-nethttp %.1f µs; %s.\n", *base.ServerCPUPerOp, strings.Join(lines, "; "))
		}
	}
	fmt.Fprintf(&buf, "\ncores busy: the process's CPU time per second of the case (at most GOMAXPROCS); below it, the case was bound by latency or other processes had the CPUs. load avg: the system's one-minute load average at the end of the case.\n")
	fmt.Fprintf(&buf, "\nWhat one operation is:\n\n")
	for _, c := range r.Cases {
		note := c.Measure
		if c.Note != "" {
			note += " (" + c.Note + ")"
		}
		if c.Errors > 0 {
			note += fmt.Sprintf(" — %d failed operations", c.Errors)
		}
		fmt.Fprintf(&buf, "- %s: %s.\n", c.Name, note)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func orEmpty(s string, ok bool) string {
	if ok {
		return s
	}
	return "?"
}

func formatRate(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func formatOpt(v *float64, decimals int) string {
	if v == nil {
		return "—"
	}
	if *v < 10 && decimals == 0 {
		decimals = 1
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

func formatFixed(v *float64, decimals int) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

func formatRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	switch {
	case *v >= 10:
		return strconv.FormatFloat(*v, 'f', 1, 64) + "×"
	case *v >= 0.01:
		return strconv.FormatFloat(*v, 'f', 3, 64) + "×"
	default:
		return strconv.FormatFloat(*v, 'g', 2, 64) + "×"
	}
}

func writeBenchJSON(path string, r *benchReport) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}

// progressBar draws one status line on a terminal-ish writer, redrawn in
// place with \r. Log lines written through it clear the bar first.
type progressBar struct {
	w io.Writer

	mu         sync.Mutex
	index, n   int
	name       string
	drawnWidth int
}

// Write lets a logger share the line with the bar.
func (p *progressBar) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	return p.w.Write(b)
}

func (p *progressBar) begin(index, n int, name string) {
	p.mu.Lock()
	p.index, p.n, p.name = index, n, name
	p.mu.Unlock()
	p.status("starting…")
}

func (p *progressBar) status(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawLocked(fmt.Sprintf("[%d/%d] %s: %s", p.index, p.n, p.name, msg))
}

func (p *progressBar) update(lp loadgen.Progress) {
	const width = 24
	frac := 0.0
	if lp.Planned > 0 {
		frac = min(float64(lp.Elapsed)/float64(lp.Planned), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled < width {
		bar = bar[:filled] + ">" + bar[filled+1:]
	}
	phase := ""
	if lp.Warmup {
		phase = " warming up"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("[%d/%d] %-26s [%s] %5.1fs%s  %d ops", p.index, p.n, p.name, bar, lp.Elapsed.Seconds(), phase, lp.Ops)
	if lp.Planned == 0 {
		line = fmt.Sprintf("[%d/%d] %-26s %5.1fs  %d done", p.index, p.n, p.name, lp.Elapsed.Seconds(), lp.Ops)
	}
	if lp.Errors > 0 {
		line += fmt.Sprintf(", %d failed", lp.Errors)
	}
	p.drawLocked(line)
}

// done replaces the bar with the case's one-line summary.
func (p *progressBar) done(r benchResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	if r.Failed != "" {
		fmt.Fprintf(p.w, "[%d/%d] %s: failed\n", p.index, p.n, p.name)
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %-26s %s/s  p50 %s µs  p99 %s µs\n", p.index, p.n, p.name, formatRate(r.RPS), formatOpt(r.P50, 0), formatOpt(r.P99, 0))
}

func (p *progressBar) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progressBar) drawLocked(line string) {
	pad := ""
	if n := len([]rune(line)); n < p.drawnWidth {
		pad = strings.Repeat(" ", p.drawnWidth-n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawnWidth = len([]rune(line))
}

func (p *progressBar) clearLocked() {
	if p.drawnWidth > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.drawnWidth)+"\r")
		p.drawnWidth = 0
	}
}
