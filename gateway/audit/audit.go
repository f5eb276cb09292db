package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/jsopen"
)

// The audit stream.
const (
	Stream   = "HEARTH_AUDIT"
	Subjects = "hearth.audit.>"
	MaxAge   = 90 * 24 * time.Hour // entries older than this are discarded
	MaxMsgs  = 1_000_000           // beyond this many, the oldest are discarded
)

// Bounds of List.
const (
	DefaultLimit = 100    // entries a List returns when Query.Limit is 0
	MaxLimit     = 1000   // a larger Query.Limit is cut to this
	MaxScan      = 10_000 // messages, counted back from the newest, that one List looks at
)

// The actions an entry records.
const (
	FunctionDeploy = "function.deploy"
	FunctionDelete = "function.delete"
	AliasSet       = "alias.set"
	AliasDelete    = "alias.delete"
	TriggerAdd     = "trigger.add"
	TriggerDelete  = "trigger.delete"
	SecretPut      = "secret.put"
	SecretDelete   = "secret.delete"
	KeyCreate      = "key.create"
	KeyDelete      = "key.delete"
	// DLQReplay is Hearth's own addition to API.md's list: a dead letter
	// queued again runs the function again.
	DLQReplay = "dlq.replay"
)

// The outcomes of an action.
const (
	Success = "success" // done
	Denied  = "denied"  // refused: the key may not do it
	Failed  = "failed"  // allowed, but it did not succeed
)

var actions = map[string]bool{
	FunctionDeploy: true, FunctionDelete: true, AliasSet: true, AliasDelete: true,
	TriggerAdd: true, TriggerDelete: true, SecretPut: true, SecretDelete: true,
	KeyCreate: true, KeyDelete: true, DLQReplay: true,
}

// ValidAction reports whether a is one of the action constants.
func ValidAction(a string) bool { return actions[a] }

// ValidOutcome reports whether o is Success, Denied or Failed.
func ValidOutcome(o string) bool { return o == Success || o == Denied || o == Failed }

// ErrInvalid is wrapped by the errors of Append and List about an entry or
// a query that cannot be stored or asked (a bad namespace, action or
// outcome); a handler answers them 400.
var ErrInvalid = errors.New("audit: invalid")

// Entry is one audited action.
type Entry struct {
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`    // the API key that asked; "" without one
	Action    string    `json:"action"`    // one of the action constants
	Namespace string    `json:"namespace"` // "*" for all namespaces
	Target    string    `json:"target"`    // e.g. the function, "hello:prod", the secret or key id
	Outcome   string    `json:"outcome"`   // Success, Denied or Failed
}

// Query selects entries for List.
type Query struct {
	Namespace string // "" or "*": every namespace's entries
	Action    string // "": every action
	Limit     int    // 0: DefaultLimit; at most MaxLimit
}

// Log is the audit log.
type Log struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	maxScan uint64 // MaxScan; lowered by tests
}

// OpenOption tunes Open.
type OpenOption func(*openOptions)

type openOptions struct{ log *slog.Logger }

// WithLog logs the retries of opening the stream on log (default
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

// Open creates the audit stream, or updates its configuration, with
// replicas copies (at least 1). While JetStream is not ready (a fresh
// cluster electing its meta leader, another gateway creating the stream)
// it retries, logging each retry, up to jsopen.Timeout.
func Open(ctx context.Context, js jetstream.JetStream, replicas int, opts ...OpenOption) (*Log, error) {
	o := applyOpenOptions(opts)
	var stream jetstream.Stream
	err := jsopen.Retry(ctx, o.log, "stream "+Stream, func(ctx context.Context) (err error) {
		stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        Stream,
			Description: "Hearth audit log",
			Subjects:    []string{Subjects},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Discard:     jetstream.DiscardOld,
			MaxAge:      MaxAge,
			MaxMsgs:     MaxMsgs,
			Replicas:    max(replicas, 1),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: stream %s: %w", Stream, err)
	}
	return &Log{js: js, stream: stream, maxScan: MaxScan}, nil
}

// Append stores e and returns once JetStream has acknowledged it. A zero
// e.Time is set to now.
func (l *Log) Append(ctx context.Context, e Entry) error {
	nsTok, err := namespaceToken(e.Namespace)
	if err != nil {
		return err
	}
	if !ValidAction(e.Action) {
		return fmt.Errorf("%w action %q", ErrInvalid, e.Action)
	}
	if !ValidOutcome(e.Outcome) {
		return fmt.Errorf("%w outcome %q: use %s, %s or %s", ErrInvalid, e.Outcome, Success, Denied, Failed)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	subject := "hearth.audit." + nsTok + "." + actionToken(e.Action)
	if _, err := l.js.Publish(ctx, subject, data, jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("audit: append %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// List returns the entries that q selects, newest first, at most q.Limit
// of them. It reads the stream by sequence back from its end, a window at
// a time (each twice the last), and lets the server skip the entries that
// do not match; it looks at the newest MaxScan messages of the stream at
// most, so an older entry is not found.
func (l *Log) List(ctx context.Context, q Query) ([]Entry, error) {
	filter, err := q.subject()
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := []Entry{}
	if info.State.Msgs == 0 {
		return out, nil
	}
	first, end := max(info.State.FirstSeq, 1), info.State.LastSeq+1
	if end-first > l.maxScan {
		first = end - l.maxScan
	}
	for window := uint64(limit); end > first && len(out) < limit; window *= 2 {
		start := end - min(window, end-first)
		var found []Entry // oldest first
		for seq := start; seq < end; {
			// The next message at or after seq on the filter's subjects;
			// deleted sequences are skipped.
			raw, err := l.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("audit: read sequence %d: %w", seq, err)
			}
			if raw.Sequence >= end {
				break // read by a newer window already
			}
			seq = raw.Sequence + 1
			var e Entry
			if json.Unmarshal(raw.Data, &e) != nil {
				continue // not an entry; nothing else publishes here
			}
			found = append(found, e)
		}
		for i := len(found) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, found[i])
		}
		end = start
	}
	return out, nil
}

// subject is the filter subject of q.
func (q Query) subject() (string, error) {
	nsTok := "*"
	if q.Namespace != "" && q.Namespace != "*" {
		tok, err := namespaceToken(q.Namespace)
		if err != nil {
			return "", err
		}
		nsTok = tok
	}
	actTok := "*"
	if q.Action != "" {
		if !ValidAction(q.Action) {
			return "", fmt.Errorf("%w action %q", ErrInvalid, q.Action)
		}
		actTok = actionToken(q.Action)
	}
	return "hearth.audit." + nsTok + "." + actTok, nil
}

// namespaceToken is the subject token of a namespace: _all for "*" or "",
// else the namespace, which must be one subject token.
func namespaceToken(ns string) (string, error) {
	if ns == "" || ns == "*" {
		return "_all", nil
	}
	if strings.ContainsAny(ns, ".*>") || strings.IndexFunc(ns, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("%w namespace %q: it goes into a subject, so no '.', '*', '>' or spaces", ErrInvalid, ns)
	}
	if ns == "_all" {
		return "", fmt.Errorf("%w namespace %q: the token of \"*\"", ErrInvalid, ns)
	}
	return ns, nil
}

func actionToken(a string) string { return strings.ReplaceAll(a, ".", "_") }
