package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/hearthfn/hearth/internal/loadgen"
	"github.com/hearthfn/hearth/internal/stack"
)

// Defaults of Config.
const (
	DefaultDuration    = 5 * time.Second
	DefaultConcurrency = 32
	DefaultProfileCase = "hearth-warm-reactor"
)

// MaxRateFraction is the largest fraction of bare-nethttp's maximum that
// Rates may ask for: above 1 measures a case past what even bare can do.
const MaxRateFraction = 2.0

// stopTimeout bounds how long stopping a platform waits for its work.
const stopTimeout = 30 * time.Second

// Config is what a run is asked to do. The zero value runs every case
// with the defaults.
type Config struct {
	// Duration is the measured time of each case, after a warm-up of a
	// fifth of it (at most 1 s); DefaultDuration when zero.
	Duration time.Duration
	// Concurrency is how many requests are in flight at once (a closed
	// loop); DefaultConcurrency when zero.
	Concurrency int
	// Rate, when above 0, runs the throughput cases as an open loop at
	// Rate requests a second (at most Concurrency in flight), their
	// latency counted from when each request was due (loadgen.Config.Rate).
	Rate float64
	// Rates, when set, runs the cases closed-loop first, then every
	// throughput case again as an open loop at each fraction of
	// bare-nethttp's closed-loop maximum (0.25: a quarter of it), rows
	// named "CASE @25%". bare-nethttp is added to the cases if missing.
	Rates []float64
	// Cases are the names of the cases to run, in the order they run;
	// all of CaseNames when empty.
	Cases []string
	// CPUProfile, when set, is the file to write a CPU profile of the
	// measured period of ProfileCase (DefaultProfileCase when empty) to.
	CPUProfile  string
	ProfileCase string
	// Hearth is the hearth executable the cluster cases run as separate
	// processes (hearth nats, gateway, runner); without it they fail.
	Hearth string
	// Log gets the run's warnings and the platform's logs; slog.Default()
	// when nil.
	Log *slog.Logger
}

// withDefaults fills in the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if len(c.Cases) == 0 {
		c.Cases = CaseNames()
	}
	if c.ProfileCase == "" {
		c.ProfileCase = DefaultProfileCase
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Duration < 0 {
		return c, fmt.Errorf("bench: duration %s: give a positive duration", c.Duration)
	}
	if c.Rate < 0 {
		return c, fmt.Errorf("bench: rate %v: give requests a second above 0, or 0 for a closed loop", c.Rate)
	}
	if len(c.Rates) > 0 {
		if c.Rate > 0 {
			return c, errors.New("bench: a rate and rates together; give one of them")
		}
		for _, f := range c.Rates {
			if !(f > 0 && f <= MaxRateFraction) {
				return c, fmt.Errorf("bench: rate fraction %v: give fractions above 0 and at most %v", f, MaxRateFraction)
			}
		}
		if !slices.Contains(c.Cases, "bare-nethttp") {
			c.Cases = append([]string{"bare-nethttp"}, c.Cases...)
		}
	}
	if c.Concurrency < 0 {
		return c, fmt.Errorf("bench: concurrency %d: give at least 1", c.Concurrency)
	}
	for _, name := range c.Cases {
		if _, ok := caseByName(name); !ok {
			return c, fmt.Errorf("bench: unknown case %q; the cases are %v", name, CaseNames())
		}
	}
	if c.CPUProfile != "" && !slices.Contains(c.Cases, c.ProfileCase) {
		return c, fmt.Errorf("bench: the CPU profile is of case %q, which is not among the cases run", c.ProfileCase)
	}
	return c, nil
}

// Progress is told what a run is doing, for a display such as
// ProgressBar. Update is called from a goroutine of the load generator,
// so its methods must be safe for concurrent use.
type Progress interface {
	// Begin says that case name, the index-th of n (from 1), starts.
	Begin(index, n int, name string)
	// Status says what the case does outside its measured period
	// (starting the platform, compiling, stopping).
	Status(msg string)
	// Update is the load generator's progress in the case.
	Update(p loadgen.Progress)
	// Done gives the case's result.
	Done(r Result)
}

