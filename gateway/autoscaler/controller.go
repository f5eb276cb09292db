package autoscaler

import (
	"context"
	"sort"
	"sync"
)

// Warmer carries out a controller's decisions on the platform.
type Warmer interface {
	// Prewarm makes sure the function has a warm instance.
	Prewarm(ctx context.Context, fn FunctionKey) error
	// Retire lets the function's idle instances go.
	Retire(ctx context.Context, fn FunctionKey) error
}

// FunctionKey names a function.
type FunctionKey struct{ Namespace, Name string }

// Decision is what a controller did for one function at a tick.
type Decision struct {
	Function FunctionKey
	Minute   int  // the minute decided for
	Warm     bool // the policy's answer
	Err      error
}

// Minute is how the minute that just ended went for one function: its
// invocations against the forecast made for it. A minute with invocations
// that had been forecast warm is a cold start avoided (in the replay's
// terms: a warm minute with invocations has no cold start).
type Minute struct {
	Function FunctionKey
	Count    int  // invocations (actual)
	Forecast bool // was it forecast warm?
}

// Controller drives live functions with a Policy, minute by minute, the
// way Replay drives a trace: before each minute it asks every function's
// policy whether an instance should be warm, and after it tells the policy
// how many invocations came. The same FunctionPolicy code decides in the
// replay and here. A "minute" is whatever the caller's tick is.
type Controller struct {
	policy Policy
	warmer Warmer
	info   func(FunctionKey) FunctionInfo

	mu     sync.Mutex
	minute int // the current minute, from 1
	fns    map[FunctionKey]*liveFunction
	last   []Minute // the minute Tick closed last
}

type liveFunction struct {
	info    FunctionInfo // what info said when the function was first seen
	fp      FunctionPolicy
	count   int   // invocations in the current minute
	history []int // counts of past minutes, oldest first, at most Minutes
	warm    bool
}

// NewController makes a controller; info gives a function's memory and
// trigger when it is first seen (nil: DefaultMemoryMB).
func NewController(policy Policy, warmer Warmer, info func(FunctionKey) FunctionInfo) *Controller {
	if info == nil {
		info = func(FunctionKey) FunctionInfo { return FunctionInfo{MemoryMB: DefaultMemoryMB} }
	}
	return &Controller{policy: policy, warmer: warmer, info: info, minute: 1, fns: make(map[FunctionKey]*liveFunction)}
}

// Record counts n invocations of fn in the current minute.
func (c *Controller) Record(fn FunctionKey, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.function(fn).count += n
}

func (c *Controller) function(fn FunctionKey) *liveFunction {
	f, ok := c.fns[fn]
	if !ok {
		info := c.info(fn)
		f = &liveFunction{info: info, fp: c.policy.New(info)}
		// A function first seen now had no invocations before.
		for t := 1; t < c.minute; t++ {
			f.fp.Observe(t, 0)
		}
		c.fns[fn] = f
	}
	return f
}

// Tick ends the current minute: each policy observes its count and decides
// the next minute; a function that should be warm is prewarmed (every
// minute, since a runner may have retired the instance meanwhile), one that
// turned cold, or had calls and is forecast cold, is retired.
func (c *Controller) Tick(ctx context.Context) []Decision {
	c.mu.Lock()
	t := c.minute
	var decisions []Decision
	c.last = c.last[:0]
	for key, f := range c.fns {
		c.last = append(c.last, Minute{Function: key, Count: f.count, Forecast: f.warm})
		f.fp.Observe(t, f.count)
		f.history = append(f.history, f.count)
		if len(f.history) > Minutes {
			f.history = f.history[len(f.history)-Minutes:]
		}
		called := f.count > 0
		f.count = 0
		warm := f.fp.Warm(t + 1)
		// Retired: a function that turned cold, and one forecast cold
		// after a minute with calls, whose calls started the instances
		// the policy does not keep (a runner would hold them until its
		// IdleTTL; the replay counts such a minute cold and unwasted).
		if warm || f.warm || called {
			decisions = append(decisions, Decision{Function: key, Minute: t + 1, Warm: warm})
		}
		f.warm = warm
	}
	c.minute++
	c.mu.Unlock()

	sort.Slice(decisions, func(i, j int) bool { return less(decisions[i].Function, decisions[j].Function) })
	for i, d := range decisions {
		if d.Warm {
			decisions[i].Err = c.warmer.Prewarm(ctx, d.Function)
		} else {
			decisions[i].Err = c.warmer.Retire(ctx, d.Function)
		}
	}
	return decisions
}

// Ahead is the functions the policy keeps warm in the minute in progress
// or expects within the lead minutes after it, if no call comes
// meanwhile: the leader sizes runners for their calls before they come.
// It asks Warm about later minutes, which a FunctionPolicy answers without
// changing its state.
func (c *Controller) Ahead(lead int) map[FunctionKey]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[FunctionKey]bool{}
	for k, f := range c.fns {
		warm := f.warm
		for i := 1; i <= lead && !warm; i++ {
			warm = f.fp.Warm(c.minute + i)
		}
		if warm {
			out[k] = true
		}
	}
	return out
}

// Info is what the controller was told of a function when it first saw
// it; ok is false for a function it has not seen.
func (c *Controller) Info(fn FunctionKey) (info FunctionInfo, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.fns[fn]
	if !ok {
		return FunctionInfo{}, false
	}
	return f.info, true
}

// LastMinute is how the minute closed by the last Tick went, per function.
func (c *Controller) LastMinute() []Minute {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Minute(nil), c.last...)
}

func less(a, b FunctionKey) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// History is every function's invocation counts per past minute (oldest
// first, the last Minutes at most), to be kept so that a restarted
// controller resumes with what it had learned.
func (c *Controller) History() map[FunctionKey][]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[FunctionKey][]int, len(c.fns))
	for k, f := range c.fns {
		out[k] = append([]int(nil), f.history...)
	}
	return out
}

// Resume feeds saved histories to a new controller's policies before its
// first tick; minutes continue after the longest history.
func (c *Controller) Resume(history map[FunctionKey][]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	longest := 0
	for _, h := range history {
		longest = max(longest, len(h))
	}
	keys := make([]FunctionKey, 0, len(history))
	for k := range history {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	for _, k := range keys {
		h := history[k]
		info := c.info(k)
		f := &liveFunction{info: info, fp: c.policy.New(info)}
		pad := longest - len(h) // align every history to end at the same minute
		for t := 1; t <= longest; t++ {
			n := 0
			if t > pad {
				n = h[t-pad-1]
			}
			f.fp.Observe(t, n)
		}
		f.history = append([]int(nil), h...)
		c.fns[k] = f
	}
	c.minute = longest + 1
}

// Decisions is the forecast each function has for the current minute.
func (c *Controller) Decisions() []Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Decision, 0, len(c.fns))
	for k, f := range c.fns {
		out = append(out, Decision{Function: k, Minute: c.minute, Warm: f.warm})
	}
	return out
}
