package replay

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// ErrUsage is wrapped by the errors of a replay asked for something it
// cannot do: a window outside the trace, a selection of no function.
var ErrUsage = errors.New("replay: bad request")

// Selection says which functions of the trace a replay drives: all those
// with invocations in the window (the zero Selection), the Busiest N of
// them, or a seeded random Sample of N of them.
type Selection struct {
	Busiest int
	Sample  int
	Seed    uint64
}

// Select returns the indices, in trace order, of the functions sel picks
// among those with at least one invocation in minutes from … to.
func Select(tr *autoscaler.Trace, from, to int, sel Selection) ([]int, error) {
	if from < 1 || to > autoscaler.Minutes || from > to {
		return nil, fmt.Errorf("%w: minutes %d … %d: want 1 ≤ --from ≤ --to ≤ %d", ErrUsage, from, to, autoscaler.Minutes)
	}
	if sel.Busiest < 0 || sel.Sample < 0 || sel.Busiest > 0 && sel.Sample > 0 {
		return nil, fmt.Errorf("%w: give --functions N or --sample N (N ≥ 1), not both", ErrUsage)
	}
	type candidate struct{ index, calls int }
	var active []candidate
	for i := range tr.Functions {
		n := 0
		for _, c := range tr.Functions[i].Counts[from-1 : to] {
			n += c
		}
		if n > 0 {
			active = append(active, candidate{i, n})
		}
	}
	if len(active) == 0 {
		return nil, fmt.Errorf("%w: no function of the trace (%d rows) has invocations in minutes %d … %d", ErrUsage, len(tr.Functions), from, to)
	}
	switch {
	case sel.Busiest > 0:
		slices.SortStableFunc(active, func(a, b candidate) int { return b.calls - a.calls })
		active = active[:min(sel.Busiest, len(active))]
	case sel.Sample > 0 && sel.Sample < len(active):
		r := rand.New(rand.NewPCG(sel.Seed, 0x5265706c6179)) // "Replay"
		perm := r.Perm(len(active))
		picked := make([]candidate, sel.Sample)
		for i := range picked {
			picked[i] = active[perm[i]]
		}
		active = picked
	}
	out := make([]int, len(active))
	for i, c := range active {
		out[i] = c.index
	}
	slices.Sort(out)
	return out, nil
}
