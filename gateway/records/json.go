package records

import (
	"strconv"

	"github.com/hearthfn/hearth/internal/wire"
)

// AppendJSON appends the record as JSON, the same document json.Marshal
// makes of it (TestRecordJSON keeps them equal), without reflection: the
// writer of sync records encodes one per call, and reflection cost about
// 4 % of a warm call's CPU.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = wire.AppendJSONString(b, r.ID)
	b = append(b, `,"namespace":`...)
	b = wire.AppendJSONString(b, r.Namespace)
	b = append(b, `,"function":`...)
	b = wire.AppendJSONString(b, r.Function)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"mode":`...)
	b = wire.AppendJSONString(b, r.Mode)
	b = append(b, `,"status":`...)
	b = wire.AppendJSONString(b, r.Status)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	b = append(b, `,"queued_at":`...)
	b = wire.AppendJSONTime(b, r.QueuedAt)
	if r.StartedAt != nil {
		b = append(b, `,"started_at":`...)
		b = wire.AppendJSONTime(b, *r.StartedAt)
	}
	if r.FinishedAt != nil {
		b = append(b, `,"finished_at":`...)
		b = wire.AppendJSONTime(b, *r.FinishedAt)
	}
	if r.NextTry != nil {
		b = append(b, `,"next_attempt_at":`...)
		b = wire.AppendJSONTime(b, *r.NextTry)
	}
	b = append(b, `,"timings":{"queued_ms":`...)
	b = wire.AppendJSONFloat(b, r.Timings.QueuedMs)
	b = append(b, `,"wait_ms":`...)
	b = wire.AppendJSONFloat(b, r.Timings.WaitMs)
	b = append(b, `,"init_ms":`...)
	b = wire.AppendJSONFloat(b, r.Timings.InitMs)
	b = append(b, `,"run_ms":`...)
	b = wire.AppendJSONFloat(b, r.Timings.RunMs)
	b = append(b, `},"cold":`...)
	b = strconv.AppendBool(b, r.Cold)
	if r.Runner != "" {
		b = append(b, `,"runner":`...)
		b = wire.AppendJSONString(b, r.Runner)
	}
	if r.Placement != "" {
		b = append(b, `,"placement":`...)
		b = wire.AppendJSONString(b, r.Placement)
	}
	if r.TraceID != "" {
		b = append(b, `,"trace_id":`...)
		b = wire.AppendJSONString(b, r.TraceID)
	}
	if r.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = wire.AppendJSONString(b, r.RequestID)
	}
	if r.StatusCode != 0 {
		b = append(b, `,"status_code":`...)
		b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	}
	if e := r.Error; e != nil {
		b = append(b, `,"error":{"code":`...)
		b = wire.AppendJSONString(b, string(e.Code))
		b = append(b, `,"message":`...)
		b = wire.AppendJSONString(b, e.Message)
		if e.Stderr != "" {
			b = append(b, `,"stderr":`...)
			b = wire.AppendJSONString(b, e.Stderr)
		}
		b = append(b, '}')
	}
	b = appendObjectRef(b, `,"result":`, r.Result)
	b = appendObjectRef(b, `,"logs":`, r.Logs)
	if c := r.Callback; c != nil {
		b = append(b, `,"callback":{"url":`...)
		b = wire.AppendJSONString(b, c.URL)
		b = append(b, `,"delivered":`...)
		b = strconv.AppendBool(b, c.Delivered)
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(c.Attempts), 10)
		if c.StatusCode != 0 {
			b = append(b, `,"status_code":`...)
			b = strconv.AppendInt(b, int64(c.StatusCode), 10)
		}
		if c.Error != "" {
			b = append(b, `,"error":`...)
			b = wire.AppendJSONString(b, c.Error)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendObjectRef(b []byte, field string, ref *ObjectRef) []byte {
	if ref == nil {
		return b
	}
	b = append(b, field...)
	b = append(b, `{"key":`...)
	b = wire.AppendJSONString(b, ref.Key)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(ref.Size), 10)
	return append(b, '}')
}
