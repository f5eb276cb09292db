package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/objstore"
)

// Module garbage collection.
//
// Module objects are shared by every version, of any function, that has
// the same bytes, so a module may be deleted only when no version uses it
// any more. The danger is a deploy of the same bytes running at the same
// time: it finds the object already stored, and would record a version
// pointing at an object that a collection deletes a moment later.
//
// Deploys and collections therefore meet in the KV bucket hearth_modules,
// one key per module digest, changed only with revision checks:
//
//   - A deploy first claims the digest: it writes {"state":"live"} over
//     whatever is there (a fresh revision, and a fresh time). While the key
//     says "deleting", it waits for the collection to finish and then
//     uploads the bytes again. It then stores the module if missing, and
//     must record its version within GCGrace/2 of its claim, or claim
//     again.
//   - A collection lists the module objects and reads every function
//     record. For a module that no version uses, and whose key was last
//     claimed more than GCGrace ago, it moves the key to "deleting" with
//     a revision check (so a claim in between wins). It then reads every
//     function record again, gives back the modules that a version uses
//     after all, deletes the others' objects (and their shared compiled
//     code), and last removes their keys.
//
// A deploy that claimed before the collection marked the key claimed more
// than GCGrace ago, so it recorded its version (within GCGrace/2) before
// the second reading, which then sees it. A deploy that claims after the
// mark waits for the deletion and uploads again. A key left "deleting" by
// a collector that died is taken back by a deploy after abandonAfter.

// Defaults of the collector.
const (
	DefaultGCInterval = 10 * time.Minute
	DefaultGCGrace    = 15 * time.Minute
	// abandonAfter is how long a "deleting" mark lasts before a deploy or
	// another collector takes it over: its collector died mid-way.
	abandonAfter = time.Minute
)

// States of a module key.
const (
	moduleLive     = "live"
	moduleDeleting = "deleting"
)

type moduleState struct {
	State string `json:"state"`
}

// modulePrefix is where module objects live (objstore.ModuleKey).
const modulePrefix = "modules/sha256/"

// compiledPrefix is where runners share compiled code, under
// compiled/<wazero version>/<platform>/<digest hex>/.
const compiledPrefix = "compiled/"

// storeModule makes sure the module's bytes are in the object store and
// stay there until the deploy has recorded its version: it claims the
// digest and uploads the bytes if they are missing.
func (r *Registry) storeModule(ctx context.Context, hex string, module []byte) error {
	key := objstore.ModuleKey(hex)
	for attempt := 0; attempt < 3; attempt++ {
		if err := r.claimModule(ctx, hex); err != nil {
			return err
		}
		claimed := time.Now()
		exists, err := r.modules.Exists(ctx, key)
		if err != nil {
			return fmt.Errorf("registry: %w", err)
		}
		if !exists {
			if err := r.modules.Put(ctx, key, module, "application/wasm"); err != nil {
				return fmt.Errorf("registry: %w", err)
			}
		}
		if time.Since(claimed) < r.cfg.GCGrace/2 {
			return nil
		}
		// Too slow: a collection may count the claim as old. Claim again.
	}
	return fmt.Errorf("registry: storing module %s took longer than %s three times; check the object store and try again", hex, r.cfg.GCGrace/2)
}

// claimModule marks the digest as in use now, waiting while a collection
// is deleting its object.
func (r *Registry) claimModule(ctx context.Context, hex string) error {
	live, _ := json.Marshal(moduleState{State: moduleLive})
	var wait *time.Ticker
	for {
		entry, err := r.moduleKV.Get(ctx, hex)
		var rev uint64
		switch {
		case err == nil:
			rev = entry.Revision()
			if st := decodeModuleState(entry); st.State == moduleDeleting && time.Since(entry.Created()) < abandonAfter {
				if wait == nil {
					wait = time.NewTicker(25 * time.Millisecond)
					defer wait.Stop()
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("registry: waiting for the collection of module %s: %w", hex, ctx.Err())
				case <-wait.C:
				}
				continue
			}
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		default:
			return fmt.Errorf("registry: read module state %s: %w", hex, err)
		}
		if rev == 0 {
			_, err = r.moduleKV.Create(ctx, hex, live)
		} else {
			_, err = r.moduleKV.Update(ctx, hex, live, rev)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue
		default:
			return fmt.Errorf("registry: claim module %s: %w", hex, err)
		}
	}
}

func decodeModuleState(entry jetstream.KeyValueEntry) moduleState {
	var st moduleState
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		st.State = moduleLive // unreadable: treat as in use
	}
	return st
}

// GCReport says what one collection did.
type GCReport struct {
	Modules int      // module objects found
	Deleted []string // digests (hex) of the modules deleted
}

