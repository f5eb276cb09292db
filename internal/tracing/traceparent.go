package tracing

import (
	"encoding/hex"
	"math/rand/v2"
)

// Header is the name of the W3C trace context header, as HTTP and NATS
// headers carry it.
const Header = "traceparent"

// SpanContext is what a traceparent header says: the trace, the span that
// sent the call (the parent of the next), and the trace flags.
type SpanContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	Flags   byte
}

// FlagSampled is the trace flag that asks for the trace to be recorded.
const FlagSampled = 0x01

// headerLen is the length of a version 00 traceparent:
// 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>.
const headerLen = 55

// Parse reads a traceparent header. It reports false for anything the W3C
// Trace Context recommendation says to ignore: a wrong length or
// separator, upper-case or non-hex digits, version ff, an all-zero trace
// or span id. A version above 00 is read for its first four fields, as
// the recommendation asks, when what follows them starts with '-'.
func Parse(s string) (SpanContext, bool) {
	var sc SpanContext
	if len(s) < headerLen || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return sc, false
	}
	version, ok := hexByte(s[0], s[1])
	if !ok || version == 0xff || (version == 0 && len(s) != headerLen) || (len(s) > headerLen && s[headerLen] != '-') {
		return sc, false
	}
	flags, ok := hexByte(s[53], s[54])
	if !ok || !decodeHex(sc.TraceID[:], s[3:35]) || !decodeHex(sc.SpanID[:], s[36:52]) {
		return SpanContext{}, false
	}
	sc.Flags = flags
	if !sc.IsValid() {
		return SpanContext{}, false
	}
	return sc, true
}

// IsValid reports whether both ids are set (neither is all zeros).
func (sc SpanContext) IsValid() bool {
	return sc.TraceID != [16]byte{} && sc.SpanID != [8]byte{}
}

// Sampled reports whether the sampled flag is set.
func (sc SpanContext) Sampled() bool { return sc.Flags&FlagSampled != 0 }

// String is the traceparent header of sc, version 00.
func (sc SpanContext) String() string {
	var b [headerLen]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], sc.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], sc.SpanID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{sc.Flags})
	return string(b[:])
}

// TraceIDString is the trace id in hex, as logs and records show it.
func (sc SpanContext) TraceIDString() string { return hex.EncodeToString(sc.TraceID[:]) }

// SpanIDString is the span id in hex.
func (sc SpanContext) SpanIDString() string { return hex.EncodeToString(sc.SpanID[:]) }

// TraceID is the trace id of a traceparent that Parse accepted, or that
// String wrote, without parsing it again: "" for anything shorter.
func TraceID(traceparent string) string {
	if len(traceparent) < headerLen {
		return ""
	}
	return traceparent[3:35]
}

// NewTrace is the context of a new trace's first span, sampled.
func NewTrace() SpanContext {
	var sc SpanContext
	for sc.TraceID == [16]byte{} {
		putUint64(sc.TraceID[:8], rand.Uint64())
		putUint64(sc.TraceID[8:], rand.Uint64())
	}
	sc.SpanID = newSpanID()
	sc.Flags = FlagSampled
	return sc
}

// Child is the context of a new span in sc's trace, with sc's flags.
func (sc SpanContext) Child() SpanContext {
	sc.SpanID = newSpanID()
	return sc
}

// newSpanID is a random span id, never all zeros. The ids need to be
// unique, not secret: math/rand/v2's generator (ChaCha8, per thread) is
// what the hot path can afford.
func newSpanID() (id [8]byte) {
	for id == [8]byte{} {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// decodeHex decodes lower-case hex src into dst (len(src) == 2*len(dst)).
func decodeHex(dst []byte, src string) bool {
	for i := range dst {
		v, ok := hexByte(src[2*i], src[2*i+1])
		if !ok {
			return false
		}
		dst[i] = v
	}
	return true
}

func hexByte(hi, lo byte) (byte, bool) {
	h, l := unhex[hi], unhex[lo]
	return h<<4 | l&0xf, h|l < 0x10
}

// unhex is each byte's value as a lower-case hex digit, 0xff for the
// others: the recommendation allows no upper case.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()
