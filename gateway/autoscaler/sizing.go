package autoscaler

import (
	"math"

	"github.com/hearthfn/hearth/internal/limits"
)

// Runner sizing from the forecast (docs/autoscaler.md, decision 0016).
// The leader keeps as many runners as the calls and the warm memory it
// expects in the coming minutes need, at SizingTarget of their capacity:
//
//	calls     = Σ per function max(in flight now,
//	            its peak concurrency if the policy expects it within SizingLead minutes)
//	instances = per function max(⌈calls⌉, the KPA's instances, 1 if kept warm)
//	memory    = Σ per function instances × its memory
//	runners   = max(⌈calls ÷ (slots × target)⌉, ⌈memory ÷ (slots × 128 MB × target)⌉)
//
// A runner's memory for instances is its slots × limits.DefaultMemoryMB,
// what the Kubernetes manifests give a runner pod. Runners are added at
// once and removed only when fewer have been enough for two policy
// minutes of reports (hysteresis: Knative's scale-down delay).
const (
	// SizingTarget is the utilisation runners are sized for: 30 %
	// headroom over the forecast, the KPA's target utilisation too.
	SizingTarget = 0.7
	// SizingLead is how many minutes after the coming one the forecast
	// is read: a function the policy expects within them counts with its
	// peak concurrency, so its runners start a minute before its calls.
	SizingLead = 1
	// PeakDecay is the weight an earlier peak keeps at each minute with
	// calls: a burst is remembered between the minutes it comes in, and
	// forgotten over a few minutes when the bursts shrink.
	PeakDecay = 0.75
)

// Demand is what one function is expected to need in the coming minutes.
type Demand struct {
	Calls     float64 // calls in flight at once
	Instances int     // instances it holds (one per call at once, one when kept warm)
	MemoryMB  float64 // the memory of one instance
}

// Need is a forecast summed over functions: the calls in flight at once
// and the memory of the instances.
type Need struct {
	Calls    float64
	MemoryMB float64
}

// Add counts one function's demand in.
func (n *Need) Add(d Demand) {
	n.Calls += d.Calls
	n.MemoryMB += float64(d.Instances) * d.MemoryMB
}

// Runners is how many runners of slots calls at once carry the need at
// the target utilisation (a target outside (0, 1] counts as 1). With slots
// unknown (no runner seen yet) a need is carried by one.
func (n Need) Runners(slots int, target float64) int {
	if n.Calls <= 0 && n.MemoryMB <= 0 {
		return 0
	}
	if slots <= 0 {
		return 1
	}
	if !(target > 0 && target <= 1) {
		target = 1
	}
	byCalls := math.Ceil(n.Calls / (float64(slots) * target))
	byMemory := math.Ceil(n.MemoryMB / (float64(slots) * limits.DefaultMemoryMB * target))
	return int(max(byCalls, byMemory, 1))
}

// hysteresis passes a rise of the wanted runners at once and a fall only
// once it has lasted hold reports: it returns the most wanted over the
// last hold reports.
type hysteresis struct {
	hold   int
	recent []int
}

func (h *hysteresis) next(want int) int {
	h.recent = append(h.recent, want)
	if len(h.recent) > max(h.hold, 1) {
		h.recent = h.recent[len(h.recent)-max(h.hold, 1):]
	}
	most := 0
	for _, w := range h.recent {
		most = max(most, w)
	}
	return most
}
