package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hearthfn/hearth/internal/loadgen"
)

// load runs the load generator with the bench's concurrency and duration
// (unless cfg sets them), a warm-up and the progress display; Config's
// CPUProfile gets the profile of its case.
func (b *bencher) load(ctx context.Context, cfg loadgen.Config, op loadgen.Op) (*loadgen.Result, error) {
	res, _, err := b.loadSplit(ctx, cfg, op, false)
	return res, err
}

// loadSplit is load; with split, a CPU profile of the measured period
// tells the load generator's share of the process's CPU apart (the share
// it returns; NaN without split).
func (b *bencher) loadSplit(ctx context.Context, cfg loadgen.Config, op loadgen.Op, split bool) (*loadgen.Result, float64, error) {
	name := b.current
	share := math.NaN()
	if cfg.Concurrency == 0 {
		cfg.Concurrency = b.cfg.Concurrency
	}
	if cfg.Duration == 0 {
		cfg.Duration = b.cfg.Duration
	}
	cfg.Progress = b.bar.Update
	toFile := b.cfg.CPUProfile != "" && name == b.cfg.ProfileCase
	b.procCPUPerOp = nil
	var (
		procStart   map[string]time.Duration
		waitProfile func() error
	)
	if b.procCPU != nil {
		measure := cfg.OnMeasure
		cfg.OnMeasure = func() {
			procStart = processCPU(b.procCPU)
			if toFile && b.cluster != nil {
				waitProfile = b.cluster.profile(ctx, cfg.Duration, b.cfg.CPUProfile)
			}
			if measure != nil {
				measure()
			}
		}
	}
	var prof bytes.Buffer
	profiling := false
	if split || toFile {
		var once sync.Once
		measure := cfg.OnMeasure
		cfg.OnMeasure = func() {
			if measure != nil {
				measure()
			}
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
	if waitProfile != nil {
		if err := waitProfile(); err != nil {
			return nil, share, fmt.Errorf("--cpuprofile of the cluster's processes: %w", err)
		}
	}
	if procStart != nil && res.Ops > 0 {
		end := processCPU(b.procCPU)
		b.procCPUPerOp = map[string]float64{}
		for role, t0 := range procStart {
			if t1, ok := end[role]; ok {
				b.procCPUPerOp[role] = math.Round(10*micros(t1-t0)/float64(res.Ops)) / 10
			}
		}
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
func throughput(res *loadgen.Result) Result {
	r := Result{RPS: res.Rate(), Ops: res.Ops, Errors: res.Errors}
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