// Run runs the cases of cfg one after the other and returns their
// results; a case that fails is reported as failed in its Result, and the
// others still run. progress may be nil. Run fails on a configuration it
// cannot run and when ctx ends; the platform it started is stopped and its
// temporary data removed before it returns.
func Run(ctx context.Context, cfg Config, progress Progress) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = noProgress{}
	}
	log := cfg.Log
	dataDir, err := os.MkdirTemp("", "hearth-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary data directory: %w", err)
	}
	b := &bencher{cfg: cfg, log: log, bar: progress, dataDir: dataDir, body: bytes.Repeat([]byte("0123456789"), 10)}
	defer func() {
		progress.Status("stopping…")
		b.close()
		if err := os.RemoveAll(dataDir); err != nil {
			log.Warn("could not remove the temporary data directory", "dir", dataDir, "error", err)
		}
	}()

	report := &Report{
		Date:        time.Now().UTC().Format(time.RFC3339),
		GoVersion:   runtime.Version(),
		OS:          runtime.GOOS,
		Arch:        runtime.GOARCH,
		CPU:         cpuModel(),
		NumCPU:      runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		Concurrency: cfg.Concurrency,
		Rate:        cfg.Rate,
		Duration:    cfg.Duration.String(),
		BodyBytes:   len(b.body),
	}
	report.Wazero, report.Revision = buildVersions()
	report.Rates = cfg.Rates

	type row struct {
		c    caseSpec
		name string
		frac float64 // of bare's maximum; 0: closed loop (or cfg.Rate)
	}
	var rows []row
	for _, name := range cfg.Cases {
		c, _ := caseByName(name)
		rows = append(rows, row{c, name, 0})
	}
	for _, f := range cfg.Rates {
		for _, name := range cfg.Cases {
			if c, _ := caseByName(name); c.paced {
				rows = append(rows, row{c, fmt.Sprintf("%s @%s%%", name, strconv.FormatFloat(100*f, 'f', -1, 64)), f})
			}
		}
	}
	for i, rw := range rows {
		progress.Begin(i+1, len(rows), rw.name)
		b.current = rw.c.name
		if rw.frac > 0 {
			base := find(report.Cases, "bare-nethttp")
			if base == nil || base.Failed != "" || base.RPS <= 0 {
				report.Cases = append(report.Cases, Result{Name: rw.name, Measure: rw.c.measure, Failed: "no closed-loop maximum of bare-nethttp to take a fraction of"})
				continue
			}
			b.cfg.Rate = rw.frac * base.RPS
		}
		res, err := rw.c.run(b, ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted during %s: %w", rw.name, context.Cause(ctx))
		}
		res.Name, res.Measure = rw.name, rw.c.measure
		if rw.c.paced && b.cfg.Rate > 0 {
			res.Rate = b.cfg.Rate
		}
		res.Load1 = loadAverage()
		if err != nil {
			log.Error("case failed", "case", rw.name, "error", err)
			res.Failed = err.Error()
		}
		report.Cases = append(report.Cases, res)
		progress.Done(res)
	}
	if base := find(report.Cases, "bare-nethttp"); base != nil && base.Failed == "" && base.RPS > 0 {
		baseRPS := base.RPS
		for i := range report.Cases {
			if report.Cases[i].Failed == "" {
				report.Cases[i].Ratio = ptr(report.Cases[i].RPS / baseRPS)
			}
		}
	}
	return report, nil
}

// bencher holds what the cases share: the configuration, the body, and the
// platform, started the first time a case needs it.
type bencher struct {
	cfg     Config
	log     *slog.Logger
	bar     Progress
	dataDir string
	body    []byte
	dev     *stack.Stack  // gateway, runner, NATS, S3 and the examples; dispatcher on
	natsURL string        // a second gateway on dev that sends every call through NATS
	keyed   *keyedGateway // a gateway on dev with API keys on
	cluster *cluster      // hearth nats, gateway and runner as processes
	floor   *cluster      // hearth nats and the floor's gateway and responder
	// procCPU, set by a cluster case, are the processes whose CPU the
	// load measures, by role; procCPUPerOp is what the last load measured.
	procCPU      map[string]int
	procCPUPerOp map[string]float64
	current      string // the case running
}

type noProgress struct{}

func (noProgress) Begin(int, int, string)  {}
func (noProgress) Status(string)           {}
func (noProgress) Update(loadgen.Progress) {}
func (noProgress) Done(Result)             {}
