package wire

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/tracing"
)

// Subjects and queue groups.
const (
	// InvokeSubject is where invocations are published; runners share it in
	// the RunnerQueue queue group.
	InvokeSubject = "hearth.invoke"
	// RunnerQueue is the queue group of all runners.
	RunnerQueue = "hearth-runners"
	// RunnerSubjectPrefix + id + ".invoke" reaches one runner: the
	// scheduler's choice.
	RunnerSubjectPrefix = "hearth.runner."
	// MetaHeader carried the JSON metadata of a Request or Response before
	// the binary format; decoders still accept it.
	MetaHeader = "Hearth-Meta"
	// TraceHeader and RequestIDHeader carry Request.Traceparent and
	// Request.RequestID. The trace context is not under W3C's name
	// "traceparent" on NATS: nats-server parses every header of a message
	// that has one into a map, to look for a trace destination of the
	// account (its message tracing), which was ~6 % of its CPU per sync
	// call in the cluster case (docs/performance.md). LegacyTraceHeader is
	// still read, from gateways before the rename.
	TraceHeader       = "Hearth-Traceparent"
	LegacyTraceHeader = "traceparent"
	RequestIDHeader   = "Hearth-Request-Id"
)

// RunnerSubject is the subject on which the runner with id takes work
// placed on it.
func RunnerSubject(id string) string { return RunnerSubjectPrefix + id + ".invoke" }

// Error codes a runner reports in Response.Error.
const (
	CodeFunctionFailed    = "function_failed"    // trap or non-zero exit
	CodeTimeout           = "timeout"            // wall-clock limit reached
	CodeOutputTooLarge    = "output_too_large"   // stdout past the output limit
	CodeModuleUnavailable = "module_unavailable" // module could not be fetched or compiled
	CodeBadRequest        = "bad_request"        // the message itself was malformed
	CodeConcurrencyLimit  = "concurrency_limit"  // the function's concurrency cap is reached on this runner
	CodeDraining          = "draining"           // the runner is shutting down and took no new work
	CodeInternal          = "internal"
)

// ErrNotTaking is what a runner handed a call in its own process answers
// when it is not taking work (draining or stopped): the call goes to
// another runner.
var ErrNotTaking = errors.New("runner: not taking work")

