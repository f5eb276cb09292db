package wire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the request as JSON, the same document json.Marshal
// makes of it (TestRequestJSON keeps them equal), without reflection:
// every async accept encodes one.
func (r *Request) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = AppendJSONString(b, r.InvocationID)
	b = append(b, `,"namespace":`...)
	b = AppendJSONString(b, r.Namespace)
	b = append(b, `,"function":`...)
	b = AppendJSONString(b, r.Function)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"digest":`...)
	b = AppendJSONString(b, r.Digest)
	b = append(b, `,"abi":`...)
	b = AppendJSONString(b, r.ABI)
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
			b = AppendJSONString(b, k)
			b = append(b, ':')
			b = AppendJSONString(b, v)
		}
		b = append(b, '}')
	}
	for _, f := range [...]struct{ name, value string }{{`,"method":`, r.Method}, {`,"path":`, r.Path}, {`,"query":`, r.Query}} {
		if f.value != "" {
			b = append(b, f.name...)
			b = AppendJSONString(b, f.value)
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
			b = AppendJSONString(b, k)
			if vs == nil {
				b = append(b, ":null"...)
				continue
			}
			b = append(b, ":["...)
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = AppendJSONString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if r.BodyRef != "" {
		b = append(b, `,"body_ref":`...)
		b = AppendJSONString(b, r.BodyRef)
	}
	if r.Gateway != "" {
		b = append(b, `,"gateway":`...)
		b = AppendJSONString(b, r.Gateway)
	}
	return append(b, '}')
}

// AppendJSONTime appends t as a JSON string in RFC 3339 with nanoseconds,
// as encoding/json writes a time.Time.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendJSONFloat writes a finite float as json.Marshal does for values
// of a duration in ms (no exponent below 1e21).
func AppendJSONFloat(b []byte, f float64) []byte {
	if f != f || f > 1e20 || f < -1e20 { // NaN or huge: not a duration; keep the JSON valid
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// AppendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, as
// encoding/json does.
func AppendJSONString(b []byte, s string) []byte {
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
