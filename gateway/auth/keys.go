package auth

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/registry"
)

// Bucket is the NATS KV bucket of keys: one entry per key id, holding its
// metadata and the hash of its secret, never the key.
const Bucket = "hearth_keys"

// AllNamespaces is the namespace of a key bound to every namespace.
const AllNamespaces = "*"

// BootstrapID is the id the bootstrap admin key (HEARTH_ADMIN_KEY) shows
// in the audit log.
const BootstrapID = "bootstrap"

// MinBootstrapLen is the shortest HEARTH_ADMIN_KEY accepted.
const MinBootstrapLen = 32

// Key is an API key as listed: everything but the key itself.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []Scope    `json:"scopes"`
	Namespace string     `json:"namespace"`
	RateLimit *RateLimit `json:"rate_limit"`
	CreatedAt time.Time  `json:"created_at"`
}

// RateLimit is a key's token bucket; the same as a function's
// (registry.RateLimit), checked by the same rule.
type RateLimit = registry.RateLimit

// checkRateLimit validates a key's rate limit and fills a missing burst
// (the rps rounded up), so listings show the bucket in force.
func checkRateLimit(r *RateLimit) error {
	if r == nil {
		return nil
	}
	if err := r.Validate(); err != nil {
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			return errors.New(ve.Message)
		}
		return err
	}
	r.Burst = r.Bucket()
	return nil
}

// limiterOf is the token bucket of r, or nil for none.
func limiterOf(r *RateLimit) *rate.Limiter {
	if r == nil {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r.RPS), r.Bucket())
}

// KeyRequest is the body of POST /v1/keys.
type KeyRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Namespace string     `json:"namespace"`
	RateLimit *RateLimit `json:"rate_limit"`
}

// InputError is a key request that is not valid (400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Errors of key management besides InputError.
var (
	ErrNotFound   = errors.New("no such key")
	ErrNotCovered = errors.New("a key cannot grant more than it has")
)

// stored is a key's entry in the bucket.
type stored struct {
	Key
	Hash string `json:"hash"` // hex of hashSecret
}

// entry is a key as the gateway holds it: ready to authenticate.
type entry struct {
	principal Principal
	hash      [32]byte
	key       Key
	rev       uint64
}

// Keys authenticates requests against the keys in the bucket, kept in
// memory from a watch so that a key created or revoked through any
// gateway is seen by every other within milliseconds, and against the
// bootstrap admin key.
type Keys struct {
	kv        jetstream.KeyValue
	bootstrap string
	boot      Principal
	log       *slog.Logger

	mu   sync.RWMutex
	byID map[string]*entry
	gone map[string]uint64 // revoked ids and the revision of their delete

	stop context.CancelFunc
	done chan struct{}
}

// OpenKeys opens the bucket and starts watching it; bootstrap is the
// admin key from HEARTH_ADMIN_KEY or DATA/admin.key ("" for none). It
// returns once the keys that exist are loaded. While JetStream is not
// ready (a fresh cluster electing its meta leader, another gateway
// creating the bucket) it retries, logging each retry on log, up to
// jsopen.Timeout.
func OpenKeys(ctx context.Context, js jetstream.JetStream, bootstrap string, replicas int, log *slog.Logger) (*Keys, error) {
	if bootstrap != "" && len(bootstrap) < MinBootstrapLen {
		return nil, fmt.Errorf("auth: the admin key is %d characters; use at least %d random ones (openssl rand -base64 32)", len(bootstrap), MinBootstrapLen)
	}
	if log == nil {
		log = slog.Default()
	}
	var kv jetstream.KeyValue
	err := jsopen.Retry(ctx, log, "KV bucket "+Bucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "Hearth API keys: metadata and the hash of each key",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: open KV bucket %s: %w", Bucket, err)
	}
	k := &Keys{
		kv: kv, bootstrap: bootstrap, log: log.With("component", "auth"),
		byID: make(map[string]*entry),
		boot: Principal{KeyID: BootstrapID, Namespace: AllNamespaces, set: bitAdmin | bitDeploy | bitRead | bitInvoke},
	}
	if err := k.watch(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Close stops the watch.
func (k *Keys) Close() {
	k.stop()
	<-k.done
}

// Len is how many keys the bucket holds (the bootstrap key not counted).
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.byID)
}

