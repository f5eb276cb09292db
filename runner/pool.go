package runner

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hearthfn/hearth/internal/abi"
)

// poolKey names the instances of one function version: instances carry the
// version's env, so two functions that share a module never share them.
// The env of one version can change too (a granted secret rotates): the
// pool follows it, see pool.take.
type poolKey struct {
	namespace, function string
	version             int
}

// pool holds a function version's idle reactor instances, most recently
// used last, and counts those in use.
//
// An instance's env is fixed when it is made, and the env of a version's
// calls can change (the gateway adds the secrets the spec grants, and a
// secret can be set anew): the pool remembers the env its instances are
// made with, and a call with another env makes it start over (take).
type pool struct {
	key      poolKey
	digest   string
	memoryMB int

	mu sync.Mutex
	// env is what the pool's instances are made with, a copy of the first
	// call's (or prewarm's) env and then of each that differed; envSet
	// once there is one. gen counts the changes: an instance made for an
	// older gen is closed instead of going back to idle.
	env    map[string]string
	envSet bool
	gen    uint64
	idle   []*instance
	busy   int
	// idleNanos is the time idle instances were held, summed over them,
	// up to idleAt (idletime.go); every change of idle is accounted first.
	idleNanos int64
	idleAt    time.Time
}

// instance is one live reactor instance.
type instance struct {
	mod      api.Module
	alloc    api.Function
	handle   api.Function
	log      *switchWriter // stdout and stderr of the instance, to the current call's log
	input    uint32        // the guest's input buffer (from hearth_alloc) and its size
	inputCap uint32
	lastUsed time.Time
	// interpreted: made from the interpreter tier (tiered start); such an
	// instance is not reused once the compiled tier is in place.
	interpreted bool
	gen         uint64 // the pool's env generation it was made with
}

// take returns an idle instance made with env, or nil when there is none,
// and the env generation an instance the caller makes for env belongs to;
// either way the caller counts as busy until put or discard. With
// compiled, idle instances of the interpreter tier are stale: take closes
// them. An env that differs from the pool's (a secret rotated) makes every
// idle instance stale, and the busy ones are closed when they come back:
// no later call gets an instance with the old env. Comparing is a length
// check and a lookup per variable, without allocating; only a change
// copies env.
func (p *pool) take(compiled bool, env map[string]string) (*instance, uint64) {
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	p.busy++
	var inst *instance
	var stale []*instance
	if !p.envSet || !maps.Equal(p.env, env) {
		stale = p.resetLocked(env)
	}
	gen := p.gen
	for inst == nil && len(p.idle) > 0 {
		last := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if compiled && last.interpreted {
			stale = append(stale, last)
			continue
		}
		inst = last
	}
	p.mu.Unlock()
	closeInstances(stale)
	return inst, gen
}

// resetLocked makes env the pool's, in a new generation, and returns the
// idle instances, now stale, for the caller to close outside the lock.
func (p *pool) resetLocked(env map[string]string) []*instance {
	p.accountIdleLocked(time.Now())
	if p.envSet {
		p.gen++
	}
	p.env, p.envSet = maps.Clone(env), true
	stale := p.idle
	p.idle = nil
	return stale
}

// prewarmEnv returns the env and generation for a prewarmed instance: the
// pool's, when a call set it. A prewarm request carries the version's env
// from its spec without the secrets the gateway adds to a call; instances
// made with it would be stale for the next call, so it only sets the env
// of a pool that has none yet.
func (p *pool) prewarmEnv(env map[string]string) (map[string]string, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.envSet {
		p.resetLocked(env) // no instances yet
	}
	return p.env, p.gen
}

// put returns a healthy instance to the pool after a call; an instance of
// an older env generation is closed instead.
func (p *pool) put(inst *instance) {
	inst.lastUsed = time.Now()
	inst.log.set(nil)
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	p.busy--
	current := inst.gen == p.gen
	if current {
		p.idle = append(p.idle, inst)
	}
	p.mu.Unlock()
	if !current {
		_ = inst.mod.Close(context.Background())
	}
}

