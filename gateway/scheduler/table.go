package scheduler

import (
	"context"
	"hash/maphash"
	"iter"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// DeadAfter is how many heartbeat intervals without a beat make a runner
// dead.
const DeadAfter = 3

// Runner is the scheduler's view of one runner.
type Runner struct {
	ID   string
	seed uint64 // hash of ID, for rendezvous hashing

	hb       atomic.Pointer[beat]
	inflight atomic.Int64  // calls this gateway has on the runner now
	dead     chan struct{} // closed when the runner is declared dead or stopped
	deadOnce sync.Once
	ctx      context.Context // canceled when the runner is declared dead
	cancel   context.CancelFunc
	// joining: the runner joined while others were ready and takes no
	// calls until Table.OnJoin admits it (it warms meanwhile).
	joining atomic.Bool
}

// Ready reports whether the runner's last heartbeat said ready.
func (r *Runner) Ready() bool { return r.hb.Load().State == wire.StateReady }

// Warm is the modules the runner's last heartbeat listed.
func (r *Runner) Warm() []wire.WarmModule { return r.hb.Load().Warm }

// Joining reports whether the runner is held back from placement while
// it warms after joining.
func (r *Runner) Joining() bool { return r.joining.Load() }

// beat is one heartbeat, with its warm set indexed for lookups.
type beat struct {
	wire.Heartbeat
	seen time.Time
	// others is the runner's reported load less this gateway's own calls
	// on it when the beat arrived: the work other gateways placed there.
	others int
	idle   map[string]int // module digest → idle instances
	warm   map[string]bool
}

func newBeat(hb wire.Heartbeat, seen time.Time) *beat {
	b := &beat{Heartbeat: hb, seen: seen, idle: make(map[string]int, len(hb.Warm)), warm: make(map[string]bool, len(hb.Warm))}
	for _, w := range hb.Warm {
		b.idle[w.Digest] += w.Idle
		b.warm[w.Digest] = true
	}
	return b
}

// Load is the runner's in-flight work as this gateway sees it: its own
// calls, exact, plus the calls of other gateways as of the last heartbeat.
func (r *Runner) Load() int {
	return int(r.inflight.Load()) + r.hb.Load().others
}

// Capacity is how many calls the runner takes at once.
func (r *Runner) Capacity() int { return r.hb.Load().Capacity }

// IdleWarm is the number of idle warm instances of a module on the runner.
func (r *Runner) IdleWarm(digest string) int { return r.hb.Load().idle[digest] }

// HasModule reports whether the runner has the module compiled.
func (r *Runner) HasModule(digest string) bool { return r.hb.Load().warm[digest] }

// Dead is closed when the runner stops or misses DeadAfter heartbeats.
func (r *Runner) Dead() <-chan struct{} { return r.dead }

// Context is canceled when the runner is declared dead; calls on it can
// end at once (context.AfterFunc) instead of waiting for their timeout.
func (r *Runner) Context() context.Context { return r.ctx }

func (r *Runner) kill() {
	r.deadOnce.Do(func() {
		close(r.dead)
		r.cancel()
	})
}

// Table is the set of live runners, kept from heartbeats.
type Table struct {
	interval time.Duration
	hashSeed maphash.Seed

	mu      sync.Mutex
	runners map[string]*Runner
	list    atomic.Pointer[[]*Runner] // sorted by ID; rebuilt when membership changes

	// warmIdx maps a module digest to the runners that reported idle warm
	// instances of it, so the warm check is one lookup, not one per runner.
	warmMu  sync.RWMutex
	warmIdx map[string]map[*Runner]struct{}

	gateway string // this gateway's id in its calls (SetGateway)

	// OnJoin, when set (before the first Observe), is called in a
	// goroutine of its own with a runner seen for the first time that
	// started moments ago (joined: see joined), ready, while other runners
	// are ready: the runner takes no calls until
	// admit is called (OnJoin must call it, on every path). A runner that
	// joins an empty table is placed at once: nothing else could take the
	// calls.
	OnJoin func(r *Runner, admit func())

	// Runners removed as dead: by Sweep (missed heartbeats) and by
	// MarkDead (refused a call).
	missed, refused atomic.Uint64
}

// NewTable makes an empty table for runners that beat every interval.
func NewTable(interval time.Duration) *Table {
	t := &Table{interval: interval, hashSeed: maphash.MakeSeed(), runners: make(map[string]*Runner), warmIdx: make(map[string]map[*Runner]struct{})}
	t.list.Store(&[]*Runner{})
	return t
}

// SetGateway tells the table the id this gateway puts in its calls
// (wire.Request.Gateway), so that heartbeats' per-gateway counts tell its
// own calls from the others'. Call it before the first Observe.
func (t *Table) SetGateway(id string) { t.gateway = id }

// Observe records a heartbeat received at now.
func (t *Table) Observe(hb wire.Heartbeat, now time.Time) {
	if hb.ID == "" {
		return
	}
	if hb.State == wire.StateStopped {
		// A runner stops only after answering its calls, so the calls it
		// had are not failed: their answers are already on the way.
		t.removeQuietly(hb.ID)
		return
	}
	t.mu.Lock()
	r, ok := t.runners[hb.ID]
	if !ok {
		r = &Runner{ID: hb.ID, seed: maphash.String(t.hashSeed, hb.ID), dead: make(chan struct{})}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		t.runners[hb.ID] = r
	}
	nb := newBeat(hb, now)
	if hb.InFlightBy != nil || hb.InFlight == 0 {
		// Counted by the runner at one instant: exact.
		nb.others = max(0, hb.InFlight-hb.InFlightBy[t.gateway])
	} else {
		// A runner that does not split its calls by gateway: this
		// gateway's calls now stand in for those at the heartbeat, which
		// is off by the calls that ended or began in between.
		nb.others = max(0, hb.InFlight-int(r.inflight.Load()))
	}
	old := r.hb.Swap(nb)
	join := false
	if !ok {
		if t.OnJoin != nil && hb.State == wire.StateReady && t.joined(hb) && t.readyLocked() > 0 {
			r.joining.Store(true)
			join = true
		}
		t.rebuildLocked()
	}
	t.mu.Unlock()
	t.reindex(r, old, nb)
	if join {
		go t.OnJoin(r, func() { r.joining.Store(false) })
	}
}

// joined reports whether a runner first seen with heartbeat hb has just
// started: its first heartbeats come within a few intervals of its start
// (both times by its own clock). A runner up for longer is one a gateway
// finds at its own start, not a joiner: it is placed at once, and has its
// warm instances already.
func (t *Table) joined(hb wire.Heartbeat) bool {
	return !hb.Started.IsZero() && hb.Time.Sub(hb.Started) < 3*t.interval
}

// readyLocked counts the ready runners that take calls, other than those
// joining; t.mu is held.
func (t *Table) readyLocked() int {
	n := 0
	for _, r := range *t.list.Load() {
		if b := r.hb.Load(); b != nil && b.State == wire.StateReady && !r.joining.Load() {
			n++
		}
	}
	return n
}

// reindex updates the warm index from a runner's previous beat to its new
// one (nb nil: the runner is gone).
func (t *Table) reindex(r *Runner, old, nb *beat) {
	t.warmMu.Lock()
	defer t.warmMu.Unlock()
	if old != nil {
		for d, n := range old.idle {
			if n > 0 && (nb == nil || nb.idle[d] == 0) {
				if set := t.warmIdx[d]; set != nil {
					delete(set, r)
					if len(set) == 0 {
						delete(t.warmIdx, d)
					}
				}
			}
		}
	}
	if nb != nil {
		for d, n := range nb.idle {
			if n > 0 {
				set := t.warmIdx[d]
				if set == nil {
					set = make(map[*Runner]struct{})
					t.warmIdx[d] = set
				}
				set[r] = struct{}{}
			}
		}
	}
}

// idleWarm yields the runners that reported idle warm instances of digest,
// in no particular order, holding the index's read lock while it runs.
func (t *Table) idleWarm(digest string) iter.Seq[*Runner] {
	return func(yield func(*Runner) bool) {
		t.warmMu.RLock()
		defer t.warmMu.RUnlock()
		for r := range t.warmIdx[digest] {
			if !yield(r) {
				return
			}
		}
	}
}

// Sweep removes runners that missed DeadAfter heartbeats by now, and
// returns their ids.
func (t *Table) Sweep(now time.Time) []string {
	limit := time.Duration(DeadAfter) * t.interval
	t.mu.Lock()
	var dead []string
	for id, r := range t.runners {
		if now.Sub(r.hb.Load().seen) > limit {
			dead = append(dead, id)
		}
	}
	t.mu.Unlock()
	for _, id := range dead {
		if t.remove(id) {
			t.missed.Add(1)
		}
	}
	return dead
}

// MarkDead removes a runner that did not answer.
func (t *Table) MarkDead(id string) {
	if t.remove(id) {
		t.refused.Add(1)
	}
}

// Lost counts the runners removed as dead since the table was made: for
// missing their heartbeats (Sweep) and for refusing a call (MarkDead).
func (t *Table) Lost() (missed, refused uint64) { return t.missed.Load(), t.refused.Load() }

// remove drops a runner and fails the calls in flight on it (Dead closes);
// it reports whether the runner was in the table.
func (t *Table) remove(id string) bool {
	r := t.removeQuietly(id)
	if r != nil {
		r.kill()
	}
	return r != nil
}

// removeQuietly drops a runner from placement and returns it.
func (t *Table) removeQuietly(id string) *Runner {
	t.mu.Lock()
	r, ok := t.runners[id]
	if ok {
		delete(t.runners, id)
		t.rebuildLocked()
	}
	t.mu.Unlock()
	if !ok {
		return nil
	}
	t.reindex(r, r.hb.Load(), nil)
	return r
}

func (t *Table) rebuildLocked() {
	list := make([]*Runner, 0, len(t.runners))
	for _, r := range t.runners {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	t.list.Store(&list)
}

// Runners is the current list of runners, sorted by id. Do not modify it.
func (t *Table) Runners() []*Runner { return *t.list.Load() }

// Get returns the runner with the id, if it is in the table.
func (t *Table) Get(id string) (*Runner, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.runners[id]
	return r, ok
}

// Info is a runner as the API shows it.
type Info struct {
	ID          string            `json:"id"`
	State       string            `json:"state"`
	Capacity    int               `json:"capacity"`
	InFlight    int               `json:"in_flight"`
	MemoryBytes uint64            `json:"memory_bytes"`
	Warm        []wire.WarmModule `json:"warm"`
	LastSeen    time.Time         `json:"last_seen"`
	Joining     bool              `json:"joining,omitempty"`
}

// Infos describes every runner in the table.
func (t *Table) Infos() []Info {
	runners := t.Runners()
	out := make([]Info, 0, len(runners))
	for _, r := range runners {
		b := r.hb.Load()
		warm := b.Warm
		if warm == nil {
			warm = []wire.WarmModule{}
		}
		out = append(out, Info{ID: r.ID, State: b.State, Capacity: b.Capacity, InFlight: r.Load(), MemoryBytes: b.MemoryBytes, Warm: warm, LastSeen: b.seen, Joining: r.joining.Load()})
	}
	return out
}

// Interval is the runners' heartbeat period the table expects.
func (t *Table) Interval() time.Duration { return t.interval }
