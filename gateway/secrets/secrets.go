package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/registry"
)

// Bucket is the NATS KV bucket that holds the sealed secrets, one key
// "<namespace>.<name>" per secret.
const Bucket = "hearth_secrets"

// MaxValueBytes is the largest secret value Put accepts (64 KiB).
const MaxValueBytes = 64 << 10

const (
	nonceBytes = 12 // AES-GCM standard nonce
	tagBytes   = 16
	putRetries = 20 // optimistic writes tried before giving up
)

// Errors a caller maps to HTTP answers. Every error of this package names
// secrets but never carries a value.
var (
	// ErrInvalidName: a secret name or namespace does not follow the
	// function-name rule; such an error is also a *registry.ValidationError
	// (code invalid_name). HTTP 400.
	ErrInvalidName = errors.New("invalid secret name")
	// ErrEmpty: Put was given no value. HTTP 400.
	ErrEmpty = errors.New("a secret needs a value")
	// ErrTooLarge: Put was given more than MaxValueBytes. HTTP 413.
	ErrTooLarge = fmt.Errorf("a secret value may be at most %d bytes (64 KiB)", MaxValueBytes)
	// ErrNotFound: Delete of a secret that does not exist. HTTP 404.
	ErrNotFound = errors.New("secret not found")
	// ErrNoKey: this gateway was started without a master key, so it can
	// neither seal nor open values (listing and deleting still work).
	ErrNoKey = errors.New("this gateway has no secrets key: set HEARTH_SECRETS_KEY (32 bytes, base64) on every gateway")
	// ErrKeyMismatch: a secret was sealed under a master key other than
	// this gateway's.
	ErrKeyMismatch = errors.New("secret sealed under another key")
	// ErrCorrupt: a stored secret does not decode or does not open (its
	// ciphertext was altered, or moved from another secret).
	ErrCorrupt = errors.New("secret cannot be opened")
)

// MissingError is Env's answer for a granted secret that does not exist.
type MissingError struct {
	Namespace string
	Name      string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("secret %q does not exist in namespace %q: it was deleted or never set; set it with `hearth secret set %s --namespace %s`, or remove it from the function's secrets",
		e.Name, e.Namespace, e.Name, e.Namespace)
}

// secretError is an error about one stored secret that errors.Is matches
// against a sentinel (ErrKeyMismatch, ErrCorrupt).
type secretError struct {
	msg  string
	kind error
}

func (e *secretError) Error() string { return e.msg }
func (e *secretError) Unwrap() error { return e.kind }

// nameError is both a *registry.ValidationError and ErrInvalidName.
type nameError struct{ err error }

func (e *nameError) Error() string   { return e.err.Error() }
func (e *nameError) Unwrap() []error { return []error{e.err, ErrInvalidName} }

func checkNames(namespace, name string) error {
	if err := registry.ValidateName("namespace", namespace); err != nil {
		return &nameError{err}
	}
	if err := registry.ValidateName("secret", name); err != nil {
		return &nameError{err}
	}
	return nil
}

// EnvName is the environment variable a function sees a secret as: the
// name upper-cased with '-' as '_' ("db-password" is DB_PASSWORD).
func EnvName(name string) string { return registry.SecretEnvName(name) }

