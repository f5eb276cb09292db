package records

import (
	"strings"
	"time"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/internal/tracing"
)

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
	ID         string     `json:"id"`
	Namespace  string     `json:"namespace"`
	Function   string     `json:"function"`
	Version    int        `json:"version"`
	Mode       string     `json:"mode"` // sync, async, cron, nats
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	QueuedAt   time.Time  `json:"queued_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	NextTry    *time.Time `json:"next_attempt_at,omitempty"`
	Timings    Timings    `json:"timings"`
	Cold       bool       `json:"cold"`
	Runner     string     `json:"runner,omitempty"`
	Placement  string     `json:"placement,omitempty"`
	// TraceID is the W3C trace id of the call (the request's traceparent,
	// or a trace the gateway started); RequestID the Hearth-Request-Id of
	// the HTTP request that made the invocation (none for cron and NATS
	// triggers).
	TraceID    string         `json:"trace_id,omitempty"`
	RequestID  string         `json:"request_id,omitempty"`
	StatusCode int            `json:"status_code,omitempty"` // HTTP status of the last attempt
	Error      *apierr.Detail `json:"error,omitempty"`
	Result     *ObjectRef     `json:"result,omitempty"`
	Logs       *ObjectRef     `json:"logs,omitempty"`
	Callback   *CallbackInfo  `json:"callback,omitempty"`
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

// Key is the record's key in the bucket: <namespace>.<function>.<id>.
func (r *Record) Key() string { return r.Namespace + "." + r.Function + "." + r.ID }

// LogArgs are the pairs every log line about the invocation has, then
// more, as wire.Request.LogArgs has them: "invocation", "request_id" and
// "trace_id" (each when it has one).
func (r *Record) LogArgs(more ...any) []any {
	args := make([]any, 0, 6+len(more))
	args = append(args, "invocation", r.ID)
	if r.RequestID != "" {
		args = append(args, "request_id", r.RequestID)
	}
	if r.TraceID != "" {
		args = append(args, "trace_id", r.TraceID)
	}
	return append(args, more...)
}

// Finished reports whether the invocation has reached a final status.
func (r *Record) Finished() bool {
	return r.Status == StatusSucceeded || r.Status == StatusFailed || r.Status == StatusDead
}

// ApplyOutcome copies an execution's outcome into the record.
func (r *Record) ApplyOutcome(out *invocation.Outcome, now time.Time) {
	r.FinishedAt = &now
	r.StatusCode = out.Status
	r.Placement = out.Placed
	if out.Resp != nil {
		r.Cold, r.Runner = out.Resp.Cold, out.Resp.Runner
		r.Timings.InitMs = float64(out.Resp.InitMicros) / 1000
		r.Timings.RunMs = float64(out.Resp.RunMicros) / 1000
		r.Timings.WaitMs = invocation.Ms(out.Total) - r.Timings.InitMs - r.Timings.RunMs
	} else {
		r.Timings.WaitMs = invocation.Ms(out.Total)
	}
	r.Error = nil
	if out.Err != nil {
		r.Error = &apierr.Detail{Code: out.Err.Code, Message: out.Err.Message}
	}
}

// Sync is the record of a finished sync call (mode sync, cron or nats).
func Sync(inv *invocation.Invocation, out *invocation.Outcome, mode string) *Record {
	started := inv.Start.UTC()
	rec := &Record{ID: inv.Req.InvocationID, Namespace: inv.Namespace, Function: inv.Function, Version: inv.Req.Version,
		Mode: mode, Attempts: 1, QueuedAt: started, StartedAt: &started,
		TraceID: tracing.TraceID(inv.Req.Traceparent), RequestID: inv.Req.RequestID}
	rec.ApplyOutcome(out, time.Now().UTC())
	rec.Status = StatusSucceeded
	if out.Err != nil {
		rec.Status = StatusFailed
	}
	return rec
}

// ValidID reports whether id can be an invocation id (and a KV key token).
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}
