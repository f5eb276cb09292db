package gateway

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hearthfn/hearth/internal/wire"
)

// appendJSON appends the record as JSON, the same document json.Marshal
// makes of it (TestRecordJSON keeps them equal), without reflection: the
// writer of sync records encodes one per call, and reflection cost about
// 4 % of a warm call's CPU.
func (r *Record) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"namespace":`...)
	b = appendJSONString(b, r.Namespace)
	b = append(b, `,"function":`...)
	b = appendJSONString(b, r.Function)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"mode":`...)
	b = appendJSONString(b, r.Mode)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, r.Status)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	b = append(b, `,"queued_at":`...)
	b = appendJSONTime(b, r.QueuedAt)
	if r.StartedAt != nil {
		b = append(b, `,"started_at":`...)
		b = appendJSONTime(b, *r.StartedAt)
	}
	if r.FinishedAt != nil {
		b = append(b, `,"finished_at":`...)
		b = appendJSONTime(b, *r.FinishedAt)
	}
	if r.NextTry != nil {
		b = append(b, `,"next_attempt_at":`...)
		b = appendJSONTime(b, *r.NextTry)
	}
	b = append(b, `,"timings":{"queued_ms":`...)
	b = appendJSONFloat(b, r.Timings.QueuedMs)
	b = append(b, `,"wait_ms":`...)
	b = appendJSONFloat(b, r.Timings.WaitMs)
	b = append(b, `,"init_ms":`...)
	b = appendJSONFloat(b, r.Timings.InitMs)
	b = append(b, `,"run_ms":`...)
	b = appendJSONFloat(b, r.Timings.RunMs)
	b = append(b, `},"cold":`...)
	b = strconv.AppendBool(b, r.Cold)
	if r.Runner != "" {
		b = append(b, `,"runner":`...)
		b = appendJSONString(b, r.Runner)
	}
	if r.Placement != "" {
		b = append(b, `,"placement":`...)
		b = appendJSONString(b, r.Placement)
	}
	if r.StatusCode != 0 {
		b = append(b, `,"status_code":`...)
		b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	}
	if e := r.Error; e != nil {
		b = append(b, `,"error":{"code":`...)
		b = appendJSONString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, e.Message)
		if e.Stderr != "" {
			b = append(b, `,"stderr":`...)
			b = appendJSONString(b, e.Stderr)
		}
		b = append(b, '}')
	}
	b = appendObjectRef(b, `,"result":`, r.Result)
	b = appendObjectRef(b, `,"logs":`, r.Logs)
	if c := r.Callback; c != nil {
		b = append(b, `,"callback":{"url":`...)
		b = appendJSONString(b, c.URL)
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
			b = appendJSONString(b, c.Error)
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
	b = appendJSONString(b, ref.Key)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(ref.Size), 10)
	return append(b, '}')
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONFloat writes a finite float as json.Marshal does for values
// of a duration in ms (no exponent below 1e21).
func appendJSONFloat(b []byte, f float64) []byte {
	if f != f || f > 1e20 || f < -1e20 { // NaN or huge: not a duration; keep the JSON valid
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, as
// encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c >= 0x20:
				b = append(b, c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendJSON appends the async metadata as JSON, the same document
// json.Marshal makes of it (TestAsyncMetaJSON keeps them equal): every
// async accept encodes one.
func (m *asyncMeta) appendJSON(b []byte) []byte {
	b = append(b, `{"req":`...)
	if m.Req == nil {
		b = append(b, "null"...)
	} else {
		b = appendRequestJSON(b, m.Req)
	}
	b = append(b, `,"mode":`...)
	b = appendJSONString(b, m.Mode)
	if m.CallbackURL != "" {
		b = append(b, `,"callback_url":`...)
		b = appendJSONString(b, m.CallbackURL)
	}
	b = append(b, `,"queued_at":`...)
	b = appendJSONTime(b, m.QueuedAt)
	b = append(b, `,"max_attempts":`...)
	b = strconv.AppendInt(b, int64(m.MaxAttempts), 10)
	return append(b, '}')
}

// appendRequestJSON appends a wire.Request as json.Marshal does.
func appendRequestJSON(b []byte, r *wire.Request) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.InvocationID)
	b = append(b, `,"namespace":`...)
	b = appendJSONString(b, r.Namespace)
	b = append(b, `,"function":`...)
	b = appendJSONString(b, r.Function)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"digest":`...)
	b = appendJSONString(b, r.Digest)
	b = append(b, `,"abi":`...)
	b = appendJSONString(b, r.ABI)
	if r.Concurrency != 0 {
		b = append(b, `,"concurrency":`...)
		b = strconv.AppendInt(b, int64(r.Concurrency), 10)
	}
	b = append(b, `,"timeout_ms":`...)
	b = strconv.AppendInt(b, int64(r.TimeoutMs), 10)
	b = append(b, `,"memory_mb":`...)
	b = strconv.AppendInt(b, int64(r.MemoryMB), 10)
	if len(r.Env) > 0 {
		b = append(b, `,"env":{`...)
		first := true
		for k, v := range r.Env {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, v)
		}
		b = append(b, '}')
	}
	for _, f := range [...]struct{ name, value string }{{`,"method":`, r.Method}, {`,"path":`, r.Path}, {`,"query":`, r.Query}} {
		if f.value != "" {
			b = append(b, f.name...)
			b = appendJSONString(b, f.value)
		}
	}
	if len(r.Headers) > 0 {
		b = append(b, `,"headers":{`...)
		first := true
		for k, vs := range r.Headers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			if vs == nil {
				b = append(b, ":null"...)
				continue
			}
			b = append(b, ":["...)
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if r.BodyRef != "" {
		b = append(b, `,"body_ref":`...)
		b = appendJSONString(b, r.BodyRef)
	}
	if r.Gateway != "" {
		b = append(b, `,"gateway":`...)
		b = appendJSONString(b, r.Gateway)
	}
	return append(b, '}')
}
