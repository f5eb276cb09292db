package scheduler

// Candidates is the second step of the placement chain: the runners that
// passed the filter for one request, sorted by id, and what the table knows
// about them for that request. Strategies read it to score and select; it
// is valid only during Strategy.Select (its runners are a reused buffer).
type Candidates struct {
	req     Request
	runners []*Runner // feasible, sorted by id
	table   *Table
}

// Request is the request the candidates were filtered for.
func (c Candidates) Request() Request { return c.req }

// Runners are the feasible runners, sorted by id. Do not modify or keep it.
func (c Candidates) Runners() []*Runner { return c.runners }

// Len is the number of feasible runners.
func (c Candidates) Len() int { return len(c.runners) }

// Warm is the least loaded candidate with an idle warm instance of the
// request's module, and the next one in the same order (see LeastLoaded);
// nil when there is none. It is one lookup in the table's warm index, not
// one per runner.
func (c Candidates) Warm() (best, next *Runner) {
	if c.table == nil {
		return nil, nil
	}
	var b, n ranked
	for r := range c.table.idleWarm(c.req.Digest) {
		if c.has(r) {
			b, n = rank(b, n, ranked{r, r.Load()})
		}
	}
	return b.r, n.r
}

// LeastLoaded is the least loaded candidate and the next one in the same
// order; nil when there is none. Less loaded means a lower load, and
// between equal loads the lower id: the one order every "least loaded"
// choice in placement uses.
func (c Candidates) LeastLoaded() (best, next *Runner) {
	var b, n ranked
	for _, r := range c.runners {
		b, n = rank(b, n, ranked{r, r.Load()})
	}
	return b.r, n.r
}

// has reports whether r is one of the candidates (binary search by id).
func (c Candidates) has(r *Runner) bool {
	lo, hi := 0, len(c.runners)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.runners[m].ID < r.ID {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(c.runners) && c.runners[lo] == r
}

// ranked is a runner with its load as read once for one comparison pass.
type ranked struct {
	r    *Runner
	load int
}

// before is the order of "less loaded": lower load first, and between
// equal loads the lower id, so that the choice does not depend on the
// order runners are visited in (the warm index is a map).
func (x ranked) before(y ranked) bool {
	return x.load < y.load || x.load == y.load && x.r.ID < y.r.ID
}

// rank inserts x into the best two so far, b before n (zero: none yet).
func rank(b, n, x ranked) (ranked, ranked) {
	switch {
	case b.r == nil || x.before(b):
		return x, b
	case n.r == nil || x.before(n):
		return b, x
	}
	return b, n
}
