package bench

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"
	"time"
)

// busyProfile profiles about 300 ms of CPU-bound work, under the load
// generator's label when labeled.
func busyProfile(t *testing.T, labeled bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiling unavailable: %v", err)
	}
	work := func(context.Context) {
		x := 0
		for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
			for i := range 100000 {
				x += i * i
			}
		}
		_ = x
	}
	if labeled {
		pprof.Do(context.Background(), pprof.Labels("loadgen", "worker"), work)
	} else {
		work(context.Background())
	}
	pprof.StopCPUProfile()
	return buf.Bytes()
}

func TestClientShare(t *testing.T) {
	if share, err := clientShare(busyProfile(t, true)); err != nil || share < 0.8 {
		t.Fatalf("labeled work: share %.2f, %v; want nearly all", share, err)
	}
	if share, err := clientShare(busyProfile(t, false)); err != nil || share > 0.2 {
		t.Fatalf("unlabeled work: share %.2f, %v; want nearly none", share, err)
	}
	if _, err := clientShare([]byte("not a profile")); err == nil {
		t.Fatal("garbage: want an error")
	}
}
