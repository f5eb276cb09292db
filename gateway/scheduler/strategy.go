package scheduler

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync/atomic"

	"github.com/hearthfn/hearth/internal/wire"
)

// ErrNoCapacity means every feasible runner is at its capacity.
var ErrNoCapacity = errors.New("every runner is at capacity")

// ErrNoRunners means no runner is alive and ready.
var ErrNoRunners = errors.New("no runner is available")

// Request is what placement needs to know about an invocation.
type Request struct {
	Digest string // module sha256 hex
	// warm finds the least loaded feasible runner with an idle warm
	// instance of the module; set by the scheduler.
	warm func() *Runner
}

// Decision is where an invocation goes and why.
type Decision struct {
	Runner     *Runner
	Reason     string  // warm, home, p2c, round-robin, least-loaded, any
	Score      float64 // the strategy's score of the chosen runner, if it has one
	Load       int     // the runner's load when chosen
	Capacity   int
	Candidates int // feasible runners considered
}

// String is the decision as it appears in logs and the Hearth-Placement header.
func (d Decision) String() string {
	if d.Runner == nil {
		return d.Reason
	}
	// As fmt's "%s runner=%s load=%d/%d candidates=%d score=%.3f", which
	// costs twice as much on the invocation path.
	b := make([]byte, 0, 64+len(d.Reason)+len(d.Runner.ID))
	b = append(b, d.Reason...)
	b = append(b, " runner="...)
	b = append(b, d.Runner.ID...)
	b = append(b, " load="...)
	b = strconv.AppendInt(b, int64(d.Load), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(d.Capacity), 10)
	b = append(b, " candidates="...)
	b = strconv.AppendInt(b, int64(d.Candidates), 10)
	b = append(b, " score="...)
	b = strconv.AppendFloat(b, d.Score, 'f', 3, 64)
	return string(b)
}

// Strategy scores feasible runners and selects one. Feasible runners are
// alive, ready (not draining) and below their capacity.
type Strategy interface {
	Name() string
	Select(req Request, feasible []*Runner) Decision
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

// canTake reports whether a runner can take a call now: ready (alive and
// not draining) and below its capacity.
func canTake(r *Runner) bool {
	b := r.hb.Load()
	return b.State == wire.StateReady && r.Load() < b.Capacity
}

// feasible filters runners that can take a call now; it reuses buf.
func feasible(runners []*Runner, buf []*Runner) []*Runner {
	out := buf[:0]
	for _, r := range runners {
		if canTake(r) {
			out = append(out, r)
		}
	}
	return out
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

func (h *Hashing) Select(req Request, runners []*Runner) Decision {
	d := Decision{Candidates: len(runners)}
	if len(runners) == 0 {
		return d
	}
	// 1. An idle warm instance: the call starts in microseconds.
	if req.warm != nil {
		if warm := req.warm(); warm != nil {
			return h.decide(d, warm, "warm", 0)
		}
	} else {
		var warm *Runner
		for _, r := range runners {
			if r.IdleWarm(req.Digest) > 0 && (warm == nil || r.Load() < warm.Load()) {
				warm = r
			}
		}
		if warm != nil {
			return h.decide(d, warm, "warm", 0)
		}
	}

	// 2. Rendezvous hashing with bounded load: the highest-scoring runners
	// whose load stays within the bound.
	total := 0
	for _, r := range runners {
		total += r.Load()
	}
	bound := int(h.Bound*float64(total+1)/float64(len(runners))) + 1
	digestHash := maphash.String(h.seed, req.Digest)
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
		return LeastLoaded{}.Select(req, runners)
	}
	// 3. Power of two choices between the two home runners.
	if second != nil && second.Load() < first.Load() {
		return h.decide(d, second, "p2c", unit(secondScore))
	}
	return h.decide(d, first, "home", unit(firstScore))
}

func (h *Hashing) decide(d Decision, r *Runner, reason string, score float64) Decision {
	d.Runner, d.Reason, d.Score, d.Load, d.Capacity = r, reason, score, r.Load(), r.Capacity()
	return d
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

// RoundRobin cycles through the feasible runners (a baseline).
type RoundRobin struct{ next atomic.Uint64 }

func (*RoundRobin) Name() string { return "round-robin" }

func (rr *RoundRobin) Select(_ Request, runners []*Runner) Decision {
	if len(runners) == 0 {
		return Decision{}
	}
	r := runners[(rr.next.Add(1)-1)%uint64(len(runners))]
	return Decision{Runner: r, Reason: "round-robin", Load: r.Load(), Capacity: r.Capacity(), Candidates: len(runners)}
}

// LeastLoaded picks the runner with the least in-flight work, the first
// by id among equals (a baseline).
type LeastLoaded struct{}

func (LeastLoaded) Name() string { return "least-loaded" }

func (LeastLoaded) Select(_ Request, runners []*Runner) Decision {
	var best *Runner
	for _, r := range runners {
		if best == nil || r.Load() < best.Load() {
			best = r
		}
	}
	if best == nil {
		return Decision{}
	}
	return Decision{Runner: best, Reason: "least-loaded", Load: best.Load(), Capacity: best.Capacity(), Candidates: len(runners)}
}
