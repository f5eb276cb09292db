package loadgen

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	values := make([]time.Duration, 100000)
	for i := range values {
		// Log-uniform from 10 ns to ~10 s.
		values[i] = time.Duration(10*(1<<rng.IntN(30))) + time.Duration(rng.IntN(1000))
		h.Record(values[i])
	}
	slices.Sort(values)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		want := values[int(q*float64(len(values)))-1]
		got := h.Quantile(q)
		if diff := float64(got-want) / float64(want); diff > 1.0/32 || diff < -1.0/32 {
			t.Errorf("q%.3f = %v, want %v ±3%%", q, got, want)
		}
	}
	if h.Min() != values[0] || h.Max() != values[len(values)-1] || h.Count() != uint64(len(values)) {
		t.Errorf("min %v max %v count %d; want %v %v %d", h.Min(), h.Max(), h.Count(), values[0], values[len(values)-1], len(values))
	}
}

func TestHistogramBucketsAreOrderedAndCoverInt64(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v++ {
		b := bucket(v)
		if b < prev || b > prev+1 {
			t.Fatalf("bucket(%d) = %d after %d", v, b, prev)
		}
		prev = b
	}
	if b := bucket(1<<63 - 1); b >= numBuckets {
		t.Fatalf("bucket(max int64) = %d ≥ %d", b, numBuckets)
	}
	for i := range numBuckets - 1 {
		if bucket(uint64(bucketValue(i))) != i {
			t.Fatalf("bucketValue(%d) = %d lies in bucket %d", i, bucketValue(i), bucket(uint64(bucketValue(i))))
		}
	}
}

func TestRunCountsOpsErrorsAndHonoursMinMax(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	var calls atomic.Int64
	res, err := Run(ctx, Config{Concurrency: 4, MaxOps: 1000}, func(ctx context.Context, w *Worker) error {
		if calls.Add(1)%10 == 0 {
			return boom
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops+res.Errors != 1000 || res.Errors != 100 || !errors.Is(res.FirstErr, boom) {
		t.Fatalf("ops %d errors %d first %v; want 900 + 100 boom", res.Ops, res.Errors, res.FirstErr)
	}
	if res.Latency.Count() != uint64(res.Ops) || res.Rate() <= 0 {
		t.Fatalf("histogram has %d, rate %.0f", res.Latency.Count(), res.Rate())
	}

	// MinOps: a slow operation still runs its minimum past the duration.
	res, err = Run(ctx, Config{Duration: time.Millisecond, MinOps: 3}, func(ctx context.Context, w *Worker) error {
		time.Sleep(2 * time.Millisecond) // the operation under test is slow
		return nil
	})
	if err != nil || res.Ops != 3 {
		t.Fatalf("MinOps: ops %d, err %v; want 3", res.Ops, err)
	}
}

func TestStopTimerExcludesSetUp(t *testing.T) {
	res, err := Run(context.Background(), Config{MaxOps: 5}, func(ctx context.Context, w *Worker) error {
		w.StopTimer()
		time.Sleep(20 * time.Millisecond) // untimed set-up
		w.StartTimer()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Latency.Max() > 10*time.Millisecond {
		t.Fatalf("max latency %v includes the untimed set-up", res.Latency.Max())
	}
}

func TestWarmupIsNotRecordedAndProgressEnds(t *testing.T) {
	var warm, measured atomic.Int64
	var last Progress
	res, err := Run(context.Background(), Config{Concurrency: 2, Warmup: 20 * time.Millisecond, Duration: 20 * time.Millisecond,
		ProgressEvery: 5 * time.Millisecond, Progress: func(p Progress) { last = p }},
		func(ctx context.Context, w *Worker) error {
			time.Sleep(100 * time.Microsecond) // a short operation
			if w.Iter == 0 {
				warm.Add(1)
			} else {
				measured.Add(1)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops == 0 || res.Ops >= warm.Load()+measured.Load() {
		t.Fatalf("recorded %d of %d operations; warm-up ones must not count", res.Ops, warm.Load()+measured.Load())
	}
	if !last.Done || last.Ops != res.Ops {
		t.Fatalf("last progress %+v, want done with %d ops", last, res.Ops)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	res, err := Run(ctx, Config{Concurrency: 2, Duration: time.Hour}, func(ctx context.Context, w *Worker) error {
		if n.Add(1) == 100 {
			cancel()
		}
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops < 98 || res.Errors != 0 {
		t.Fatalf("ops %d errors %d after cancel", res.Ops, res.Errors)
	}
}

// TestOpenLoopCountsTheWaitBehindAStall: one operation stalls for 300 ms.
// A closed loop records it as one slow operation among many fast ones; an
// open loop at 100/s also counts the ~30 operations that were due during
// the stall from when they were due, so its p90 shows the stall.
func TestOpenLoopCountsTheWaitBehindAStall(t *testing.T) {
	stallingOp := func() Op {
		var n atomic.Int64
		return func(ctx context.Context, w *Worker) error {
			if n.Add(1) == 20 {
				select { // the stall: work that takes 300 ms
				case <-time.After(300 * time.Millisecond):
				case <-ctx.Done():
				}
			}
			return nil
		}
	}
	closed, err := Run(context.Background(), Config{Concurrency: 1, Duration: time.Second}, stallingOp())
	if err != nil {
		t.Fatal(err)
	}
	open, err := Run(context.Background(), Config{Concurrency: 1, Duration: time.Second, Rate: 100}, stallingOp())
	if err != nil {
		t.Fatal(err)
	}
	if p90 := closed.Latency.Quantile(0.9); p90 >= 100*time.Millisecond {
		t.Errorf("closed loop p90 %v; want the one stall hidden among fast operations", p90)
	}
	if p90 := open.Latency.Quantile(0.9); p90 < 100*time.Millisecond {
		t.Errorf("open loop p90 %v over %d operations; want the operations due during the 300 ms stall counted from when they were due", p90, open.Ops)
	}
	// The open loop starts about Rate × Duration operations, not as many
	// as the worker can do.
	if open.Ops < 50 || open.Ops > 150 || closed.Ops < 1000 {
		t.Errorf("open loop ran %d operations (want ~100), closed %d", open.Ops, closed.Ops)
	}
}

func TestOpenLoopBadRate(t *testing.T) {
	for _, rate := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := Run(context.Background(), Config{Duration: time.Millisecond, Rate: rate}, func(context.Context, *Worker) error { return nil }); err == nil {
			t.Errorf("rate %v: no error", rate)
		}
	}
}