// HasBootstrap reports whether an admin key was given.
func (k *Keys) HasBootstrap() bool { return k.bootstrap != "" }

// Authenticate finds the key of an Authorization header. The errors are
// those of BearerToken and ParseToken, and ErrUnknownKey.
func (k *Keys) Authenticate(header string) (*Principal, error) {
	token, err := BearerToken(header)
	if err != nil {
		return nil, err
	}
	if k.bootstrap != "" && len(token) == len(k.bootstrap) && subtle.ConstantTimeCompare([]byte(token), []byte(k.bootstrap)) == 1 {
		return &k.boot, nil
	}
	id, secret, err := ParseToken(token)
	if err != nil {
		return nil, err
	}
	k.mu.RLock()
	e := k.byID[id]
	k.mu.RUnlock()
	if e == nil {
		return nil, ErrUnknownKey
	}
	if h := hashSecret(id, secret); !hmac.Equal(h[:], e.hash[:]) {
		return nil, ErrUnknownKey
	}
	return &e.principal, nil
}

// Create makes a key that by (nil: auth is off) may grant, and returns it
// with the token, which is shown only now.
func (k *Keys) Create(ctx context.Context, req KeyRequest, by *Principal) (Key, string, error) {
	key, err := checkRequest(req)
	if err != nil {
		return Key{}, "", err
	}
	if by != nil {
		if !by.set.covers(setOf(key.Scopes)) {
			return Key{}, "", fmt.Errorf("%w: the key %s has scopes %s and cannot make one with %s", ErrNotCovered, by.KeyID, joinScopes(by.set.scopes()), joinScopes(key.Scopes))
		}
		if by.Namespace != AllNamespaces && key.Namespace != by.Namespace {
			return Key{}, "", fmt.Errorf("%w: the key %s is bound to namespace %q and can make keys only for it", ErrNotCovered, by.KeyID, by.Namespace)
		}
	}
	id, token, hash := newToken()
	key.ID = id
	key.CreatedAt = time.Now().UTC()
	raw, err := json.Marshal(stored{Key: key, Hash: hex.EncodeToString(hash[:])})
	if err != nil {
		return Key{}, "", err
	}
	rev, err := k.kv.Create(ctx, id, raw)
	if err != nil {
		return Key{}, "", fmt.Errorf("auth: store key: %w", err)
	}
	k.remember(key, hash, rev)
	return key, token, nil
}

// checkRequest validates a key request into the key it asks for.
func checkRequest(req KeyRequest) (Key, error) {
	if req.Name == "" || len(req.Name) > 100 || !utf8.ValidString(req.Name) {
		return Key{}, &InputError{"name must be 1 to 100 characters of UTF-8; it says what the key is for (\"ci-deploy\")"}
	}
	for _, r := range req.Name {
		if r < ' ' || r == 0x7f {
			return Key{}, &InputError{"name may not contain control characters"}
		}
	}
	scopes, err := ParseScopes(req.Scopes)
	if err != nil {
		return Key{}, &InputError{err.Error()}
	}
	if req.Namespace == "" {
		return Key{}, &InputError{`namespace is missing: give the namespace the key is bound to, or "*" for all`}
	}
	if req.Namespace != AllNamespaces {
		if err := registry.ValidateName("namespace", req.Namespace); err != nil {
			return Key{}, &InputError{truncate(err.Error(), 200)}
		}
	}
	if err := checkRateLimit(req.RateLimit); err != nil {
		return Key{}, &InputError{err.Error()}
	}
	return Key{Name: req.Name, Scopes: scopes, Namespace: req.Namespace, RateLimit: req.RateLimit}, nil
}