// Request asks a runner to run one invocation.
type Request struct {
	InvocationID string              `json:"id"`
	Namespace    string              `json:"namespace"`
	Function     string              `json:"function"`
	Version      int                 `json:"version"`
	Digest       string              `json:"digest"`                // sha256 hex of the module
	ABI          string              `json:"abi"`                   // abi.Command or abi.Reactor
	Concurrency  int                 `json:"concurrency,omitempty"` // max at once on one runner; 0 = no limit
	TimeoutMs    int                 `json:"timeout_ms"`
	MemoryMB     int                 `json:"memory_mb"`
	Env          map[string]string   `json:"env,omitempty"`
	Method       string              `json:"method,omitempty"`
	Path         string              `json:"path,omitempty"`
	Query        string              `json:"query,omitempty"`
	Headers      map[string][]string `json:"headers,omitempty"`
	// BodyRef, when set, is the object-store key of a body too large for a
	// NATS message (claim check); the message data is then empty.
	BodyRef string `json:"body_ref,omitempty"`
	// Gateway is the id of the gateway that sent the call: runners report
	// their calls in flight per gateway (Heartbeat.InFlightBy).
	Gateway string `json:"gateway,omitempty"`
	// Traceparent is the W3C trace context of the call: the gateway's span
	// is the parent of the runner's. RequestID is the Hearth-Request-Id of
	// the HTTP request that made the invocation. Both travel in NATS
	// headers (TraceHeader, RequestIDHeader), outside the binary metadata,
	// and go on every log line about the invocation.
	Traceparent string `json:"traceparent,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
}

// LogArgs are the pairs every log line about the invocation has, then
// more: "invocation" (its id), "request_id" and "trace_id" (each when it
// has one).
func (r *Request) LogArgs(more ...any) []any {
	args := make([]any, 0, 6+len(more))
	args = append(args, "invocation", r.InvocationID)
	if r.RequestID != "" {
		args = append(args, "request_id", r.RequestID)
	}
	if id := tracing.TraceID(r.Traceparent); id != "" {
		args = append(args, "trace_id", id)
	}
	return append(args, more...)
}

// Response is a runner's answer. On success Error is nil and the message
// data is the function's output.
type Response struct {
	Status     int                 `json:"status,omitempty"` // HTTP status the function asked for (CGI), 0 = 200
	Headers    map[string][]string `json:"headers,omitempty"`
	Error      *Error              `json:"error,omitempty"`
	Stderr     string              `json:"stderr,omitempty"` // tail of the function's stderr
	Cold       bool                `json:"cold"`
	InitMicros int64               `json:"init_us"` // fetching and compiling the module, 0 when warm
	RunMicros  int64               `json:"run_us"`
	Runner     string              `json:"runner"`
	// OutputRef, when set, is the object-store key of an output too large
	// for a NATS message; the reply data is then empty.
	OutputRef string `json:"output_ref,omitempty"`
}

// InlineLimit is the largest payload sent inside a NATS message on a
// connection whose server accepts maxPayload bytes; the rest of the room is
// for headers. Larger payloads travel as object-store references.
func InlineLimit(maxPayload int64) int { return int(maxPayload) - 64<<10 }

// PayloadKey is where a claim-checked request body is stored.
func PayloadKey(invocationID string) string { return "payloads/" + invocationID }

// ResultKey is where an invocation's output is stored.
func ResultKey(invocationID string) string { return "results/" + invocationID }

// LogKey is where an invocation's log is stored.
func LogKey(invocationID string) string { return "logs/" + invocationID }

// Error says why an invocation failed.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// EncodeRequest builds the NATS message for req with body as its payload,
// and its trace context and request id as headers.
func EncodeRequest(subject string, req *Request, body []byte) (*nats.Msg, error) {
	msg := &nats.Msg{Subject: subject, Data: frame(func(b []byte) []byte { return appendRequest(b, req) }, body)}
	if req.Traceparent != "" || req.RequestID != "" {
		msg.Header = make(nats.Header, 2)
		if req.Traceparent != "" {
			msg.Header[TraceHeader] = []string{req.Traceparent}
		}
		if req.RequestID != "" {
			msg.Header[RequestIDHeader] = []string{req.RequestID}
		}
	}
	return msg, nil
}

// DecodeRequest reads a Request and its body from msg, with the trace
// context and request id of its headers.
func DecodeRequest(msg *nats.Msg) (*Request, []byte, error) {
	req, body, err := decodeMessage(msg, "request", (*decoder).request)
	if err == nil && msg.Header != nil {
		if v := msg.Header[TraceHeader]; len(v) > 0 {
			req.Traceparent = v[0]
		} else if v := msg.Header[LegacyTraceHeader]; len(v) > 0 {
			req.Traceparent = v[0]
		}
		if v := msg.Header[RequestIDHeader]; len(v) > 0 {
			req.RequestID = v[0]
		}
	}
	return req, body, err
}

// EncodeResponse builds the reply message for resp with output as its
// payload.
func EncodeResponse(subject string, resp *Response, output []byte) (*nats.Msg, error) {
	return &nats.Msg{Subject: subject, Data: frame(func(b []byte) []byte { return appendResponse(b, resp) }, output)}, nil
}

// DecodeResponse reads a Response and the output from msg.
func DecodeResponse(msg *nats.Msg) (*Response, []byte, error) {
	return decodeMessage(msg, "response", (*decoder).response)
}

// decodeMessage reads a message's metadata into a new T with fields, or
// from the JSON header of messages before format 1, and returns it with
// the payload.
func decodeMessage[T any](msg *nats.Msg, what string, fields func(*decoder, *T)) (*T, []byte, error) {
	v := new(T)
	if meta := msg.Header.Get(MetaHeader); meta != "" {
		if err := decodeJSON(meta, v); err != nil {
			return nil, nil, err
		}
		return v, msg.Data, nil
	}
	d, payload, err := unframe(msg.Data)
	if err != nil {
		return nil, nil, err
	}
	fields(d, v)
	if err := d.end(); err != nil {
		return nil, nil, fmt.Errorf("wire: %s: %w", what, err)
	}
	return v, payload, nil
}

func decodeJSON(meta string, into any) error {
	if err := json.Unmarshal([]byte(meta), into); err != nil {
		return fmt.Errorf("wire: decode %s: %w", MetaHeader, err)
	}
	return nil
}
