package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The binary form of an invocation message's data (format 1):
//
//	0x01 | uvarint len(meta) | meta | payload
//
// meta is the Request or Response as a fixed sequence of fields: strings
// as uvarint length and bytes, integers as varints, booleans as one byte,
// maps as a uvarint count and their entries. The payload follows it
// untouched, and decoding returns it as a slice of the message data, so
// payload bytes are neither re-encoded nor copied. It replaces JSON in a
// header, which cost about a tenth of the CPU of a warm call
// (docs/performance.md, docs/decisions/0006-binary-wire-and-local-calls.md).
const formatV1 = 1

// maxMeta bounds the metadata a message may claim to carry.
const maxMeta = 16 << 20

var errTruncated = errors.New("wire: truncated message")

func appendRequest(b []byte, r *Request) []byte {
	b = appendString(b, r.InvocationID)
	b = appendString(b, r.Namespace)
	b = appendString(b, r.Function)
	b = binary.AppendVarint(b, int64(r.Version))
	b = appendString(b, r.Digest)
	b = appendString(b, r.ABI)
	b = binary.AppendVarint(b, int64(r.Concurrency))
	b = binary.AppendVarint(b, int64(r.TimeoutMs))
	b = binary.AppendVarint(b, int64(r.MemoryMB))
	b = binary.AppendUvarint(b, uint64(len(r.Env)))
	for k, v := range r.Env {
		b = appendString(appendString(b, k), v)
	}
	b = appendString(b, r.Method)
	b = appendString(b, r.Path)
	b = appendString(b, r.Query)
	b = appendHeaders(b, r.Headers)
	b = appendString(b, r.BodyRef)
	return appendString(b, r.Gateway)
}

func (d *decoder) request(r *Request) {
	r.InvocationID = d.string()
	r.Namespace = d.string()
	r.Function = d.string()
	r.Version = d.int()
	r.Digest = d.string()
	r.ABI = d.string()
	r.Concurrency = d.int()
	r.TimeoutMs = d.int()
	r.MemoryMB = d.int()
	if n := d.count(2); n > 0 {
		r.Env = make(map[string]string, n)
		for range n {
			k := d.string()
			r.Env[k] = d.string()
		}
	}
	r.Method = d.string()
	r.Path = d.string()
	r.Query = d.string()
	r.Headers = d.headers()
	r.BodyRef = d.string()
	r.Gateway = d.string()
}

func appendResponse(b []byte, r *Response) []byte {
	b = binary.AppendVarint(b, int64(r.Status))
	b = appendHeaders(b, r.Headers)
	if r.Error != nil {
		b = append(b, 1)
		b = appendString(appendString(b, r.Error.Code), r.Error.Message)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, r.Stderr)
	b = appendBool(b, r.Cold)
	b = binary.AppendVarint(b, r.InitMicros)
	b = binary.AppendVarint(b, r.RunMicros)
	b = appendString(b, r.Runner)
	return appendString(b, r.OutputRef)
}

func (d *decoder) response(r *Response) {
	r.Status = d.int()
	r.Headers = d.headers()
	if d.bool() {
		r.Error = &Error{Code: d.string(), Message: d.string()}
	}
	r.Stderr = d.string()
	r.Cold = d.bool()
	r.InitMicros = d.int64()
	r.RunMicros = d.int64()
	r.Runner = d.string()
	r.OutputRef = d.string()
}

// frame lays out a message's data: the format, the metadata, the payload.
func frame(meta func([]byte) []byte, payload []byte) []byte {
	m := meta(make([]byte, 0, 256))
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(m)+len(payload))
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, uint64(len(m)))
	b = append(b, m...)
	return append(b, payload...)
}

// unframe splits a message's data into its decoder over the metadata and
// the payload.
func unframe(data []byte) (*decoder, []byte, error) {
	if len(data) == 0 {
		return nil, nil, errors.New("wire: empty message")
	}
	if data[0] != formatV1 {
		return nil, nil, fmt.Errorf("wire: unknown message format %d (gateway and runner of different Hearth versions?)", data[0])
	}
	n, k := binary.Uvarint(data[1:])
	if k <= 0 || n > maxMeta || n > uint64(len(data)-1-k) {
		return nil, nil, errTruncated
	}
	start := 1 + k
	end := start + int(n)
	return &decoder{b: data[start:end:end]}, data[end:], nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendHeaders(b []byte, h map[string][]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(h)))
	for k, vs := range h {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return b
}

// decoder reads metadata fields in order; the first error sticks and
// every later read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int64() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int {
	v := d.int64()
	if int64(int(v)) != v {
		d.fail(errors.New("wire: integer out of range"))
		return 0
	}
	return int(v)
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail(errTruncated)
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.fail(errors.New("wire: bad boolean"))
		return false
	}
	return v == 1
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads the length of a map or list whose entries take at least
// minBytes each, so a corrupt count cannot make a huge allocation.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/minBytes) {
		d.fail(errTruncated)
		return 0
	}
	return int(n)
}

func (d *decoder) headers() map[string][]string {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	h := make(map[string][]string, n)
	for range n {
		k := d.string()
		m := d.count(1)
		vs := make([]string, m)
		for i := range vs {
			vs[i] = d.string()
		}
		h[k] = vs
	}
	return h
}

// end reports the first error, or metadata left over.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("wire: metadata has trailing bytes")
	}
	return d.err
}
