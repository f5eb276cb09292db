package scheduler

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"
)

// Strategy is the last step of the placement chain: it scores the
// candidates and selects one. Select returns a Decision with a nil Runner
// when it selects none; it reads c only while it runs.
type Strategy interface {
	Name() string
	Select(c Candidates) Decision
}

// StrategyByName returns a strategy: hashing (the default), round-robin or
// least-loaded.
func StrategyByName(name string) (Strategy, error) {
	switch name {
	case "", "hashing":
		return NewHashing(1.25), nil
	case "round-robin":
		return &RoundRobin{}, nil
	case "least-loaded":
		return LeastLoaded{}, nil
	}
	return nil, fmt.Errorf("unknown placement strategy %q: use hashing, round-robin or least-loaded", name)
}

// Hashing is the default strategy: prefer a runner with an idle warm
// instance of the module; otherwise rendezvous hashing on the module digest
// with bounded load, so each function has a few home runners whose caches
// stay hot; between the two best home runners, the less loaded one
// (power of two choices).
type Hashing struct {
	// Bound is the load bound factor c of consistent hashing with bounded
	// loads: a runner takes a call only if its load stays ≤ c × the mean.
	Bound float64
	seed  maphash.Seed
}

// NewHashing makes the hashing strategy with load bound factor c.
func NewHashing(c float64) *Hashing { return &Hashing{Bound: c, seed: maphash.MakeSeed()} }

func (*Hashing) Name() string { return "hashing" }

// Select chooses, in order: the least loaded candidate with an idle warm
// instance (reason warm, runner-up the next warm candidate); the
// best-scoring home runner within the load bound (home, runner-up the next
// home runner), unless the next home runner is less loaded (p2c, runner-up
// the best-scoring one); the least loaded candidate when every one is above
// the bound (least-loaded).
func (h *Hashing) Select(c Candidates) Decision {
	runners := c.Runners()
	if len(runners) == 0 {
		return Decision{}
	}
	// 1. An idle warm instance: the call starts in microseconds.
	if warm, next := c.Warm(); warm != nil {
		return c.decide("warm", warm, 0, next, 0)
	}

	// 2. Rendezvous hashing with bounded load: the highest-scoring runners
	// whose load stays within the bound.
	total := 0
	for _, r := range runners {
		total += r.Load()
	}
	bound := int(h.Bound*float64(total+1)/float64(len(runners))) + 1
	digestHash := maphash.String(h.seed, c.req.Digest)
	var first, second *Runner
	var firstScore, secondScore uint64
	for _, r := range runners {
		if r.Load()+1 > bound {
			continue
		}
		s := mix(digestHash ^ r.seed)
		switch {
		case first == nil || s > firstScore:
			second, secondScore = first, firstScore
			first, firstScore = r, s
		case second == nil || s > secondScore:
			second, secondScore = r, s
		}
	}
	if first == nil { // every runner is above the bound: least loaded
		return LeastLoaded{}.Select(c)
	}
	// 3. Power of two choices between the two home runners.
	if second != nil && second.Load() < first.Load() {
		return c.decide("p2c", second, unit(secondScore), first, unit(firstScore))
	}
	return c.decide("home", first, unit(firstScore), second, unit(secondScore))
}

// Home is the runner among runners that rendezvous hashing makes the home
// of digest, whatever their load: where the module's calls go when no
// runner has an idle instance of it. Nil when runners is empty.
func (h *Hashing) Home(digest string, runners []*Runner) *Runner {
	digestHash := maphash.String(h.seed, digest)
	var home *Runner
	var best uint64
	for _, r := range runners {
		if s := mix(digestHash ^ r.seed); home == nil || s > best {
			home, best = r, s
		}
	}
	return home
}

// mix is a 64-bit finaliser (splitmix64): a cheap, well-spread score.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// RoundRobin cycles through the candidates (a baseline). Its decisions
// have no runner-up.
type RoundRobin struct{ next atomic.Uint64 }

func (*RoundRobin) Name() string { return "round-robin" }

func (rr *RoundRobin) Select(c Candidates) Decision {
	runners := c.Runners()
	if len(runners) == 0 {
		return Decision{}
	}
	r := runners[(rr.next.Add(1)-1)%uint64(len(runners))]
	return c.decide("round-robin", r, 0, nil, 0)
}

// LeastLoaded picks the candidate with the least in-flight work, the lower
// id among equals (Candidates.LeastLoaded), with the second least loaded
// as the runner-up (a baseline).
type LeastLoaded struct{}

func (LeastLoaded) Name() string { return "least-loaded" }

func (LeastLoaded) Select(c Candidates) Decision {
	best, next := c.LeastLoaded()
	if best == nil {
		return Decision{}
	}
	return c.decide("least-loaded", best, 0, next, 0)
}
