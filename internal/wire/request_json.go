package wire

import "strconv"

// AppendJSON appends the request as JSON: the document encoding/json makes
// of it, up to the order of map keys and the escaping of characters that
// need none, so that json.Unmarshal reads back the same Request
// (TestRequestJSON keeps them equal). (Map keys that differ only in
// invalid UTF-8 become one key in both documents, with either value.) It
// uses no reflection: the gateway encodes a request into the metadata of
// every async invocation.
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
	b = appendJSONField(b, `,"method":`, r.Method)
	b = appendJSONField(b, `,"path":`, r.Path)
	b = appendJSONField(b, `,"query":`, r.Query)
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
	b = appendJSONField(b, `,"body_ref":`, r.BodyRef)
	b = appendJSONField(b, `,"gateway":`, r.Gateway)
	b = appendJSONField(b, `,"traceparent":`, r.Traceparent)
	b = appendJSONField(b, `,"request_id":`, r.RequestID)
	return append(b, '}')
}

// appendJSONField appends an omitempty string field: its name (with the
// comma before it) and value, or nothing when the value is empty.
func appendJSONField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, name...)
	return AppendJSONString(b, value)
}
