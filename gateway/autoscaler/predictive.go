package autoscaler

import "math"

// Predictive is Hearth's own policy, named predictive. Like hybrid it
// learns the function's idle times (minutes between consecutive invoked
// minutes, in bins over 1 … HistogramRange) and, after each invocation,
// keeps the function warm in a window of minutes after it. It chooses that
// window differently:
//
//   - Cost model. A warm minute d after the last invocation avoids a cold
//     start when the next invocation comes exactly then and wastes the
//     instance's memory when it comes later. The window [A, B] is the one
//     that would have paid best over the idle times seen so far: it
//     maximises worth × (idle times ending in it) − (idle times passing
//     through its minutes), where worth is what one cold start is worth in
//     idle minutes of this function's instance. It is found exactly, in
//     one pass (maximum-sum interval).
//   - Worth. A cold start is worth 2000 idle minutes of a 128 MB
//     instance for a function invoked once a day; the worth falls with the
//     square root of the function's daily invocations (each cold start is
//     a smaller share of a busy function's calls) and in proportion to its
//     memory (a bigger instance costs more per idle minute).
//   - Prior. With few idle times seen the histogram says little, so
//     two pseudo idle times are spread over 1 … HistogramRange with
//     weight ∝ 1/d (idle times are scale-free: bursts and long pauses
//     alike). A new function is therefore kept warm long, as hybrid's
//     fixed-240 fallback does, and the data take over as they come.
//   - Periodicity. The window starts at the first idle time worth its
//     minutes, and inside it a run of at least 3 minutes in which no idle
//     time ever ended, although at least 20 idle times ran through it, is
//     left cold, keeping one minute of jitter next to the idle times seen.
//     A timer is then warm at its next tick, not all the way there.
//   - Recency. Idle times lose weight with a time constant of a day, so a
//     function that changes its habits is followed.
//
// No minute is warm before the first invocation, and idle times over
// HistogramRange only count against long windows: like hybrid, predictive
// does not keep a function warm more than HistogramRange minutes after an
// invocation.
func Predictive() Policy { return defaultPredictive }

// referenceMB is the instance size coldStartWorth is expressed in.
const referenceMB = 128

// defaultPredictive holds the constants of the predictive policy in one
// place; docs/autoscaler.md gives the reasons and the sensitivity of the
// results to each.
var defaultPredictive = predictive{
	coldStartWorth: 2000,
	priorWeight:    2,
	memoryMinutes:  1440,
	holeMinutes:    3,
	holeCrossings:  20,
}

type predictive struct {
	// coldStartWorth is what one cold start is worth, in idle minutes of
	// a referenceMB instance, for a function invoked once a day.
	coldStartWorth float64
	// priorWeight is the weight of the pseudo idle times of the prior.
	priorWeight float64
	// memoryMinutes is the time constant of the exponential decay of the
	// weight of an idle time; 0 keeps every idle time at full weight.
	memoryMinutes float64
	// holeMinutes and holeCrossings make a run of minutes inside the
	// window a hole left cold: at least holeMinutes long, crossed by at
	// least holeCrossings (weighted) idle times, none ending in it; a
	// holeMinutes of 0 carves no hole.
	holeMinutes   int
	holeCrossings float64
}

// prior[d] is the prior's share of idle time d: ∝ 1/d over
// 1 … HistogramRange, summing to 1.
var prior = func() (p [HistogramRange + 1]float64) {
	var h float64
	for d := 1; d <= HistogramRange; d++ {
		h += 1 / float64(d)
	}
	for d := 1; d <= HistogramRange; d++ {
		p[d] = 1 / float64(d) / h
	}
	return p
}()

func (predictive) Name() string { return "predictive" }

func (p predictive) New(fn FunctionInfo) FunctionPolicy {
	return &predictiveState{predictive: p, memMB: max(fn.MemoryMB, 1)}
}

