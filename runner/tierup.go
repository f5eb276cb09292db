package runner

import (
	"context"
	"time"

	"github.com/hearthfn/hearth/internal/limits"
)

// With tiered start a module's first calls run on the interpreter while
// the compiler works, and their instances are of the interpreter's code.
// Once the compiled tier is in place such an instance is stale: a call
// closes it rather than reuse it (pool.take, runReactor). Left at that, the
// call after the compile finished found no instance and started one, a
// cold start for nothing but the switch of tiers. So the switch replaces
// them: when the compiled tier is promoted, and when a call gives back an
// interpreter instance after it, instances of the compiled code are made
// in the background and take the stale ones' places.

// tierUp replaces the pool's idle interpreter instances, and extra more
// (instances a call just let go), with instances of the module's compiled
// tier; nothing when the module is still on the interpreter.
func (e *Engine) tierUp(ctx context.Context, p *pool, entry *moduleEntry, extra int) {
	tier := entry.acquire()
	defer entry.release(tier)
	if tier.interpreted {
		return
	}
	env, gen, n := p.interpretedIdle()
	fresh := make([]*instance, 0, n+extra)
	for range n + extra {
		inst, err := newInstance(ctx, tier, env, gen, p.key.function)
		if err != nil {
			break
		}
		fresh = append(fresh, inst)
	}
	p.swapInterpreted(fresh)
}

// tierUpPools replaces the interpreter instances of every pool of the
// module (its digest in the memory class memoryMB).
func (e *Engine) tierUpPools(ctx context.Context, entry *moduleEntry, digest string, memoryMB int) {
	for _, p := range e.poolList() {
		mb := p.memoryMB
		if mb <= 0 {
			mb = limits.DefaultMemoryMB
		}
		if p.digest == digest && mb == memoryMB {
			e.tierUp(ctx, p, entry, 0)
		}
	}
}

// interpretedIdle reports the pool's env, its generation and how many of
// its idle instances are of the interpreter tier.
func (p *pool) interpretedIdle() (map[string]string, uint64, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, inst := range p.idle {
		if inst.interpreted {
			n++
		}
	}
	return p.env, p.gen, n
}

// swapInterpreted closes the idle interpreter instances and makes fresh
// ones (of the compiled tier) idle in their place; fresh instances of an
// older env generation are closed instead.
func (p *pool) swapInterpreted(fresh []*instance) {
	p.mu.Lock()
	p.accountIdleLocked(time.Now())
	var stale []*instance
	kept := p.idle[:0]
	for _, inst := range p.idle {
		if inst.interpreted {
			stale = append(stale, inst)
		} else {
			kept = append(kept, inst)
		}
	}
	p.idle = kept
	now := time.Now()
	for _, inst := range fresh {
		if inst.gen != p.gen {
			stale = append(stale, inst)
			continue
		}
		inst.lastUsed = now
		p.idle = append(p.idle, inst)
	}
	p.mu.Unlock()
	closeInstances(stale)
}