func closeInstances(insts []*instance) {
	for _, inst := range insts {
		_ = inst.mod.Close(context.Background())
	}
}

// discard closes an instance that trapped or timed out; it is never reused.
func (p *pool) discard(inst *instance) {
	p.mu.Lock()
	p.busy--
	p.mu.Unlock()
	if inst != nil {
		_ = inst.mod.Close(context.Background())
	}
}

// addIdle adds a freshly made instance (prewarm); one made for an older
// env generation (a call changed the env meanwhile) is closed instead.
func (p *pool) addIdle(inst *instance) {
	inst.lastUsed = time.Now()
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	current := inst.gen == p.gen
	if current {
		p.idle = append(p.idle, inst)
	}
	p.mu.Unlock()
	if !current {
		_ = inst.mod.Close(context.Background())
	}
}

// keepIdle marks the n most recently used idle instances used now, so
// that retire keeps them another idle period, and returns how many
// instances are idle.
func (p *pool) keepIdle(n int) int {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := max(len(p.idle)-n, 0); i < len(p.idle); i++ {
		p.idle[i].lastUsed = now // idle stays ordered by last use
	}
	return len(p.idle)
}

// retire closes idle instances unused since before cutoff, keeping at
// least keep idle ones; it returns how many it closed.
func (p *pool) retire(cutoff time.Time, keep int) int {
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	var closing []*instance
	kept := p.idle[:0]
	// idle is ordered by last use, oldest first.
	for i, inst := range p.idle {
		remaining := len(p.idle) - i
		if inst.lastUsed.Before(cutoff) && remaining > keep {
			closing = append(closing, inst)
			continue
		}
		kept = append(kept, inst)
	}
	p.idle = kept
	p.mu.Unlock()
	closeInstances(closing)
	return len(closing)
}

// counts reports idle and busy instances and the linear memory of the idle.
func (p *pool) counts() (idle, busy int, memory uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, inst := range p.idle {
		if mem := inst.mod.Memory(); mem != nil {
			memory += uint64(mem.Size())
		}
	}
	return len(p.idle), p.busy, memory
}

// closeAll closes every idle instance.
func (p *pool) closeAll(ctx context.Context) {
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, inst := range idle {
		_ = inst.mod.Close(ctx)
	}
}

// newInstance instantiates a reactor module from a tier with env and runs
// its _initialize; gen is the pool's env generation of env.
func newInstance(ctx context.Context, tier *moduleTier, env map[string]string, gen uint64, name string) (*instance, error) {
	log := &switchWriter{}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(name).
		WithStdout(log).
		WithStderr(log).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(randSource).
		WithStartFunctions() // _initialize is called below, under our deadline
	for _, kv := range sortedEnv(env) {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	mod, err := tier.rt.InstantiateModule(ctx, tier.compiled, cfg)
	if err != nil {
		return nil, err
	}
	if init := mod.ExportedFunction(abi.Initialize); init != nil {
		if _, err := init.Call(ctx); err != nil {
			_ = mod.Close(context.Background())
			return nil, err
		}
	}
	inst := &instance{
		mod:         mod,
		alloc:       mod.ExportedFunction(abi.Alloc),
		handle:      mod.ExportedFunction(abi.Handle),
		log:         log,
		interpreted: tier.interpreted,
		gen:         gen,
	}
	if inst.alloc == nil || inst.handle == nil {
		_ = mod.Close(context.Background())
		return nil, errNotReactor
	}
	return inst, nil
}

// switchWriter sends writes to the current call's log buffer, if any.
type switchWriter struct {
	mu  sync.Mutex
	dst *tailBuffer
}

func (w *switchWriter) set(dst *tailBuffer) {
	w.mu.Lock()
	w.dst = dst
	w.mu.Unlock()
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dst != nil {
		return w.dst.Write(p)
	}
	return len(p), nil
}
