package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/internal/limits"
)

// ErrNotFound is returned for a function that does not exist.
var ErrNotFound = errors.New("function not found")

// Bucket is the NATS KV bucket that holds function records.
const Bucket = "hearth_functions"

// ModulesBucket is the NATS KV bucket that tracks module objects for
// garbage collection (gc.go).
const ModulesBucket = "hearth_modules"

// ModuleStore is where module bytes live; *objstore.Store is one.
type ModuleStore interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Exists(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) ([]string, error)
}

// Config configures a registry.
type Config struct {
	MaxModuleBytes int // default limits.DefaultModuleBytes
	Replicas       int // KV replicas; default 1
	// GCInterval is how often unreferenced modules are collected; default
	// DefaultGCInterval, negative disables the periodic collection
	// (deleting a function still starts one).
	GCInterval time.Duration
	// GCGrace is how long a module stays after its last deploy before it
	// may be collected once no version uses it; default DefaultGCGrace. A
	// deploy must store its version within half of it (gc.go).
	GCGrace time.Duration
	// Runtime, when set, is the wazero configuration the validator compiles
	// with; with a compilation cache shared with the runners (hearth dev), a
	// module compiled at deploy is not compiled again on its first call.
	Runtime wazero.RuntimeConfig
}

// Registry deploys, looks up and removes functions.
type Registry struct {
	cfg       Config
	kv        jetstream.KeyValue
	moduleKV  jetstream.KeyValue // GC state of module objects (gc.go)
	modules   ModuleStore
	validator *validator
	log       *slog.Logger

	mu    sync.RWMutex
	cache map[string]cached // by key, kept current by a KV watcher

	stopWatch context.CancelFunc
	watchDone chan struct{}

	gcKick chan struct{} // asks the collector for a pass now
	stopGC context.CancelFunc
	gcDone chan struct{}
}

// cached is a function record with the KV revision it was read at.
type cached struct {
	fn  *Function
	rev uint64
}