type predictiveState struct {
	predictive
	memMB       float64
	last        int // last invoked minute; 0 before the first
	invocations int // all invocations observed
	// ended[d] is the decayed weight of the idle times of d minutes seen
	// so far, oob that of the idle times over HistogramRange.
	ended [HistogramRange + 1]float64
	oob   float64
	// warm[d] is the plan made at the last invocation: warm d minutes
	// after it.
	warm [HistogramRange + 1]bool
}

func (s *predictiveState) Warm(t int) bool {
	d := t - s.last
	return s.last > 0 && d >= 1 && d <= HistogramRange && s.warm[d]
}

func (s *predictiveState) Observe(t, count int) {
	if count <= 0 || t <= s.last {
		return
	}
	if s.last > 0 {
		s.decay(t - s.last)
		if d := t - s.last; d <= HistogramRange {
			s.ended[d]++
		} else {
			s.oob++
		}
	}
	s.last = t
	s.invocations += count
	s.plan(t)
}

// decay ages the idle times seen by the given minutes.
func (s *predictiveState) decay(minutes int) {
	if s.memoryMinutes <= 0 {
		return
	}
	f := math.Exp(-float64(minutes) / s.memoryMinutes)
	for d := range s.ended {
		s.ended[d] *= f
	}
	s.oob *= f
}

// worth is what a cold start of this function is worth, in idle minutes
// of its instance, knowing the minutes 1 … t (t counts from the policy's
// first minute, so t/Minutes is the days observed).
func (s *predictiveState) worth(t int) float64 {
	perDay := float64(s.invocations) * Minutes / float64(t)
	return s.coldStartWorth / (math.Sqrt(perDay) * s.memMB / referenceMB)
}

// plan chooses the warm minutes after the invocation of minute t.
func (s *predictiveState) plan(t int) {
	worth := s.worth(t)
	// ends[d]: idle times ending at d, prior included; gain[d]: what
	// being warm d minutes after an invocation would have paid.
	var ends, gain [HistogramRange + 1]float64
	total := s.oob
	for d := 1; d <= HistogramRange; d++ {
		ends[d] = s.ended[d] + s.priorWeight*prior[d]
		total += ends[d]
	}
	later := total // idle times longer than d
	for d := 1; d <= HistogramRange; d++ {
		later -= ends[d]
		gain[d] = worth*ends[d] - later
	}
	from, to := bestWindow(gain[:])

	s.warm = [HistogramRange + 1]bool{}
	for d := from; d <= to; d++ {
		s.warm[d] = true
	}
	if s.holeMinutes > 0 {
		s.carveHoles(from, to)
	}
}

// bestWindow is the interval [from, to] of 1 … len(gain)-1 with the
// largest positive sum of gain (Kadane's algorithm); from > to when no
// interval has a positive sum.
func bestWindow(gain []float64) (from, to int) {
	best, from, to := 0.0, 1, 0
	run, start := 0.0, 1
	for d := 1; d < len(gain); d++ {
		if run <= 0 {
			run, start = 0, d
		}
		run += gain[d]
		if run > best {
			best, from, to = run, start, d
		}
	}
	return from, to
}

// carveHoles leaves cold the runs of minutes inside [from, to] in which no
// idle time seen ended although at least holeCrossings ran through them,
// keeping one minute next to the idle times seen for jitter.
func (s *predictiveState) carveHoles(from, to int) {
	// crossing[d]: weight of the idle times seen that are longer than d.
	var crossing [HistogramRange + 1]float64
	c := s.oob
	for d := HistogramRange; d >= 1; d-- {
		crossing[d] = c
		c += s.ended[d]
	}
	for d := from; d <= to; {
		if s.ended[d] > 0 {
			d++
			continue
		}
		end := d // the run is d … end
		for end < to && s.ended[end+1] == 0 {
			end++
		}
		lo, hi := d, end
		if lo > 1 && s.ended[lo-1] > 0 {
			lo++
		}
		if hi < HistogramRange && s.ended[hi+1] > 0 {
			hi--
		}
		if end-d+1 >= s.holeMinutes && crossing[end] >= s.holeCrossings {
			for x := lo; x <= hi; x++ {
				s.warm[x] = false
			}
		}
		d = end + 1
	}
}
