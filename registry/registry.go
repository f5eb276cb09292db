// Package registry keeps deployed functions: their specs and versions in a
// NATS KV bucket, their module bytes in the object store, content-addressed
// by sha256 so identical modules are stored once.
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

	"github.com/hearthfn/hearth/internal/objstore"
)

// ErrNotFound is returned for a function that does not exist.
var ErrNotFound = errors.New("function not found")

// Bucket is the NATS KV bucket that holds function records.
const Bucket = "hearth_functions"

// ModuleStore is where module bytes live.
type ModuleStore interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Exists(ctx context.Context, key string) (bool, error)
}

// Config configures a registry.
type Config struct {
	MaxModuleBytes int // default DefaultMaxModuleBytes
	Replicas       int // KV replicas; default 1
	// Runtime, when set, is the wazero configuration the validator compiles
	// with; with a compilation cache shared with the runners (hearth dev), a
	// module compiled at deploy is not compiled again on its first call.
	Runtime wazero.RuntimeConfig
}

// Registry deploys, looks up and removes functions.
type Registry struct {
	cfg       Config
	kv        jetstream.KeyValue
	modules   ModuleStore
	validator *validator
	log       *slog.Logger

	mu    sync.RWMutex
	cache map[string]*Function // by key, kept current by a KV watcher

	stopWatch context.CancelFunc
	watchDone chan struct{}
}

// Open creates the KV bucket if needed and starts watching it.
func Open(ctx context.Context, cfg Config, js jetstream.JetStream, modules ModuleStore, log *slog.Logger) (*Registry, error) {
	if cfg.MaxModuleBytes <= 0 {
		cfg.MaxModuleBytes = DefaultMaxModuleBytes
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if log == nil {
		log = slog.Default()
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Hearth function specs and versions",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("registry: open KV bucket %s: %w", Bucket, err)
	}
	r := &Registry{
		cfg:       cfg,
		kv:        kv,
		modules:   modules,
		validator: newValidator(ctx, cfg.Runtime),
		log:       log.With("component", "registry"),
		cache:     make(map[string]*Function),
	}
	if err := r.watch(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func key(namespace, name string) string { return namespace + "." + name }

// DeployRequest is one deploy.
type DeployRequest struct {
	Namespace string
	Name      string
	Module    []byte
	Spec      Spec
}

// Deploy validates the module and spec, stores the module and records a new
// version of the function. Concurrent deploys of one name each get their
// own version number.
func (r *Registry) Deploy(ctx context.Context, req DeployRequest) (*Function, Version, error) {
	if req.Namespace == "" {
		req.Namespace = DefaultNamespace
	}
	if err := ValidateName("namespace", req.Namespace); err != nil {
		return nil, Version{}, err
	}
	if err := ValidateName("function name", req.Name); err != nil {
		return nil, Version{}, err
	}
	if len(req.Module) > r.cfg.MaxModuleBytes {
		return nil, Version{}, invalid(CodeModuleTooLarge, "the module is %d bytes; the limit is %d", len(req.Module), r.cfg.MaxModuleBytes)
	}
	spec := req.Spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, Version{}, err
	}
	abi, err := r.validator.check(ctx, req.Module)
	if err != nil {
		return nil, Version{}, err
	}

	digest := DigestOf(req.Module)
	digestHex := digest[len("sha256:"):]
	moduleKey := objstore.ModuleKey(digestHex)
	exists, err := r.modules.Exists(ctx, moduleKey)
	if err != nil {
		return nil, Version{}, fmt.Errorf("registry: %w", err)
	}
	if !exists {
		if err := r.modules.Put(ctx, moduleKey, req.Module, "application/wasm"); err != nil {
			return nil, Version{}, fmt.Errorf("registry: %w", err)
		}
	}

	now := time.Now().UTC()
	version := Version{Digest: digest, Size: len(req.Module), ABI: abi, Spec: spec, CreatedAt: now}
	fn, err := r.update(ctx, req.Namespace, req.Name, func(fn *Function) {
		if fn.CreatedAt.IsZero() {
			fn.CreatedAt = now
		}
		fn.UpdatedAt = now
		version.Version = 1
		if len(fn.Versions) > 0 {
			version.Version = fn.Latest().Version + 1
		}
		fn.Versions = append(fn.Versions, version)
	})
	if err != nil {
		return nil, Version{}, err
	}
	r.log.Info("deployed", "namespace", req.Namespace, "function", req.Name, "version", version.Version, "digest", version.Digest)
	return fn, version, nil
}

// update applies change to the stored record with optimistic concurrency:
// when another writer got there first, it reads again and retries.
func (r *Registry) update(ctx context.Context, namespace, name string, change func(*Function)) (*Function, error) {
	k := key(namespace, name)
	for attempt := 0; attempt < 20; attempt++ {
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
		default:
			return nil, fmt.Errorf("registry: read %s: %w", k, err)
		}
		change(fn)
		data, err := json.Marshal(fn)
		if err != nil {
			return nil, fmt.Errorf("registry: encode %s: %w", k, err)
		}
		if rev == 0 {
			_, err = r.kv.Create(ctx, k, data)
		} else {
			_, err = r.kv.Update(ctx, k, data, rev)
		}
		switch {
		case err == nil:
			r.remember(k, fn)
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
	fn, ok := r.cache[key(namespace, name)]
	r.mu.RUnlock()
	if ok {
		return fn, nil
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

// Delete removes a function and all its versions. Module bytes stay in the
// object store (other functions may share them).
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
	return nil
}

// Close stops the watcher and the validator.
func (r *Registry) Close(ctx context.Context) error {
	r.stopWatch()
	<-r.watchDone
	return r.validator.close(ctx)
}

// watch keeps the lookup cache in step with the KV bucket, so that every
// gateway sees deploys and deletes made through any other.
func (r *Registry) watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := r.kv.WatchAll(wctx)
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
	r.remember(entry.Key(), fn)
}

func (r *Registry) remember(k string, fn *Function) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Keep the newer record: the watcher may deliver an older write after
	// a deploy in this process stored a newer one.
	if old, ok := r.cache[k]; ok && len(old.Versions) > 0 && len(fn.Versions) > 0 &&
		old.Latest().Version > fn.Latest().Version {
		return
	}
	r.cache[k] = fn
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
