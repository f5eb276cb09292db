package apierr

import "fmt"

// Code is an error's machine-readable code, the "code" of the JSON shape.
type Code string

// The codes the gateway answers with. Codes a runner reports (the wire
// package's Code* constants) pass through as they are: Code(wire.CodeTimeout).
const (
	// Requests the gateway refuses.
	BadRequest           Code = "bad_request"
	InvalidParameter     Code = "invalid_parameter"
	InvalidID            Code = "invalid_id"
	InvalidCallbackURL   Code = "invalid_callback_url"
	InvalidIdempotency   Code = "invalid_idempotency_key"
	InvalidTrigger       Code = "invalid_trigger"
	PayloadTooLarge      Code = "payload_too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	MethodNotAllowed     Code = "method_not_allowed"
	TooManyRequests      Code = "too_many_requests"
	RateLimited          Code = "rate_limited" // a key's or a function's rate limit

	// Credentials (gateway/auth).
	Unauthorized Code = "unauthorized" // no valid API key
	Forbidden    Code = "forbidden"    // the key's scopes or namespace do not cover the request

	// Things that are not there.
	NotFound           Code = "not_found" // no such route
	FunctionNotFound   Code = "function_not_found"
	VersionNotFound    Code = "version_not_found"
	AliasNotFound      Code = "alias_not_found"
	TriggerNotFound    Code = "trigger_not_found"
	InvocationNotFound Code = "invocation_not_found"
	NotInDLQ           Code = "not_in_dlq"
	NoResult           Code = "no_result"
	ResultExpired      Code = "result_expired"
	NotFinished        Code = "not_finished"

	// Placement and transport of a call.
	Overloaded        Code = "overloaded"
	NoRunners         Code = "no_runners"
	RunnerLost        Code = "runner_lost"
	RunnerUnreachable Code = "runner_unreachable"
	BadRunnerResponse Code = "bad_runner_response"
	Timeout           Code = "timeout"
	Canceled          Code = "canceled"

	// The platform's own storage and queues.
	StorageUnavailable Code = "storage_unavailable"
	QueueUnavailable   Code = "queue_unavailable"
	Unavailable        Code = "unavailable"
	Internal           Code = "internal"
)

// Error is an API error.
type Error struct {
	Status  int
	Code    Code
	Message string
	Stderr  string // tail of a failed function's stderr, if any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New makes an error with a formatted message.
func New(status int, code Code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Detail is the "error" object of the JSON shape, also kept in an
// invocation's record.
type Detail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Stderr  string `json:"stderr,omitempty"`
}

// Body is the JSON document of an error answer.
type Body struct {
	Error Detail `json:"error"`
}

// Detail returns the error as the JSON shape's object.
func (e *Error) Detail() *Detail { return &Detail{Code: e.Code, Message: e.Message, Stderr: e.Stderr} }

// ForStatus is the code of an error that has only an HTTP status (echo's
// own: an unknown route, a wrong method).
func ForStatus(status int) Code {
	switch status {
	case 401:
		return Unauthorized
	case 403:
		return Forbidden
	case 404:
		return NotFound
	case 405:
		return MethodNotAllowed
	case 413:
		return PayloadTooLarge
	case 415:
		return UnsupportedMediaType
	case 429:
		return TooManyRequests
	case 503:
		return Unavailable
	}
	if status >= 500 {
		return Internal
	}
	return BadRequest
}
