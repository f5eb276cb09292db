package scheduler

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrOverloaded means the call waited QueueWait for capacity, or found its
// function's queue full; the gateway answers 429 with Retry-After.
var ErrOverloaded = errors.New("overloaded: every runner is at capacity")

// ErrNoCapacity means every feasible runner is at its capacity.
var ErrNoCapacity = errors.New("every runner is at capacity")

// ErrNoRunners means no runner is alive and ready.
var ErrNoRunners = errors.New("no runner is available")

// Request is what placement needs to know about an invocation.
type Request struct {
	Digest string // module sha256 hex
}

// Class orders waiting calls: sync calls are woken before async ones.
type Class int

const (
	Sync Class = iota
	Async
	classes
)

// Config configures a scheduler.
type Config struct {
	Strategy  Strategy       // default hashing
	QueueWait time.Duration  // longest wait for capacity; default 1 s
	MaxQueue  int            // waiting calls per function; default 128
	Weights   map[string]int // namespace weights for fair sharing; default 1 each
}

// Scheduler places calls on runners from a Table.
type Scheduler struct {
	table    *Table
	strategy Strategy
	cfg      Config
	buffers  sync.Pool

	mu      sync.Mutex
	queues  [classes]map[string][]*waiter // by namespace, oldest first
	ring    [classes][]string             // namespaces with waiters, in turn order
	turn    [classes]int
	credit  map[string]int // wake-ups left in the current namespace's turn
	waiting map[string]int // waiting calls per function
}

type waiter struct {
	ns, fn string
	class  Class
	ready  chan struct{}
}

// New makes a scheduler over table.
func New(table *Table, cfg Config) *Scheduler {
	if cfg.Strategy == nil {
		cfg.Strategy = NewHashing(1.25)
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = time.Second
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 128
	}
	s := &Scheduler{table: table, strategy: cfg.Strategy, cfg: cfg, credit: make(map[string]int), waiting: make(map[string]int)}
	for c := range s.queues {
		s.queues[c] = make(map[string][]*waiter)
	}
	s.buffers.New = func() any { b := make([]*Runner, 0, 64); return &b }
	return s
}

// Table is the scheduler's runner table.
func (s *Scheduler) Table() *Table { return s.table }

// Strategy is the placement strategy in use.
func (s *Scheduler) Strategy() Strategy { return s.strategy }

// Place chooses a runner for req without waiting, skipping the runners in
// exclude (those that already failed this call): the placement chain,
// filter → candidates → the strategy's selection.
func (s *Scheduler) Place(req Request, exclude []string) (Decision, error) {
	runners := s.table.Runners()
	if len(runners) == 0 {
		return Decision{}, ErrNoRunners
	}
	bufp := s.buffers.Get().(*[]*Runner)
	defer s.buffers.Put(bufp)
	c := filter(s.table, runners, req, exclude, *bufp)
	*bufp = c.runners[:0]
	if c.Len() == 0 {
		if len(exclude) > 0 && len(exclude) >= len(runners) {
			return Decision{}, ErrNoRunners
		}
		return Decision{}, ErrNoCapacity
	}
	d := s.strategy.Select(c)
	if d.Runner == nil {
		return d, ErrNoCapacity
	}
	return d, nil
}

// Acquire places a call and counts it on the chosen runner until release is
// called. When every runner is at capacity the call waits, in its
// namespace's turn, up to QueueWait (or ctx); then ErrOverloaded.
func (s *Scheduler) Acquire(ctx context.Context, ns, fn string, class Class, req Request, exclude []string) (Decision, func(), error) {
	var deadline <-chan time.Time
	for {
		d, err := s.Place(req, exclude)
		if err == nil {
			d.Runner.inflight.Add(1)
			r := d.Runner
			var once sync.Once
			return d, func() { once.Do(func() { r.inflight.Add(-1); s.Wake() }) }, nil
		}
		if !errors.Is(err, ErrNoCapacity) {
			return d, nil, err
		}
		if deadline == nil {
			t := time.NewTimer(s.cfg.QueueWait)
			defer t.Stop()
			deadline = t.C
		}
		w, ok := s.enqueue(ns, fn, class)
		if !ok {
			return Decision{}, nil, ErrOverloaded
		}
		select {
		case <-w.ready:
		case <-deadline:
			s.dequeue(w)
			return Decision{}, nil, ErrOverloaded
		case <-ctx.Done():
			s.dequeue(w)
			return Decision{}, nil, ctx.Err()
		}
	}
}

func (s *Scheduler) enqueue(ns, fn string, class Class) (*waiter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ns + "/" + fn
	if s.waiting[key] >= s.cfg.MaxQueue {
		return nil, false
	}
	s.waiting[key]++
	w := &waiter{ns: ns, fn: key, class: class, ready: make(chan struct{})}
	q := s.queues[class]
	if len(q[ns]) == 0 {
		s.ring[class] = append(s.ring[class], ns)
	}
	q[ns] = append(q[ns], w)
	return w, true
}

// dequeue removes a waiter that gave up; if it was woken meanwhile, the
// wake-up passes to the next waiter.
func (s *Scheduler) dequeue(w *waiter) {
	s.mu.Lock()
	q := s.queues[w.class][w.ns]
	found := false
	for i, x := range q {
		if x == w {
			s.removeLocked(w.class, w.ns, i)
			found = true
			break
		}
	}
	s.mu.Unlock()
	if !found { // it was woken but will not use the slot
		s.Wake()
	}
}

func (s *Scheduler) removeLocked(class Class, ns string, i int) {
	q := s.queues[class][ns]
	w := q[i]
	q = append(q[:i], q[i+1:]...)
	s.waiting[w.fn]--
	if s.waiting[w.fn] <= 0 {
		delete(s.waiting, w.fn)
	}
	if len(q) > 0 {
		s.queues[class][ns] = q
		return
	}
	delete(s.queues[class], ns)
	ring := s.ring[class]
	for j, x := range ring {
		if x == ns {
			s.ring[class] = append(ring[:j], ring[j+1:]...)
			if s.turn[class] > j {
				s.turn[class]--
			}
			break
		}
	}
	delete(s.credit, ns)
}

// Wake lets one waiting call try again: sync calls first, and among
// namespaces by weighted turns, so one tenant's flood cannot starve another.
// Capacity frees when a call ends (release) or a heartbeat reports less load.
func (s *Scheduler) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for class := Class(0); class < classes; class++ {
		ring := s.ring[class]
		if len(ring) == 0 {
			continue
		}
		t := s.turn[class] % len(ring)
		ns := ring[t]
		w := s.queues[class][ns][0]
		s.removeLocked(class, ns, 0)
		close(w.ready)
		// Weighted turns: a namespace with weight k is woken k times in a row.
		if _, still := s.queues[class][ns]; still {
			c, ok := s.credit[ns]
			if !ok {
				c = s.weight(ns)
			}
			if c--; c > 0 {
				s.credit[ns] = c
				s.turn[class] = t
			} else {
				delete(s.credit, ns)
				s.turn[class] = t + 1
			}
		} else {
			s.turn[class] = t // the ring shrank: the next namespace is at t now
		}
		return
	}
}

func (s *Scheduler) weight(ns string) int {
	if w := s.cfg.Weights[ns]; w > 0 {
		return w
	}
	return 1
}

// Waiting is the number of calls waiting for capacity.
func (s *Scheduler) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.waiting {
		n += c
	}
	return n
}
