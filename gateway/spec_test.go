package gateway

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hearthfn/hearth/gateway/apierr"
)

func TestDecodeSpec(t *testing.T) {
	spec, err := decodeSpec([]byte(`{"memory_mb":64,"timeout_ms":500,"env":{"A":"b"},"description":"d"}`))
	if err != nil || spec.MemoryMB != 64 || spec.TimeoutMs != 500 || spec.Env["A"] != "b" {
		t.Fatalf("decodeSpec = %+v, %v", spec, err)
	}
	for _, bad := range []string{``, `[]`, `{"memory_mb":"64"}`, `{"nope":1}`, `{}{}`, `{"env":{"A":1}}`} {
		_, err := decodeSpec([]byte(bad))
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "invalid_spec" {
			t.Errorf("decodeSpec(%q) = %v, want a 400 invalid_spec", bad, err)
		}
	}
}

func FuzzDecodeSpec(f *testing.F) {
	f.Add([]byte(`{"memory_mb":64,"timeout_ms":500,"env":{"A":"b"}}`))
	f.Add([]byte(`{"memory_mb":1e99}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, err := decodeSpec(raw)
		var ae *apierr.Error
		if err != nil && (!errors.As(err, &ae) || ae.Status != http.StatusBadRequest) {
			t.Fatalf("decodeSpec error is not a 400: %v", err)
		}
	})
}