// Open creates the KV buckets if needed and starts watching the
// functions' one. While JetStream is not ready (a fresh cluster electing
// its meta leader, another gateway creating the same buckets) it retries,
// logging each retry, up to jsopen.Timeout.
func Open(ctx context.Context, cfg Config, js jetstream.JetStream, modules ModuleStore, log *slog.Logger) (*Registry, error) {
	if cfg.MaxModuleBytes <= 0 {
		cfg.MaxModuleBytes = limits.DefaultModuleBytes
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.GCInterval == 0 {
		cfg.GCInterval = DefaultGCInterval
	}
	if cfg.GCGrace <= 0 {
		cfg.GCGrace = DefaultGCGrace
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "registry")
	kv, err := openBucket(ctx, js, log, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Hearth function specs and versions",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	moduleKV, err := openBucket(ctx, js, log, jetstream.KeyValueConfig{
		Bucket:      ModulesBucket,
		Description: "Hearth module objects: last use and garbage-collection state",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	r := &Registry{
		cfg:       cfg,
		kv:        kv,
		moduleKV:  moduleKV,
		modules:   modules,
		validator: newValidator(ctx, cfg.Runtime),
		log:       log,
		cache:     make(map[string]cached),
		gcKick:    make(chan struct{}, 1),
	}
	if err := r.watch(ctx); err != nil {
		_ = r.validator.close(ctx)
		return nil, err
	}
	r.startCollector(ctx)
	return r, nil
}

// openBucket creates or updates the bucket of cfg, retrying while
// JetStream is not ready (jsopen.Retry).
func openBucket(ctx context.Context, js jetstream.JetStream, log *slog.Logger, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := jsopen.Retry(ctx, log, "KV bucket "+cfg.Bucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: open KV bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

func key(namespace, name string) string { return namespace + "." + name }

// DeployRequest is one deploy.
type DeployRequest struct {
	Namespace string
	Name      string
	Module    []byte
	Spec      Spec
	// DryRun validates the module and the spec and answers as a deploy
	// would, without storing anything (Version.Version is then 0).
	DryRun bool
}

// Deploy validates the module and spec, stores the module (once for
// identical bytes) and records a new version of the function. Concurrent
// deploys of one name each get their own version number.
func (r *Registry) Deploy(ctx context.Context, req DeployRequest) (*Function, Version, error) {
	version, err := r.check(ctx, &req)
	if err != nil {
		return nil, Version{}, err
	}
	if req.DryRun {
		return &Function{Namespace: req.Namespace, Name: req.Name}, version, nil
	}
	if err := r.storeModule(ctx, version.DigestHex(), req.Module); err != nil {
		return nil, Version{}, err
	}
	now := time.Now().UTC()
	version.CreatedAt = now
	fn, err := r.update(ctx, req.Namespace, req.Name, true, func(fn *Function) error {
		if fn.CreatedAt.IsZero() {
			fn.CreatedAt = now
		}
		fn.UpdatedAt = now
		version.Version = 1
		if len(fn.Versions) > 0 {
			version.Version = fn.Latest().Version + 1
		}
		fn.Versions = append(fn.Versions, version)
		return nil
	})
	if err != nil {
		return nil, Version{}, err
	}
	r.log.Info("deployed", "namespace", req.Namespace, "function", req.Name, "version", version.Version, "digest", version.Digest)
	return fn, version, nil
}

// check validates a deploy: names, size, spec values, the module (it
// compiles, its imports are allowed, its ABI is detected and matches the
// spec's). It returns the version to record, without its number.
func (r *Registry) check(ctx context.Context, req *DeployRequest) (Version, error) {
	if req.Namespace == "" {
		req.Namespace = DefaultNamespace
	}
	if err := ValidateName("namespace", req.Namespace); err != nil {
		return Version{}, err
	}
	if err := ValidateName("function name", req.Name); err != nil {
		return Version{}, err
	}
	if req.Spec.Name != "" && req.Spec.Name != req.Name {
		return Version{}, invalid(CodeInvalidSpec, "the spec names the function %q but the deploy is for %q; remove name from the spec or deploy to %s", req.Spec.Name, req.Name, req.Spec.Name)
	}
	if req.Spec.Namespace != "" && req.Spec.Namespace != req.Namespace {
		return Version{}, invalid(CodeInvalidSpec, "the spec names the namespace %q but the deploy is to %q; remove namespace from the spec or deploy with --namespace %s", req.Spec.Namespace, req.Namespace, req.Spec.Namespace)
	}
	if len(req.Module) > r.cfg.MaxModuleBytes {
		return Version{}, invalid(CodeModuleTooLarge, "the module is %d bytes; the limit is %d", len(req.Module), r.cfg.MaxModuleBytes)
	}
	if err := req.Spec.Validate(); err != nil {
		return Version{}, err
	}
	detected, err := r.validator.check(ctx, req.Module)
	if err != nil {
		return Version{}, err
	}
	if req.Spec.ABI != "" && req.Spec.ABI != detected {
		return Version{}, invalid(CodeInvalidModule, "the spec says abi %q but the module is a %s (%s); fix the spec's abi or build the module for the %s ABI (docs/abi.md)", req.Spec.ABI, detected, abiEvidence(detected), req.Spec.ABI)
	}
	spec := req.Spec
	spec.Name, spec.Namespace, spec.ABI = req.Name, req.Namespace, detected
	return Version{
		Digest: DigestOf(req.Module),
		Size:   len(req.Module),
		ABI:    detected,
		Spec:   spec.WithDefaults(),
	}, nil
}

func abiEvidence(detected string) string {
	if detected == abi.Reactor {
		return "it exports " + abi.Alloc + " and " + abi.Handle
	}
	return "it exports " + abi.Start
}

// update applies change to the stored record with optimistic concurrency:
// when another writer got there first, it reads again and retries. When
// the function does not exist, update creates it if create is set, and
// answers ErrNotFound otherwise. An error from change ends the update
// without writing.
func (r *Registry) update(ctx context.Context, namespace, name string, create bool, change func(*Function) error) (*Function, error) {
	k := key(namespace, name)
	for attempt := 0; attempt < 50; attempt++ {
		fn := &Function{Namespace: namespace, Name: name}
		var rev uint64
		entry, err := r.kv.Get(ctx, k)
		switch {
		case err == nil:
			if err := json.Unmarshal(entry.Value(), fn); err != nil {
				return nil, fmt.Errorf("registry: decode %s: %w", k, err)
			}
			rev = entry.Revision()
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
			if !create {
				return nil, ErrNotFound
			}
		default:
			return nil, fmt.Errorf("registry: read %s: %w", k, err)
		}
		if err := change(fn); err != nil {
			return nil, err
		}
		data, err := json.Marshal(fn)
		if err != nil {
			return nil, fmt.Errorf("registry: encode %s: %w", k, err)
		}
		if rev == 0 {
			rev, err = r.kv.Create(ctx, k, data)
		} else {
			rev, err = r.kv.Update(ctx, k, data, rev)
		}
		switch {
		case err == nil:
			r.remember(k, fn, rev)
			return fn, nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // someone else wrote first; read again
		default:
			return nil, fmt.Errorf("registry: write %s: %w", k, err)
		}
	}
	return nil, fmt.Errorf("registry: too many concurrent writes to %s; try again", k)
}

// Get reads a function's record from the KV bucket.
func (r *Registry) Get(ctx context.Context, namespace, name string) (*Function, error) {
	entry, err := r.kv.Get(ctx, key(namespace, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read %s/%s: %w", namespace, name, err)
	}
	fn := new(Function)
	if err := json.Unmarshal(entry.Value(), fn); err != nil {
		return nil, fmt.Errorf("registry: decode %s/%s: %w", namespace, name, err)
	}
	return fn, nil
}

// Lookup finds a function for an invocation: from the watched cache, or
// from the KV bucket when the cache has not seen it yet.
func (r *Registry) Lookup(ctx context.Context, namespace, name string) (*Function, error) {
	r.mu.RLock()
	c, ok := r.cache[key(namespace, name)]
	r.mu.RUnlock()
	if ok {
		return c.fn, nil
	}
	return r.Get(ctx, namespace, name)
}

// List returns the functions of a namespace in name order.
func (r *Registry) List(ctx context.Context, namespace string) ([]*Function, error) {
	lister, err := r.kv.ListKeysFiltered(ctx, namespace+".*")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("registry: list %s: %w", namespace, err)
	}
	var names []string
	for k := range lister.Keys() {
		names = append(names, strings.TrimPrefix(k, namespace+"."))
	}
	sort.Strings(names)
	fns := make([]*Function, 0, len(names))
	for _, name := range names {
		fn, err := r.Get(ctx, namespace, name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted while we listed
		}
		if err != nil {
			return nil, err
		}
		fns = append(fns, fn)
	}
	return fns, nil
}

// Delete removes a function with all its versions, aliases and triggers.
// Its modules are collected from the object store once no version of any
// function uses them (gc.go); Delete starts a collection.
func (r *Registry) Delete(ctx context.Context, namespace, name string) error {
	k := key(namespace, name)
	if _, err := r.Get(ctx, namespace, name); err != nil {
		return err
	}
	if err := r.kv.Purge(ctx, k); err != nil {
		return fmt.Errorf("registry: delete %s: %w", k, err)
	}
	r.forget(k)
	r.log.Info("deleted", "namespace", namespace, "function", name)
	r.kickCollector()
	return nil
}

// Close stops the collector, the watcher and the validator.
func (r *Registry) Close(ctx context.Context) error {
	r.stopGC()
	<-r.gcDone
	r.stopWatch()
	<-r.watchDone
	return r.validator.close(ctx)
}

// watch keeps the lookup cache in step with the KV bucket, so that every
// gateway sees deploys and deletes made through any other.
func (r *Registry) watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var w jetstream.KeyWatcher
	// The watch lives as long as wctx: an attempt's context would end it.
	err := jsopen.Retry(ctx, r.log, "watch of "+Bucket, func(context.Context) (err error) {
		w, err = r.kv.WatchAll(wctx)
		return err
	})
	if err != nil {
		cancel()
		return fmt.Errorf("registry: watch %s: %w", Bucket, err)
	}
	r.stopWatch = cancel
	r.watchDone = make(chan struct{})
	go func() {
		defer close(r.watchDone)
		defer w.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case entry, ok := <-w.Updates():
				if !ok {
					return
				}
				if entry == nil {
					continue // end of the initial values
				}
				r.apply(entry)
			}
		}
	}()
	return nil
}

func (r *Registry) apply(entry jetstream.KeyValueEntry) {
	if entry.Operation() != jetstream.KeyValuePut {
		r.forget(entry.Key())
		return
	}
	fn := new(Function)
	if err := json.Unmarshal(entry.Value(), fn); err != nil {
		r.log.Error("bad function record in KV", "key", entry.Key(), "error", err)
		return
	}
	r.remember(entry.Key(), fn, entry.Revision())
}

func (r *Registry) remember(k string, fn *Function, rev uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Keep the newer record: the watcher may deliver an older write after
	// an update in this process stored a newer one.
	if old, ok := r.cache[k]; ok && old.rev > rev {
		return
	}
	r.cache[k] = cached{fn: fn, rev: rev}
}

func (r *Registry) forget(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.cache, k)
}

// MaxModuleBytes is the largest module Deploy accepts.
func (r *Registry) MaxModuleBytes() int { return r.cfg.MaxModuleBytes }

// DigestOf is the content address of a module: "sha256:<hex>".
func DigestOf(module []byte) string {
	sum := sha256.Sum256(module)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Cached returns the functions of every namespace as the registry's watch
// last saw them, in no particular order, without a round trip to NATS
// (the gateway's runner-join warming reads it).
func (r *Registry) Cached() []*Function {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Function, 0, len(r.cache))
	for _, c := range r.cache {
		out = append(out, c.fn)
	}
	return out
}