// CollectGarbage deletes the module objects that no version of any
// function uses and that no deploy claimed within GCGrace, with the
// compiled code runners shared for them. It is safe to run in several
// gateways at once and beside deploys (see the comment at the top of
// gc.go).
func (r *Registry) CollectGarbage(ctx context.Context) (GCReport, error) {
	var report GCReport
	keys, err := r.modules.List(ctx, modulePrefix)
	if err != nil {
		return report, fmt.Errorf("registry: gc: %w", err)
	}
	report.Modules = len(keys)
	used, err := r.usedModules(ctx)
	if err != nil {
		return report, err
	}
	type mark struct {
		hex string
		rev uint64
	}
	var marked []mark
	for _, k := range keys {
		hex, ok := strings.CutSuffix(strings.TrimPrefix(k, modulePrefix), ".wasm")
		if !ok || used[hex] {
			continue
		}
		rev, err := r.markForDeletion(ctx, hex)
		if err != nil {
			return report, err
		}
		if rev != 0 {
			marked = append(marked, mark{hex, rev})
		}
	}
	if len(marked) == 0 {
		return report, nil
	}
	// A version recorded since the first reading keeps its module.
	if used, err = r.usedModules(ctx); err != nil {
		return report, err
	}
	compiled, err := r.modules.List(ctx, compiledPrefix)
	if err != nil {
		r.log.Warn("gc: cannot list shared compiled code", "error", err)
	}
	live, _ := json.Marshal(moduleState{State: moduleLive})
	for _, m := range marked {
		if used[m.hex] {
			if _, err := r.moduleKV.Update(ctx, m.hex, live, m.rev); err != nil {
				r.log.Warn("gc: could not give back module", "digest", m.hex, "error", err)
			}
			continue
		}
		if err := r.modules.Delete(ctx, objstore.ModuleKey(m.hex)); err != nil {
			r.log.Warn("gc: could not delete module", "digest", m.hex, "error", err)
			continue // the mark is abandoned and taken over later
		}
		for _, k := range compiled {
			if parts := strings.Split(k, "/"); len(parts) > 4 && parts[3] == m.hex {
				if err := r.modules.Delete(ctx, k); err != nil {
					r.log.Warn("gc: could not delete compiled code", "key", k, "error", err)
				}
			}
		}
		if err := r.moduleKV.Delete(ctx, m.hex, jetstream.LastRevision(m.rev)); err != nil {
			r.log.Warn("gc: could not clear module state", "digest", m.hex, "error", err)
		}
		report.Deleted = append(report.Deleted, m.hex)
		r.log.Info("gc: deleted unused module", "digest", m.hex)
	}
	return report, nil
}

// markForDeletion moves an unused module's key to "deleting" when its last
// claim is older than the grace period, and returns the mark's revision;
// 0 means not now.
func (r *Registry) markForDeletion(ctx context.Context, hex string) (uint64, error) {
	deleting, _ := json.Marshal(moduleState{State: moduleDeleting})
	entry, err := r.moduleKV.Get(ctx, hex)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		// Stored before modules were tracked: start its grace period now.
		live, _ := json.Marshal(moduleState{State: moduleLive})
		if _, err := r.moduleKV.Create(ctx, hex, live); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, fmt.Errorf("registry: gc: track module %s: %w", hex, err)
		}
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("registry: gc: read module state %s: %w", hex, err)
	}
	age := time.Since(entry.Created())
	switch decodeModuleState(entry).State {
	case moduleDeleting:
		if age < abandonAfter {
			return 0, nil // another collector is at it
		}
	default:
		if age < r.cfg.GCGrace {
			return 0, nil
		}
	}
	rev, err := r.moduleKV.Update(ctx, hex, deleting, entry.Revision())
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, nil // claimed in between
	}
	if err != nil {
		return 0, fmt.Errorf("registry: gc: mark module %s: %w", hex, err)
	}
	return rev, nil
}

// usedModules reads every function record, of every namespace, from the
// KV bucket (not the cache, which may be behind) and returns the digests
// its versions use.
func (r *Registry) usedModules(ctx context.Context) (map[string]bool, error) {
	used := make(map[string]bool)
	lister, err := r.kv.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return used, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: gc: list functions: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		entry, err := r.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("registry: gc: read %s: %w", k, err)
		}
		var fn Function
		if err := json.Unmarshal(entry.Value(), &fn); err != nil {
			return nil, fmt.Errorf("registry: gc: decode %s: %w (no module is deleted while a record cannot be read)", k, err)
		}
		for _, hex := range fn.Digests() {
			used[hex] = true
		}
	}
	return used, nil
}

// startCollector runs CollectGarbage every GCInterval and when kicked,
// until Close.
func (r *Registry) startCollector(ctx context.Context) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stopGC = cancel
	r.gcDone = make(chan struct{})
	go func() {
		defer close(r.gcDone)
		var tick <-chan time.Time
		if r.cfg.GCInterval > 0 {
			t := time.NewTicker(r.cfg.GCInterval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-gctx.Done():
				return
			case <-tick:
			case <-r.gcKick:
			}
			report, err := r.CollectGarbage(gctx)
			switch {
			case err != nil && gctx.Err() == nil:
				r.log.Warn("gc failed", "error", err)
			case len(report.Deleted) > 0:
				r.log.Info("gc done", "modules", report.Modules, "deleted", len(report.Deleted))
			}
		}
	}()
}

// kickCollector asks for a collection soon, without waiting for it.
func (r *Registry) kickCollector() {
	select {
	case r.gcKick <- struct{}{}:
	default:
	}
}
