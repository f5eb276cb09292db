package records

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/internal/testutil"
)

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
	got := r.AppendJSON(nil)
	if a, b := decodeRecord(t, got), decodeRecord(t, want); !reflect.DeepEqual(a, b) {
		t.Fatalf("appendJSON decodes differently:\n got %s\nwant %s", got, want)
	}
}

func TestRecordJSON(t *testing.T) {
	full := &Record{}
	testutil.Fill(t, reflect.ValueOf(full).Elem(), "x\"\\\n\t\x01é\xff<>", 3)
	sameAsEncodingJSON(t, full)
	sameAsEncodingJSON(t, &Record{}) // every omitempty field empty
	sameAsEncodingJSON(t, &Record{ID: "a", Error: &apierr.Detail{Code: "c"}, Callback: &CallbackInfo{URL: "u"}})
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
			Error: &apierr.Detail{Code: apierr.Code(id), Message: msg, Stderr: stderr}, Logs: &ObjectRef{Key: stderr, Size: code}}
		sameAsEncodingJSON(t, r)
	})
}
