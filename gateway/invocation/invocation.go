package invocation

import (
	"net/http"
	"time"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// Invocation is one call of a function version.
type Invocation struct {
	Namespace, Function string
	Req                 *wire.Request // what the runner is sent
	Body                []byte        // the input
	Start               time.Time     // when the gateway took it
	// Records is the version's records policy (registry.RecordsAll, …),
	// which says whether a sync call leaves a record.
	Records string
}

// Outcome is how one execution of an invocation ended.
type Outcome struct {
	Resp   *wire.Response // the runner's answer; nil when none came
	Output []byte         // the output, fetched from the store if claim-checked
	Placed string         // the scheduler's decision, as the Hearth-Placement header shows it
	Err    *apierr.Error  // nil on success
	Status int            // HTTP status of the outcome
	Total  time.Duration  // from Start to the answer
	// Waited is the time spent waiting for a runner with capacity (the
	// scheduler's queue), in all of the execution's placements.
	Waited time.Duration
}

// Cold reports whether the call started a new instance.
func (o *Outcome) Cold() bool { return o.Resp != nil && o.Resp.Cold }

// ContentType is the output's content type: the function's, or bytes.
func (o *Outcome) ContentType() string {
	if o.Resp != nil {
		if ct := http.Header(o.Resp.Headers).Get("Content-Type"); ct != "" {
			return ct
		}
	}
	return "application/octet-stream"
}

// WithVersion sets what a runner needs to know of the function version.
func WithVersion(req *wire.Request, v registry.Version) *wire.Request {
	req.Version = v.Version
	req.Digest = v.DigestHex()
	req.ABI = v.ABI
	req.Concurrency = v.Spec.Concurrency
	req.TimeoutMs = v.Spec.TimeoutMs
	req.MemoryMB = v.Spec.MemoryMB
	req.Env = v.Spec.Env
	return req
}

// Ms is d in milliseconds, as records and timings show durations.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Headers of the API contract (API.md) about an invocation.
const (
	HeaderID        = "Hearth-Invocation-Id"
	HeaderColdStart = "Hearth-Cold-Start"
)