// List returns the keys by (nil: auth is off) may see, oldest first: all
// for a key of every namespace, those of its namespace otherwise.
func (k *Keys) List(by *Principal) []Key {
	k.mu.RLock()
	out := make([]Key, 0, len(k.byID))
	for _, e := range k.byID {
		if by == nil || by.Namespace == AllNamespaces || by.Namespace == e.key.Namespace {
			out = append(out, e.key)
		}
	}
	k.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Get returns a key that by may see.
func (k *Keys) Get(id string, by *Principal) (Key, bool) {
	k.mu.RLock()
	e := k.byID[id]
	k.mu.RUnlock()
	if e == nil || (by != nil && by.Namespace != AllNamespaces && by.Namespace != e.key.Namespace) {
		return Key{}, false
	}
	return e.key, true
}

// Delete revokes a key: refused on this gateway at once, on the others as
// soon as their watch delivers the delete. A key by may not see is
// ErrNotFound.
func (k *Keys) Delete(ctx context.Context, id string, by *Principal) (Key, error) {
	key, ok := k.Get(id, by)
	if !ok {
		return Key{}, ErrNotFound
	}
	k.forget(id, math.MaxUint64)
	if err := k.kv.Purge(ctx, id); err != nil {
		return Key{}, fmt.Errorf("auth: delete key %s: %w", id, err)
	}
	return key, nil
}

func (k *Keys) remember(key Key, hash [32]byte, rev uint64) {
	e := &entry{key: key, hash: hash, rev: rev, principal: Principal{
		KeyID: key.ID, Namespace: key.Namespace, set: setOf(key.Scopes), limiter: limiterOf(key.RateLimit),
	}}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.byID[key.ID]; ok && old.rev >= rev {
		return
	}
	if rev <= k.deletedRev(key.ID) {
		return
	}
	k.byID[key.ID] = e
}

// deletedRev is kept simple: a deleted id is never reused (ids are 80
// random bits), so forget marks it gone for good in this process.
func (k *Keys) deletedRev(id string) uint64 { return k.gone[id] }

func (k *Keys) forget(id string, rev uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gone == nil {
		k.gone = make(map[string]uint64)
	}
	if rev > k.gone[id] {
		k.gone[id] = rev
	}
	delete(k.byID, id)
}

// watch keeps byID in step with the bucket until Close, starting the
// watch again if it ends (NATS reconnects, a leader change), and returns
// once the existing keys are loaded.
func (k *Keys) watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k.stop = cancel
	k.done = make(chan struct{})
	var w jetstream.KeyWatcher
	// The watch lives as long as wctx: an attempt's context would end it.
	err := jsopen.Retry(ctx, k.log, "watch of "+Bucket, func(context.Context) (err error) {
		w, err = k.kv.WatchAll(wctx)
		return err
	})
	if err != nil {
		cancel()
		close(k.done)
		return fmt.Errorf("auth: watch %s: %w", Bucket, err)
	}
	loaded := make(chan struct{})
	go func() {
		defer close(k.done)
		first := true
		for {
			k.follow(wctx, w, func() {
				if first {
					first = false
					close(loaded)
				}
			})
			if wctx.Err() != nil {
				return
			}
			k.log.Warn("key watch ended; starting it again")
			for {
				if w, err = k.kv.WatchAll(wctx); err == nil {
					break
				}
				select {
				case <-wctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
		}
	}()
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		k.Close()
		return fmt.Errorf("auth: load keys: %w", ctx.Err())
	}
}

// follow applies a watch's updates until it ends; initialDone runs at the
// end of the initial values.
func (k *Keys) follow(ctx context.Context, w jetstream.KeyWatcher, initialDone func()) {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				initialDone()
				continue
			}
			k.apply(e)
		}
	}
}

func (k *Keys) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		k.forget(e.Key(), e.Revision())
		return
	}
	var s stored
	if err := json.Unmarshal(e.Value(), &s); err != nil || !ValidID(s.ID) || s.ID != e.Key() {
		k.log.Error("bad key record in KV; ignored", "key", e.Key(), "error", err)
		return
	}
	var hash [32]byte
	if raw, err := hex.DecodeString(s.Hash); err != nil || len(raw) != len(hash) {
		k.log.Error("bad key hash in KV; ignored", "key", e.Key())
		return
	} else {
		copy(hash[:], raw)
	}
	if err := checkRateLimit(s.RateLimit); err != nil {
		s.RateLimit = nil
	}
	k.remember(s.Key, hash, e.Revision())
}
