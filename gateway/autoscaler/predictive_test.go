package autoscaler

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBestWindow(t *testing.T) {
	tests := []struct {
		gain     []float64 // gain[0] is unused
		from, to int
	}{
		{[]float64{0}, 1, 0},
		{[]float64{0, -1, -2}, 1, 0},
		{[]float64{0, 0, 0}, 1, 0},
		{[]float64{0, 3}, 1, 1},
		{[]float64{0, 5, -1, -1, 4}, 1, 4},
		{[]float64{0, 5, -3, -3, 4}, 1, 1},
		{[]float64{0, -1, 2, -1, 2, -5, 3}, 2, 4},
		{[]float64{0, -9, -9, 1, 1, -9}, 3, 4},
	}
	for _, tt := range tests {
		from, to := bestWindow(tt.gain)
		if from > to && tt.from > tt.to {
			continue
		}
		if from != tt.from || to != tt.to {
			t.Errorf("bestWindow(%v) = [%d, %d], want [%d, %d]", tt.gain, from, to, tt.from, tt.to)
		}
	}
}

// plan returns the minutes after the last invocation that p's state for
// counts plans to keep warm, within 1 … upTo.
func plan(p Policy, info FunctionInfo, counts []int, upTo int) []int {
	fp := p.New(info).(*predictiveState)
	for t := 1; t <= len(counts); t++ {
		fp.Warm(t)
		fp.Observe(t, counts[t-1])
	}
	var d []int
	for m := 1; m <= upTo; m++ {
		if fp.warm[m] {
			d = append(d, m)
		}
	}
	return d
}

func TestPredictiveKeepsANewFunctionWarm(t *testing.T) {
	// Nothing is known after a first invocation: the prior keeps the
	// function warm as long as the histogram reaches, like hybrid's
	// fixed-240 fallback.
	if got := warmMinutes(Predictive(), at(100)); !slices.Equal(got, span(101, 340)) {
		t.Errorf("warm in %v, want minutes 101 … 340", got)
	}
}

func TestPredictiveTimerIsWarmOnTheTick(t *testing.T) {
	counts := every(7, 1)
	warm := warmMinutes(Predictive(), counts)
	var got, want []int
	for m := ScoreFrom; m <= ScoreTo; m++ {
		if slices.Contains(warm, m) {
			got = append(got, m)
		}
		if counts[m-1] > 0 {
			want = append(want, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("warm in %v,\nwant exactly the ticks %v", got, want)
	}
}

func TestPredictiveCarvesAHoleBetweenRecurringIdleTimes(t *testing.T) {
	// A timer every 10 minutes and another 8 minutes after it: idle
	// times of 8 and 2 minutes. The minutes 4 … 6 after an invocation
	// never saw one although every 8-minute idle time ran through them;
	// 3 and 7 stay warm for jitter. Minute 1 is never worth it.
	counts := make([]int, Minutes)
	for m := 1; m <= Minutes; m += 10 {
		counts[m-1] = 1
		if m+8 <= Minutes {
			counts[m+7] = 1
		}
	}
	got := plan(Predictive(), FunctionInfo{MemoryMB: 128}, counts[:1400], 10)
	if want := []int{2, 3, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("plan after minute 1399 is warm at %v, want %v", got, want)
	}
	// Early in the day, with fewer than 20 idle times through the hole,
	// nothing is carved (and the prior still makes minute 1 worth it).
	got = plan(Predictive(), FunctionInfo{MemoryMB: 128}, counts[:100], 10)
	if want := span(1, 10); !slices.Equal(got, want) {
		t.Errorf("plan after minute 99 is warm at %v, want %v", got, want)
	}
}

func TestPredictiveWarmsLessForBiggerInstances(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 10 {
		counts := make([]int, Minutes)
		for m := range counts {
			if rng.IntN(40) == 0 {
				counts[m] = 1 + rng.IntN(3)
			}
		}
		small := len(warmMinutes(withMemory{128}, counts))
		big := len(warmMinutes(withMemory{2048}, counts))
		if big > small {
			t.Errorf("a 2048 MB instance is warm %d minutes, a 128 MB one %d", big, small)
		}
	}
}

// withMemory is the predictive policy for a function of the given
// memory, whatever memory warmMinutes passes.
type withMemory struct{ mb float64 }

func (l withMemory) Name() string { return "predictive" }

func (l withMemory) New(FunctionInfo) FunctionPolicy {
	return Predictive().New(FunctionInfo{MemoryMB: l.mb})
}

// TestPredictiveByClass: what docs/autoscaler.md says the policy does for
// each class of function ("By class of function").
func TestPredictiveByClass(t *testing.T) {
	// cold is the invoked minutes that were not warm, warm the warm minutes.
	run := func(counts []int) (cold []int, warm int) {
		fp := Predictive().New(FunctionInfo{MemoryMB: 128})
		for m := 1; m <= len(counts); m++ {
			w := fp.Warm(m)
			if w {
				warm++
			}
			if counts[m-1] > 0 && !w {
				cold = append(cold, m)
			}
			fp.Observe(m, counts[m-1])
		}
		return cold, warm
	}
	// Steady: called every minute, cold once, on its first call.
	if cold, _ := run(every(1, 1)); !slices.Equal(cold, []int{1}) {
		t.Errorf("steady: cold in %v, want minute 1 only", cold)
	}
	// Bursty: 5 minutes of 10 calls every 90 minutes. Within a burst the
	// minutes after its first are warm (idle times of 1 minute pay at
	// once); a burst's first minute is cold: 85 idle minutes cost more than
	// a cold start is worth to a function with 800 calls a day.
	bursty := make([]int, Minutes)
	var starts []int
	for b := 1; b+4 <= Minutes; b += 90 {
		starts = append(starts, b)
		for m := b; m < b+5; m++ {
			bursty[m-1] = 10
		}
	}
	cold, _ := run(bursty)
	if !slices.Equal(cold, starts) {
		t.Errorf("bursty: cold in %v, want the bursts' first minutes %v", cold, starts)
	}
	// Rare: calls 900 minutes apart. The prior keeps a function warm at
	// most 240 minutes after a call, so each later call is cold, and the
	// minutes kept warm are bounded.
	rare := at(100, 1000)
	cold, warm := run(rare)
	if !slices.Equal(cold, []int{100, 1000}) || warm > 2*HistogramRange {
		t.Errorf("rare: cold in %v with %d warm minutes, want 100 and 1000 cold and at most %d warm", cold, warm, 2*HistogramRange)
	}
}
