package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a recorded value is off by at most 1/32 (~3%).
const subBits = 5

const (
	subCount   = 1 << subBits            // buckets per power of two
	linearMax  = 2 * subCount            // values below are counted exactly
	numBuckets = linearMax + 58*subCount // enough for any int64 of nanoseconds
)

// Histogram counts latencies in log-linear buckets (exact below 64 ns,
// then 32 buckets per power of two). The zero value is ready to use; it is
// not safe for concurrent use — give each worker its own and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// bucket returns the index of the bucket that holds v nanoseconds.
func bucket(v uint64) int {
	if v < linearMax {
		return int(v)
	}
	e := bits.Len64(v) - (subBits + 1) // ≥ 1
	m := v >> e                        // in [subCount, 2*subCount)
	return linearMax + (e-1)*subCount + int(m-subCount)
}

// bucketValue is a representative value (the middle) of bucket i.
func bucketValue(i int) time.Duration {
	if i < linearMax {
		return time.Duration(i)
	}
	e := (i-linearMax)/subCount + 1
	m := uint64((i-linearMax)%subCount + subCount)
	return time.Duration(m<<e + (uint64(1)<<e)/2)
}

// Record counts one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds the counts of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the exact mean of the recorded latencies.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Min and Max are the exact extremes.
func (h *Histogram) Min() time.Duration { return h.min }

// Max is the largest recorded latency.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the latency below which a fraction q (0 < q ≤ 1) of the
// recorded latencies fall, within the bucket precision, clamped to the
// exact minimum and maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(bucketValue(i), h.min), h.max)
		}
	}
	return h.max
}
