package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// Config says how much load to generate.
type Config struct {
	Concurrency int // workers; default 1
	// Rate, when above 0, makes the run an open loop (as wrk2 and
	// vegeta's constant-rate attack): operations are due every 1/Rate
	// seconds whether or not earlier ones have ended, at most Concurrency
	// in flight, and an operation's latency is counted from when it was
	// due, not from when a worker was free to start it, so a stall shows
	// in the latency of every operation that waited behind it
	// (coordinated omission corrected). 0: a closed loop, each worker
	// starting its next operation when its last one ends.
	Rate     float64
	Duration time.Duration // measured period; 0 = until MaxOps (then MaxOps is required)
	// Warmup runs operations before the measured period without recording
	// them: connections open, pools fill, code gets hot.
	Warmup time.Duration
	// MinOps keeps the workers going past Duration until this many
	// operations are recorded (for slow operations such as cold starts).
	MinOps int
	// MaxOps stops the run once this many operations are recorded, even
	// before Duration; 0 = no limit.
	MaxOps int
	// OnMeasure, when set, is called once when the measured period begins
	// (after the warm-up), from a goroutine of the run: start a profiler
	// there to leave the warm-up out of it.
	OnMeasure func()
	// Progress, when set, is called about every ProgressEvery from a
	// goroutine of the run, and once more at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration // default 200 ms
}

// Progress is a snapshot of a run.
type Progress struct {
	Warmup  bool          // still in the warm-up
	Elapsed time.Duration // of the measured period (or of the warm-up)
	Planned time.Duration // the measured period (or the warm-up)
	Ops     int64         // recorded operations so far
	Errors  int64
	Done    bool
}

// Op is one operation. It returns an error when the operation failed; a
// failed operation counts as an error, not as a latency.
type Op func(ctx context.Context, w *Worker) error

// Worker is the state of one worker, passed to each of its operations.
type Worker struct {
	ID   int // 0 … Concurrency-1
	Iter int // operations this worker started, counting from 0

	paused   time.Time
	excluded time.Duration
}

// StopTimer stops counting time toward the current operation's latency
// (set-up or clean-up inside the operation); StartTimer resumes it.
func (w *Worker) StopTimer() {
	if w.paused.IsZero() {
		w.paused = time.Now()
	}
}

// StartTimer resumes timing after StopTimer.
func (w *Worker) StartTimer() {
	if !w.paused.IsZero() {
		w.excluded += time.Since(w.paused)
		w.paused = time.Time{}
	}
}

// Result is what a run measured.
type Result struct {
	Ops      int64         // recorded operations that succeeded
	Errors   int64         // recorded operations that failed
	FirstErr error         // the first error, if any
	Elapsed  time.Duration // of the measured period, until the last operation ended
	// CPU is the process's user+system CPU time during the measured
	// period (zero where the platform cannot tell). It includes everything
	// in the process: the load generator itself and whatever it calls.
	CPU     time.Duration
	Latency Histogram // of the successful recorded operations
}

// Rate is successful operations per second of the measured period.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// CPUPerOp is the process CPU time per successful operation.
func (r *Result) CPUPerOp() time.Duration {
	if r.Ops == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Ops)
}