// Meta is what the API shows of a secret: never its value.
type Meta struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// record is the stored JSON of one secret. Ciphertext is nonce||sealed
// (encoding/json writes []byte as standard base64), sealed by AES-256-GCM
// with "<namespace>/<name>" as additional data.
type record struct {
	Ciphertext []byte    `json:"ciphertext"`
	KeyID      string    `json:"key_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// entry is one secret in the watched cache, decoded once when the watch
// delivers it so that Env only opens the ciphertext.
type entry struct {
	meta    Meta
	rev     uint64
	deleted bool // a tombstone: keeps an older watch event from reviving it
	corrupt bool // the stored record did not decode
	keyID   string
	sealed  []byte // nonce || ciphertext+tag
	ad      []byte // "<namespace>/<name>"
	env     string // EnvName(name)
}

// Store holds the secrets of every namespace.
type Store struct {
	kv    jetstream.KeyValue
	aead  cipher.AEAD // nil without a key
	keyID string

	mu    sync.RWMutex
	cache map[string]map[string]*entry // namespace -> name -> entry

	stopWatch context.CancelFunc
	watchDone chan struct{}
	closeOnce sync.Once
}

// Open creates the KV bucket if needed, starts watching it and returns
// once the watch has replayed what the bucket holds, so that Get, List,
// Missing and Env answer from a complete cache. key is the 32-byte master
// key, or nil for a gateway that only lists and deletes (Put and Env then
// answer ErrNoKey). replicas below 1 means 1. While JetStream is not
// ready (a fresh cluster electing its meta leader, another gateway
// creating the bucket) it retries, logging each retry, up to
// jsopen.Timeout.
func Open(ctx context.Context, js jetstream.JetStream, key []byte, replicas int, opts ...OpenOption) (*Store, error) {
	o := applyOpenOptions(opts)
	s := &Store{cache: make(map[string]map[string]*entry)}
	if key != nil {
		if len(key) != KeyBytes {
			return nil, fmt.Errorf("secrets: the key is %d bytes; it must be %d (%s)", len(key), KeyBytes, makeKeyHint)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		s.keyID = Fingerprint(key)
	}
	if replicas < 1 {
		replicas = 1
	}
	err := jsopen.Retry(ctx, o.log, "KV bucket "+Bucket, func(ctx context.Context) (err error) {
		s.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "Hearth function secrets, sealed with AES-256-GCM",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("secrets: open KV bucket %s: %w", Bucket, err)
	}
	if err := s.watch(ctx, o.log); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenOption tunes Open.
type OpenOption func(*openOptions)

type openOptions struct{ log *slog.Logger }

// WithLog logs the retries of opening the bucket on log (default
// slog.Default()).
func WithLog(log *slog.Logger) OpenOption { return func(o *openOptions) { o.log = log } }

func applyOpenOptions(opts []OpenOption) openOptions {
	o := openOptions{log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return o
}

// KeyID is the fingerprint of this store's master key ("" without one).
func (s *Store) KeyID() string { return s.keyID }

// Close stops the watch. It is safe to call more than once.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.stopWatch()
		<-s.watchDone
	})
}

func kvKey(namespace, name string) string { return namespace + "." + name }

func additionalData(namespace, name string) []byte {
	return []byte(namespace + "/" + name)
}

// Put seals value and stores it as the secret namespace/name. created is
// true when the secret did not exist (of two concurrent first writes only
// one is created); an update keeps the secret's created_at.
func (s *Store) Put(ctx context.Context, namespace, name string, value []byte) (created bool, meta Meta, err error) {
	if err := checkNames(namespace, name); err != nil {
		return false, Meta{}, err
	}
	switch {
	case len(value) == 0:
		return false, Meta{}, ErrEmpty
	case len(value) > MaxValueBytes:
		return false, Meta{}, fmt.Errorf("%w; this one is %d bytes", ErrTooLarge, len(value))
	case s.aead == nil:
		return false, Meta{}, ErrNoKey
	}
	k := kvKey(namespace, name)
	ad := additionalData(namespace, name)
	for range putRetries {
		now := time.Now().UTC()
		rec := record{KeyID: s.keyID, CreatedAt: now, UpdatedAt: now}
		var rev uint64
		got, err := s.kv.Get(ctx, k)
		switch {
		case err == nil:
			rev = got.Revision()
			var old record
			if json.Unmarshal(got.Value(), &old) == nil && !old.CreatedAt.IsZero() {
				rec.CreatedAt = old.CreatedAt
			}
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		default:
			return false, Meta{}, fmt.Errorf("secrets: read %s/%s: %w", namespace, name, err)
		}
		rec.Ciphertext, err = s.seal(value, ad)
		if err != nil {
			return false, Meta{}, err
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return false, Meta{}, fmt.Errorf("secrets: encode %s/%s: %w", namespace, name, err)
		}
		var newRev uint64
		if rev == 0 {
			newRev, err = s.kv.Create(ctx, k, data)
		} else {
			newRev, err = s.kv.Update(ctx, k, data, rev)
		}
		switch {
		case err == nil:
			e := s.newEntry(namespace, name, newRev, &rec)
			s.remember(namespace, name, e)
			return rev == 0, e.meta, nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // another writer got there first; read again
		default:
			return false, Meta{}, fmt.Errorf("secrets: write %s/%s: %w", namespace, name, err)
		}
	}
	return false, Meta{}, fmt.Errorf("secrets: too many concurrent writes to %s/%s; try again", namespace, name)
}

func (s *Store) seal(value, ad []byte) ([]byte, error) {
	out := make([]byte, nonceBytes, nonceBytes+len(value)+tagBytes)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("secrets: generate a nonce: %w", err)
	}
	return s.aead.Seal(out, out[:nonceBytes], value, ad), nil
}

// Get is a secret's metadata from the watched cache.
func (s *Store) Get(namespace, name string) (Meta, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.cache[namespace][name]
	if e == nil || e.deleted {
		return Meta{}, false
	}
	return e.meta, true
}

// List is the metadata of a namespace's secrets in name order, from the
// watched cache; it is empty, not nil, for a namespace without secrets.
func (s *Store) List(namespace string) []Meta {
	s.mu.RLock()
	list := make([]Meta, 0, len(s.cache[namespace]))
	for _, e := range s.cache[namespace] {
		if !e.deleted {
			list = append(list, e.meta)
		}
	}
	s.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// Missing answers which of names are not secrets of namespace, in the
// order given (nil when all exist): a deploy that grants one is refused.
func (s *Store) Missing(namespace string, names []string) []string {
	var missing []string
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, name := range names {
		if e := s.cache[namespace][name]; e == nil || e.deleted {
			missing = append(missing, name)
		}
	}
	return missing
}

// Delete removes a secret; ErrNotFound when it does not exist.
func (s *Store) Delete(ctx context.Context, namespace, name string) error {
	if err := checkNames(namespace, name); err != nil {
		return err
	}
	k := kvKey(namespace, name)
	for range putRetries {
		got, err := s.kv.Get(ctx, k)
		switch {
		case err == nil:
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
			return ErrNotFound
		default:
			return fmt.Errorf("secrets: read %s/%s: %w", namespace, name, err)
		}
		// Purge, not Delete: no earlier revision of the ciphertext stays.
		err = s.kv.Purge(ctx, k, jetstream.LastRevision(got.Revision()))
		switch {
		case err == nil:
			// The purge marker's own revision is not reported; a tombstone
			// at the purged revision keeps that and older puts out.
			s.remember(namespace, name, &entry{rev: got.Revision(), deleted: true})
			return nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // written meanwhile; read again
		default:
			return fmt.Errorf("secrets: delete %s/%s: %w", namespace, name, err)
		}
	}
	return fmt.Errorf("secrets: too many concurrent writes to %s/%s; try again", namespace, name)
}

// Env opens the named secrets of namespace for an invocation: environment
// variable name (EnvName) to value. A secret that does not exist is a
// *MissingError; one sealed under another key is ErrKeyMismatch, one that
// does not open ErrCorrupt. No names is a nil map and no error, with or
// without a key. It reads only the watched cache and decodes nothing but
// the ciphertexts.
func (s *Store) Env(namespace string, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if s.aead == nil {
		return nil, ErrNoKey
	}
	var buf [8]*entry
	entries := buf[:0]
	s.mu.RLock()
	byName := s.cache[namespace]
	for _, name := range names {
		e := byName[name]
		if e == nil || e.deleted {
			s.mu.RUnlock()
			return nil, &MissingError{Namespace: namespace, Name: name}
		}
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	env := make(map[string]string, len(entries))
	for _, e := range entries {
		if e.corrupt || len(e.sealed) < nonceBytes+tagBytes {
			return nil, s.corrupt(namespace, e.meta.Name)
		}
		if e.keyID != s.keyID {
			return nil, &secretError{kind: ErrKeyMismatch, msg: fmt.Sprintf(
				"secret %s in namespace %s was sealed under another key (fingerprint %s; this gateway's is %s); every gateway must share one HEARTH_SECRETS_KEY",
				e.meta.Name, namespace, e.keyID, s.keyID)}
		}
		plain, err := s.aead.Open(nil, e.sealed[:nonceBytes], e.sealed[nonceBytes:], e.ad)
		if err != nil {
			return nil, s.corrupt(namespace, e.meta.Name)
		}
		env[e.env] = string(plain)
		clear(plain)
	}
	return env, nil
}

func (s *Store) corrupt(namespace, name string) error {
	return &secretError{kind: ErrCorrupt, msg: fmt.Sprintf(
		"secret %s in namespace %s cannot be opened: its stored ciphertext is corrupt or was not sealed for this name; set it again with `hearth secret set %s --namespace %s`",
		name, namespace, name, namespace)}
}

// rewatch starts the watch again, retrying each second until ctx ends
// (then nil).
func (s *Store) rewatch(ctx context.Context) jetstream.KeyWatcher {
	for {
		if w, err := s.kv.WatchAll(ctx); err == nil {
			return w
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// watch keeps the cache in step with the bucket, so that every gateway
// sees a secret set or deleted through any other, and returns once the
// initial values are in.
func (s *Store) watch(ctx context.Context, log *slog.Logger) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var w jetstream.KeyWatcher
	// The watch lives as long as wctx: an attempt's context would end it.
	err := jsopen.Retry(ctx, log, "watch of "+Bucket, func(context.Context) (err error) {
		w, err = s.kv.WatchAll(wctx)
		return err
	})
	if err != nil {
		cancel()
		return fmt.Errorf("secrets: watch %s: %w", Bucket, err)
	}
	s.stopWatch = cancel
	s.watchDone = make(chan struct{})
	ready := make(chan struct{})
	go func() {
		initial := ready // closed, then nil, at the end of the initial values
		defer close(s.watchDone)
		defer func() {
			if w != nil { // nil once rewatch gave up: the store was closed
				_ = w.Stop()
			}
		}()
		for {
			select {
			case <-wctx.Done():
				return
			case kve, ok := <-w.Updates():
				if !ok {
					// The watch ended (NATS reconnected, a leader moved):
					// start it again, so this gateway does not keep stale
					// values. Its replay brings what changed meanwhile,
					// deletes included (they leave purge markers).
					if w = s.rewatch(wctx); w == nil {
						return
					}
					continue
				}
				if kve == nil { // the end of the initial values
					if initial != nil {
						close(initial)
						initial = nil
					}
					continue
				}
				s.apply(kve)
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-s.watchDone:
		return fmt.Errorf("secrets: the watch of %s ended before its initial values", Bucket)
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("secrets: wait for the initial values of %s: %w", Bucket, ctx.Err())
	}
}

func (s *Store) apply(kve jetstream.KeyValueEntry) {
	namespace, name, ok := strings.Cut(kve.Key(), ".")
	if !ok || checkNames(namespace, name) != nil {
		return // not a key this package writes
	}
	if kve.Operation() != jetstream.KeyValuePut {
		s.removed(namespace, name, kve.Revision())
		return
	}
	var rec record
	if err := json.Unmarshal(kve.Value(), &rec); err != nil {
		s.remember(namespace, name, &entry{meta: Meta{Name: name}, rev: kve.Revision(), corrupt: true})
		return
	}
	s.remember(namespace, name, s.newEntry(namespace, name, kve.Revision(), &rec))
}

func (s *Store) newEntry(namespace, name string, rev uint64, rec *record) *entry {
	return &entry{
		meta:   Meta{Name: name, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt},
		rev:    rev,
		keyID:  rec.KeyID,
		sealed: rec.Ciphertext,
		ad:     additionalData(namespace, name),
		env:    EnvName(name),
	}
}

// remember stores e unless the cache holds a newer revision: the watch
// may deliver an older write after Put or Delete here stored a newer one.
// A tombstone at the same revision as a value replaces it (Delete records
// the revision it purged).
func (s *Store) remember(namespace, name string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byName := s.cache[namespace]
	if byName == nil {
		byName = make(map[string]*entry)
		s.cache[namespace] = byName
	}
	if old := byName[name]; old != nil && (old.rev > e.rev || old.rev == e.rev && !e.deleted) {
		return
	}
	byName[name] = e
}

// removed applies a delete the watch delivered at rev. The watch delivers
// a key's revisions in order, so after it no older event can come and
// the secret leaves the cache, tombstone and all (unless a newer Put here
// is already in).
func (s *Store) removed(namespace, name string, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byName := s.cache[namespace]
	if old := byName[name]; old == nil || old.rev > rev {
		return
	}
	delete(byName, name)
	if len(byName) == 0 {
		delete(s.cache, namespace)
	}
}
