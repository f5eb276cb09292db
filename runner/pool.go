package runner

import (
	"context"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hearthfn/hearth/internal/abi"
)

// poolKey names the instances of one function version: instances carry the
// version's env, so two functions that share a module never share them.
type poolKey struct {
	namespace, function string
	version             int
}

// pool holds a function version's idle reactor instances, most recently
// used last, and counts those in use.
type pool struct {
	key      poolKey
	digest   string
	memoryMB int

	mu   sync.Mutex
	idle []*instance
	busy int
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
}

// take returns an idle instance, or nil when there is none; either way the
// caller counts as busy until put or discard. With compiled, idle
// instances of the interpreter tier are stale: take closes them.
func (p *pool) take(compiled bool) *instance {
	p.mu.Lock()
	p.busy++
	var inst *instance
	var stale []*instance
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
	for _, s := range stale {
		_ = s.mod.Close(context.Background())
	}
	return inst
}

// put returns a healthy instance to the pool after a call.
func (p *pool) put(inst *instance) {
	inst.lastUsed = time.Now()
	inst.log.set(nil)
	p.mu.Lock()
	p.busy--
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
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

// addIdle adds a freshly made instance (prewarm).
func (p *pool) addIdle(inst *instance) {
	inst.lastUsed = time.Now()
	p.mu.Lock()
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
}

// retire closes idle instances unused since before cutoff, keeping at
// least keep idle ones; it returns how many it closed.
func (p *pool) retire(cutoff time.Time, keep int) int {
	p.mu.Lock()
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
	for _, inst := range closing {
		_ = inst.mod.Close(context.Background())
	}
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
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, inst := range idle {
		_ = inst.mod.Close(ctx)
	}
}

// newInstance instantiates a reactor module from a tier and runs its
// _initialize.
func newInstance(ctx context.Context, tier *moduleTier, env map[string]string, name string) (*instance, error) {
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
