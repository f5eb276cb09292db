package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/jsopen"
)

// RecordsBucket is the NATS KV bucket of invocation records, keyed
// <namespace>.<function>.<invocation id>.
const RecordsBucket = "hearth_invocations"

// ErrNoRecord means no record of the invocation is kept.
var ErrNoRecord = errors.New("no such invocation")

// Store keeps invocation records in NATS KV.
type Store struct {
	kv jetstream.KeyValue
}

// OpenStore opens the records bucket, creating it if needed; records
// expire after retention. While JetStream is not ready (no meta leader
// yet, another gateway creating the bucket) it retries, up to
// jsopen.Timeout (jsopen.Retry).
func OpenStore(ctx context.Context, js jetstream.JetStream, retention time.Duration, replicas int, opts ...OpenOption) (*Store, error) {
	o := applyOpenOptions(opts)
	var kv jetstream.KeyValue
	err := jsopen.Retry(ctx, o.log, "KV bucket "+RecordsBucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      RecordsBucket,
			Description: "Hearth invocation records",
			History:     1,
			TTL:         retention,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: open KV bucket %s: %w", RecordsBucket, err)
	}
	return &Store{kv: kv}, nil
}

// Subject is the KV subject a record is published to when it is written
// without the KeyValue API (the Writer).
func Subject(r *Record) string { return "$KV." + RecordsBucket + "." + r.Key() }

// Put writes a record.
func (s *Store) Put(ctx context.Context, r *Record) error {
	_, err := s.kv.Put(ctx, r.Key(), r.AppendJSON(make([]byte, 0, 512)))
	return err
}

// Get finds a record by invocation id.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	if !ValidID(id) {
		return nil, ErrNoRecord
	}
	lister, err := s.kv.ListKeysFiltered(ctx, "*.*."+id)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, ErrNoRecord
		}
		return nil, err
	}
	var key string
	for k := range lister.Keys() {
		key = k
	}
	if key == "" {
		return nil, ErrNoRecord
	}
	return s.getKey(ctx, key)
}

// GetFor reads the record of an invocation whose function is known.
func (s *Store) GetFor(ctx context.Context, ns, fn, id string) (*Record, error) {
	return s.getKey(ctx, ns+"."+fn+"."+id)
}

func (s *Store) getKey(ctx context.Context, key string) (*Record, error) {
	entry, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, ErrNoRecord
	}
	if err != nil {
		return nil, err
	}
	r := new(Record)
	if err := json.Unmarshal(entry.Value(), r); err != nil {
		return nil, fmt.Errorf("decode record %s: %w", key, err)
	}
	return r, nil
}

// List returns the newest records of a function, newest first.
func (s *Store) List(ctx context.Context, ns, fn string, limit int) ([]*Record, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, ns+"."+fn+".*")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, err
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []*Record
	for _, k := range keys {
		r, err := s.getKey(ctx, k)
		if err != nil {
			continue // expired or deleted meanwhile
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QueuedAt.After(out[j].QueuedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Watch follows the records of one function as they are written, from now
// on (not the ones already kept): each put of a record is an entry on the
// watcher's Updates. The caller stops it (Stop), or ctx ends it.
func (s *Store) Watch(ctx context.Context, ns, fn string) (jetstream.KeyWatcher, error) {
	return s.kv.Watch(ctx, ns+"."+fn+".*", jetstream.UpdatesOnly())
}

// DecodeEntry reads the record of a watched entry; false for an entry that
// is not a put (a delete or purge) or does not decode.
func DecodeEntry(e jetstream.KeyValueEntry) (*Record, bool) {
	if e == nil || e.Operation() != jetstream.KeyValuePut {
		return nil, false
	}
	r := new(Record)
	if err := json.Unmarshal(e.Value(), r); err != nil {
		return nil, false
	}
	return r, true
}
