package autoscaler

// HistogramRange is the longest idle time, in minutes, that the hybrid
// histogram keeps in bounds; longer idle times are out of bounds (OOB).
const HistogramRange = 240

// Hybrid is the hybrid histogram policy of Shahrad et al. ("Serverless in
// the Wild", USENIX ATC 2020) in the discrete form of the benchmark, named
// hybrid.
//
// It keeps a histogram of the function's idle times (minutes between
// consecutive invoked minutes) in 1-minute bins over 1 … 240. After the
// last invoked minute a, with p5 and p99 the nearest-rank 5th and 99th
// percentiles of the in-bound idle times, the function is warm in minutes
// a+⌊0.9·p5⌋ … a+⌈1.1·p99⌉. It falls back to fixed-240 when fewer than 10
// idle times have been seen, when the coefficient of variation of the 240
// bin counts is below 2 (no clear pattern), or when more than half of the
// idle times are out of bounds.
func Hybrid() Policy { return hybrid{} }

type hybrid struct{}

func (hybrid) Name() string { return "hybrid" }

func (hybrid) New(FunctionInfo) FunctionPolicy { return &hybridState{} }

type hybridState struct {
	last int // last invoked minute; 0 before the first
	h    idleHistogram
	// The window after the last invocation, recomputed when an idle time
	// is added.
	fallback           bool
	prewarm, keepalive int
}

func (s *hybridState) Warm(t int) bool {
	if s.last == 0 || t <= s.last {
		return false
	}
	d := t - s.last
	if s.fallback {
		return d <= HistogramRange
	}
	return s.prewarm <= d && d <= s.keepalive
}

func (s *hybridState) Observe(t, count int) {
	if count == 0 {
		return
	}
	if s.last > 0 && t > s.last {
		s.h.add(t - s.last)
	}
	s.last = t
	s.prewarm, s.keepalive, s.fallback = hybridWindow(&s.h)
}

// hybridWindow is the hybrid policy's window after an invocation, from the
// idle times seen so far: warm from prewarm to keepalive minutes after it,
// or fallback to fixed-240.
func hybridWindow(h *idleHistogram) (prewarm, keepalive int, fallback bool) {
	if h.total() < 10 || 2*h.oob > h.total() || !h.patterned() {
		return 0, HistogramRange, true
	}
	p5, p99 := h.percentile(5), h.percentile(99)
	return 9 * p5 / 10, (11*p99 + 9) / 10, false
}

// idleHistogram counts idle times in 1-minute bins over 1 … HistogramRange
// and the out-of-bounds ones apart.
type idleHistogram struct {
	bins [HistogramRange + 1]int // bins[d] counts idle time d; bins[0] unused
	in   int                     // in-bound idle times, = Σ bins[d]
	oob  int                     // idle times over HistogramRange
	sq   int                     // Σ bins[d]², for the coefficient of variation
}

func (h *idleHistogram) total() int { return h.in + h.oob }

func (h *idleHistogram) add(d int) {
	if d < 1 {
		return
	}
	if d > HistogramRange {
		h.oob++
		return
	}
	h.sq += 2*h.bins[d] + 1 // (c+1)² - c²
	h.bins[d]++
	h.in++
}

// patterned reports whether the coefficient of variation of the 240 bin
// counts (population standard deviation ÷ mean) is at least 2. With S the
// sum and Q the sum of squares of the n = 240 counts, CV = √(nQ − S²) ÷ S,
// so CV ≥ 2 exactly when nQ ≥ 5S²: integers, no rounding.
func (h *idleHistogram) patterned() bool {
	if h.in == 0 {
		return false
	}
	return HistogramRange*h.sq >= 5*h.in*h.in
}

// percentile is the nearest-rank p-th percentile of the in-bound idle
// times: the value at 1-based rank ⌈p·n/100⌉ in sorted order; 0 when there
// are none.
func (h *idleHistogram) percentile(p int) int {
	if h.in == 0 {
		return 0
	}
	rank := max((p*h.in+99)/100, 1)
	seen := 0
	for d := 1; d <= HistogramRange; d++ {
		seen += h.bins[d]
		if seen >= rank {
			return d
		}
	}
	return HistogramRange
}
