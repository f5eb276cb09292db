package wire

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
)

// decodeAny reads a JSON document into maps, slices and values, so that
// two documents compare equal when they differ only in key order and
// escaping.
func decodeAny(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return v
}

func sameAsEncodingJSON(t *testing.T, r *Request) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := r.AppendJSON(nil)
	if a, b := decodeAny(t, got), decodeAny(t, want); !reflect.DeepEqual(a, b) {
		t.Fatalf("AppendJSON makes another document:\n got %s\nwant %s", got, want)
	}
	var back Request
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	var wantBack Request
	_ = json.Unmarshal(want, &wantBack)
	if !reflect.DeepEqual(back, wantBack) {
		t.Fatalf("AppendJSON reads back as %+v, encoding/json's as %+v", back, wantBack)
	}
}

func TestRequestJSON(t *testing.T) {
	full := &Request{} // every field set, so that one AppendJSON misses is noticed
	testutil.Fill(t, reflect.ValueOf(full).Elem(), "x\"\\\n\r\t\x01\x7fé\xff<>&\u2028", 3)
	sameAsEncodingJSON(t, full)
	sameAsEncodingJSON(t, fullRequest())
	sameAsEncodingJSON(t, &Request{}) // every omitempty field empty
	sameAsEncodingJSON(t, &Request{Concurrency: -1, Version: math.MinInt, TimeoutMs: math.MaxInt,
		Env: map[string]string{}, Headers: map[string][]string{"A": nil, "B": {}, "C": {""}}})
	// The bytes appended go after what b already holds.
	if got := string(fullRequest().AppendJSON([]byte("x"))); got[:2] != `x{` {
		t.Fatalf("AppendJSON did not append: %.10s", got)
	}
}

func FuzzRequestJSON(f *testing.F) {
	f.Add("inv", "hello", "X-A", "value\n\"quoted\"", "\x00\xff<", 7)
	f.Add("", "", "", "", "", 0)
	f.Fuzz(func(t *testing.T, id, name, key, value, other string, n int) {
		if collide(key, other) || collide(key, name, id) {
			return // one key twice in the document: which value wins depends on the order
		}
		r := &Request{InvocationID: id, Namespace: other, Function: name, Version: n, Digest: value,
			ABI: other, Concurrency: n, TimeoutMs: -n, MemoryMB: n / 3,
			Env:    map[string]string{key: value, other: id},
			Method: name, Path: value, Query: other,
			Headers: map[string][]string{key: {value, other}, name: nil, id: {}},
			BodyRef: key, Gateway: value, Traceparent: other, RequestID: id}
		sameAsEncodingJSON(t, r)
	})
}

// collide reports whether two different map keys are written as the same
// JSON string (invalid UTF-8 becomes U+FFFD). Real keys cannot: header
// names are HTTP tokens and env names are validated at deploy.
func collide(keys ...string) bool {
	seen := make(map[string]string, len(keys))
	for _, k := range keys {
		enc, _ := json.Marshal(k)
		v := string(enc)
		if other, ok := seen[v]; ok && other != k {
			return true
		}
		seen[v] = k
	}
	return false
}

func TestAppendJSONTime(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(2026, 11, 23, 13, 0, 7, 7007, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -90*60)),
	} {
		want, _ := json.Marshal(tm)
		if got := AppendJSONTime(nil, tm); string(got) != string(want) {
			t.Errorf("AppendJSONTime(%v) = %s, encoding/json %s", tm, got, want)
		}
	}
}

func TestAppendJSONFloat(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1.0 / 7, 1e-7, 123456789.125, 1e20, -1e20, math.SmallestNonzeroFloat64} {
		checkFloat(t, f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e21, -1e300} {
		if got := string(AppendJSONFloat(nil, f)); got != "0" {
			t.Errorf("AppendJSONFloat(%v) = %s, want 0", f, got)
		}
	}
}

func checkFloat(t *testing.T, f float64) {
	t.Helper()
	want, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	got := AppendJSONFloat(nil, f)
	var a, b float64
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%v in %s", err, got)
	}
	_ = json.Unmarshal(want, &b)
	if a != b || math.Signbit(a) != math.Signbit(b) {
		t.Fatalf("AppendJSONFloat(%v) = %s reads back as %v; encoding/json's %s as %v", f, got, a, want, b)
	}
}

func FuzzAppendJSONFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(-1e-9)
	f.Fuzz(func(t *testing.T, v float64) {
		if v != v || v > 1e20 || v < -1e20 {
			return // written as 0: see TestAppendJSONFloat
		}
		checkFloat(t, v)
	})
}
