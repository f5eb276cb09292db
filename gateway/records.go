package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RecordsBucket is the NATS KV bucket of invocation records, keyed
// <namespace>.<function>.<invocation id>.
const RecordsBucket = "hearth_invocations"

// Invocation statuses (API.md).
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusDead      = "dead"
)

// Record is what is known about one invocation: GET /v1/invocations/{id}.
type Record struct {
	ID         string        `json:"id"`
	Namespace  string        `json:"namespace"`
	Function   string        `json:"function"`
	Version    int           `json:"version"`
	Mode       string        `json:"mode"` // sync, async, cron, nats
	Status     string        `json:"status"`
	Attempts   int           `json:"attempts"`
	QueuedAt   time.Time     `json:"queued_at"`
	StartedAt  *time.Time    `json:"started_at,omitempty"`
	FinishedAt *time.Time    `json:"finished_at,omitempty"`
	NextTry    *time.Time    `json:"next_attempt_at,omitempty"`
	Timings    Timings       `json:"timings"`
	Cold       bool          `json:"cold"`
	Runner     string        `json:"runner,omitempty"`
	Placement  string        `json:"placement,omitempty"`
	StatusCode int           `json:"status_code,omitempty"` // HTTP status of the last attempt
	Error      *errorDetail  `json:"error,omitempty"`
	Result     *ObjectRef    `json:"result,omitempty"`
	Logs       *ObjectRef    `json:"logs,omitempty"`
	Callback   *CallbackInfo `json:"callback,omitempty"`
}

// Timings of the last attempt, in milliseconds.
type Timings struct {
	QueuedMs float64 `json:"queued_ms"` // from accept to the attempt's start (async)
	WaitMs   float64 `json:"wait_ms"`   // gateway and NATS time around the run
	InitMs   float64 `json:"init_ms"`   // module fetch, compile, instance start
	RunMs    float64 `json:"run_ms"`
}

// ObjectRef points at a stored result or log.
type ObjectRef struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// CallbackInfo is the delivery of an async result to a callback URL.
type CallbackInfo struct {
	URL        string `json:"url"`
	Delivered  bool   `json:"delivered"`
	Attempts   int    `json:"attempts"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (r *Record) key() string { return r.Namespace + "." + r.Function + "." + r.ID }

func (r *Record) finished() bool {
	return r.Status == StatusSucceeded || r.Status == StatusFailed || r.Status == StatusDead
}

// applyOutcome copies an execution's outcome into the record.
func (r *Record) applyOutcome(out outcome, now time.Time) {
	r.FinishedAt = &now
	r.StatusCode = out.status
	r.Placement = out.placed
	if out.resp != nil {
		r.Cold, r.Runner = out.resp.Cold, out.resp.Runner
		r.Timings.InitMs = float64(out.resp.InitMicros) / 1000
		r.Timings.RunMs = float64(out.resp.RunMicros) / 1000
		r.Timings.WaitMs = ms(out.total) - r.Timings.InitMs - r.Timings.RunMs
	} else {
		r.Timings.WaitMs = ms(out.total)
	}
	r.Error = nil
	if out.err != nil {
		r.Error = &errorDetail{Code: out.err.Code, Message: out.err.Message}
	}
}

// records stores invocation records in NATS KV.
type records struct {
	kv jetstream.KeyValue
}

func openRecords(ctx context.Context, js jetstream.JetStream, retention time.Duration, replicas int) (*records, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      RecordsBucket,
		Description: "Hearth invocation records",
		History:     1,
		TTL:         retention,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: open KV bucket %s: %w", RecordsBucket, err)
	}
	return &records{kv: kv}, nil
}

var errNoRecord = errors.New("no such invocation")

// subject is the KV subject a record is published to when it is written
// without the KeyValue API (the batched writer of sync records).
func (rs *records) subject(r *Record) string { return "$KV." + RecordsBucket + "." + r.key() }

func (rs *records) put(ctx context.Context, r *Record) error {
	_, err := rs.kv.Put(ctx, r.key(), r.appendJSON(make([]byte, 0, 512)))
	return err
}

// get finds a record by invocation id.
func (rs *records) get(ctx context.Context, id string) (*Record, error) {
	if !validID(id) {
		return nil, errNoRecord
	}
	lister, err := rs.kv.ListKeysFiltered(ctx, "*.*."+id)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, errNoRecord
		}
		return nil, err
	}
	var key string
	for k := range lister.Keys() {
		key = k
	}
	if key == "" {
		return nil, errNoRecord
	}
	return rs.getKey(ctx, key)
}

// getFor reads the record of an invocation whose function is known.
func (rs *records) getFor(ctx context.Context, ns, fn, id string) (*Record, error) {
	return rs.getKey(ctx, ns+"."+fn+"."+id)
}

func (rs *records) getKey(ctx context.Context, key string) (*Record, error) {
	entry, err := rs.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, errNoRecord
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

// list returns the newest records of a function, newest first.
func (rs *records) list(ctx context.Context, ns, fn string, limit int) ([]*Record, error) {
	lister, err := rs.kv.ListKeysFiltered(ctx, ns+"."+fn+".*")
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
		r, err := rs.getKey(ctx, k)
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

// validID reports whether id can be an invocation id (and a KV key token).
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}