// Run generates load until the measured period ends (or ctx does) and
// returns the measurements. It fails only on a bad configuration or when
// ctx ends before anything was measured.
func Run(ctx context.Context, cfg Config, op Op) (*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Duration < 0 || cfg.Warmup < 0 || cfg.MinOps < 0 || cfg.MaxOps < 0 {
		return nil, errors.New("loadgen: negative duration, warm-up or operation count")
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("loadgen: rate %v: give operations a second above 0, or 0 for a closed loop", cfg.Rate)
	}
	if cfg.Duration == 0 && cfg.MaxOps == 0 {
		return nil, errors.New("loadgen: set Duration, MaxOps or both")
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 200 * time.Millisecond
	}

	r := &run{cfg: cfg, op: op, start: time.Now()}
	if cfg.Rate > 0 {
		r.interval = time.Duration(float64(time.Second) / cfg.Rate)
		if r.interval <= 0 {
			r.interval = 1
		}
	}
	r.measureStart = r.start.Add(cfg.Warmup)
	if cfg.Duration > 0 {
		r.end = r.measureStart.Add(cfg.Duration)
	}
	r.hists = make([]Histogram, cfg.Concurrency)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The CPU clock starts with the measured period.
	cpuStart := make(chan time.Duration, 1)
	var cpuTimer *time.Timer
	if cfg.Warmup > 0 {
		cpuTimer = time.AfterFunc(cfg.Warmup, func() {
			if cfg.OnMeasure != nil {
				cfg.OnMeasure()
			}
			cpuStart <- ProcessCPU()
		})
		defer cpuTimer.Stop()
	} else {
		if cfg.OnMeasure != nil {
			cfg.OnMeasure()
		}
		cpuStart <- ProcessCPU()
	}

	progressDone := make(chan struct{})
	stopProgress := make(chan struct{})
	go func() {
		defer close(progressDone)
		if cfg.Progress == nil {
			return
		}
		t := time.NewTicker(cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				cfg.Progress(r.progress(false))
			}
		}
	}()

	var wg sync.WaitGroup
	for i := range cfg.Concurrency {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("loadgen", "worker"), func(ctx context.Context) {
			defer wg.Done()
			r.work(ctx, &Worker{ID: i}, &r.hists[i])
		})
	}
	wg.Wait()
	finished := time.Now()
	cpuEnd := ProcessCPU()
	close(stopProgress)
	<-progressDone

	res := &Result{Ops: r.ops.Load(), Errors: r.errs.Load(), FirstErr: r.firstErr()}
	if finished.After(r.measureStart) {
		res.Elapsed = finished.Sub(r.measureStart)
	}
	if cpuTimer != nil && cpuTimer.Stop() {
		// The run ended inside its warm-up: nothing was measured.
		if ctx.Err() != nil {
			return nil, fmt.Errorf("loadgen: %w", context.Cause(ctx))
		}
	} else if begin := <-cpuStart; cpuEnd > begin {
		res.CPU = cpuEnd - begin
	}
	for i := range r.hists {
		res.Latency.Merge(&r.hists[i])
	}
	if cfg.Progress != nil {
		cfg.Progress(r.progress(true))
	}
	if res.Ops+res.Errors == 0 && ctx.Err() != nil {
		return res, fmt.Errorf("loadgen: %w", context.Cause(ctx))
	}
	return res, nil
}

type run struct {
	cfg               Config
	op                Op
	start             time.Time
	measureStart, end time.Time // end is zero when only MaxOps bounds the run
	hists             []Histogram
	interval          time.Duration // between due times of an open loop; 0: closed

	slots   atomic.Int64 // due times handed out (open loop)
	started atomic.Int64 // recorded operations started (for MaxOps)
	ops     atomic.Int64
	errs    atomic.Int64

	errMu sync.Mutex
	err   error
}

func (r *run) firstErr() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// next reports whether the worker should start another operation, and
// whether that one is recorded.
func (r *run) next(ctx context.Context, now time.Time) (more, recorded bool) {
	if ctx.Err() != nil {
		return false, false
	}
	if now.Before(r.measureStart) {
		return true, false
	}
	n := r.started.Add(1)
	if r.cfg.MaxOps > 0 && n > int64(r.cfg.MaxOps) {
		return false, false
	}
	if !r.end.IsZero() && !now.Before(r.end) && n > int64(r.cfg.MinOps) {
		return false, false
	}
	return true, true
}

// due waits until the next due time of an open loop and returns it; false
// when ctx ended first.
func (r *run) due(ctx context.Context) (time.Time, bool) {
	at := r.start.Add(time.Duration(r.slots.Add(1)-1) * r.interval)
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return at, false
		case <-t.C:
		}
	}
	return at, true
}

func (r *run) work(ctx context.Context, w *Worker, h *Histogram) {
	for {
		start := time.Now()
		if r.interval > 0 {
			var ok bool
			if start, ok = r.due(ctx); !ok {
				return
			}
		}
		more, recorded := r.next(ctx, start)
		if !more {
			return
		}
		w.excluded, w.paused = 0, time.Time{}
		err := r.op(ctx, w)
		w.StartTimer()
		latency := time.Since(start) - w.excluded
		w.Iter++
		if !recorded {
			continue
		}
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return // the run was cancelled; this is not the operation's fault
			}
			r.errs.Add(1)
			r.errMu.Lock()
			if r.err == nil {
				r.err = err
			}
			r.errMu.Unlock()
			continue
		}
		h.Record(latency)
		r.ops.Add(1)
	}
}

func (r *run) progress(done bool) Progress {
	now := time.Now()
	p := Progress{Ops: r.ops.Load(), Errors: r.errs.Load(), Done: done}
	if now.Before(r.measureStart) {
		p.Warmup, p.Elapsed, p.Planned = true, now.Sub(r.start), r.cfg.Warmup
		return p
	}
	p.Elapsed, p.Planned = now.Sub(r.measureStart), r.cfg.Duration
	return p
}
