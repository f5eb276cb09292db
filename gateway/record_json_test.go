package gateway

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// fill sets every field reachable from v to a value derived from s and n,
// so that a field added to Record without appendJSON is noticed.
func fill(t *testing.T, v reflect.Value, s string, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s + v.Type().Name())
	case reflect.Int:
		v.SetInt(int64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) / 7)
	case reflect.Bool:
		v.SetBool(n%2 == 1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), s, n+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 13, 0, n, n*1001, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), s, n+i)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, s+strconv.Itoa(i), n+i)
			fill(t, e, s, n+i)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		sl := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, sl.Index(i), s+strconv.Itoa(i), n+i)
		}
		v.Set(sl)
	default:
		t.Fatalf("fill: no rule for %s; teach it, and the appendJSON that encodes the new field", v.Type())
	}
}

func decodeRecord(t *testing.T, data []byte) Record {
	t.Helper()
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return r
}

func sameAsEncodingJSON(t *testing.T, r *Record) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := r.appendJSON(nil)
	if a, b := decodeRecord(t, got), decodeRecord(t, want); !reflect.DeepEqual(a, b) {
		t.Fatalf("appendJSON decodes differently:\n got %s\nwant %s", got, want)
	}
}

func TestRecordJSON(t *testing.T) {
	full := &Record{}
	fill(t, reflect.ValueOf(full).Elem(), "x\"\\\n\t\x01é\xff<>", 3)
	sameAsEncodingJSON(t, full)
	sameAsEncodingJSON(t, &Record{}) // every omitempty field empty
	sameAsEncodingJSON(t, &Record{ID: "a", Error: &errorDetail{Code: "c"}, Callback: &CallbackInfo{URL: "u"}})
}

func FuzzRecordJSON(f *testing.F) {
	f.Add("id", "message\n\"quoted\"", "stderr\x00\xff", 1.5, 3)
	f.Fuzz(func(t *testing.T, id, msg, stderr string, ms float64, code int) {
		if ms != ms || ms > 1e20 || ms < -1e20 {
			return // not a duration in ms (json.Marshal refuses NaN and Inf)
		}
		now := time.Unix(int64(code), int64(code)*7).UTC()
		r := &Record{ID: id, Namespace: msg, Function: stderr, QueuedAt: now, StartedAt: &now,
			Timings: Timings{WaitMs: ms, RunMs: -ms}, StatusCode: code, Placement: msg,
			Error: &errorDetail{Code: id, Message: msg, Stderr: stderr}, Logs: &ObjectRef{Key: stderr, Size: code}}
		sameAsEncodingJSON(t, r)
	})
}

func TestAsyncMetaJSON(t *testing.T) {
	check := func(m *asyncMeta) {
		t.Helper()
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.appendJSON(nil)
		var a, b asyncMeta
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%v in %s", err, got)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("appendJSON decodes differently:\n got %s\nwant %s", got, want)
		}
	}
	full := &asyncMeta{}
	fill(t, reflect.ValueOf(full).Elem(), "x\"\\\n\x01é\xff", 2)
	check(full)
	check(&asyncMeta{})
	check(&asyncMeta{Req: &wire.Request{Headers: map[string][]string{"A": nil, "B": {}}}})
}
