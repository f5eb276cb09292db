package scheduler

import "github.com/hearthfn/hearth/internal/wire"

// filter is the first step of the placement chain: it keeps the runners
// that are feasible for the request and returns them, with what the table
// knows about them, as the candidates view. It reuses buf; runners must be
// sorted by id (Table.Runners), and the candidates keep that order.
func filter(t *Table, runners []*Runner, req Request, exclude []string, buf []*Runner) Candidates {
	return Candidates{req: req, runners: feasibleOf(runners, exclude, buf), table: t}
}

// feasibleOf appends to buf[:0] the runners that are feasible: ready
// (alive and not draining) and below their capacity (canTake), and not in
// exclude, the runners that already failed this call. These are all the
// feasibility rules. (Apart from filter, and with the rules inlined, so
// that this loop, the chain's cost with many runners, stays tight.)
func feasibleOf(runners []*Runner, exclude []string, buf []*Runner) []*Runner {
	out := buf[:0]
	for _, r := range runners {
		if canTake(r) && !excluded(r, exclude) {
			out = append(out, r)
		}
	}
	return out
}

// canTake reports whether a runner can take a call now: ready (alive and
// not draining), not held back while it warms after joining, and below
// its capacity.
func canTake(r *Runner) bool {
	b := r.hb.Load()
	return b.State == wire.StateReady && !r.joining.Load() && r.Load() < b.Capacity
}

// excluded reports whether r is in exclude; most calls exclude nothing,
// and then it does not read the runner at all.
func excluded(r *Runner, exclude []string) bool {
	return len(exclude) > 0 && contains(exclude, r.ID)
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
