package apierr

import (
	"encoding/json"
	"testing"
)

func TestBodyShape(t *testing.T) {
	e := New(404, FunctionNotFound, "no function %q", "f")
	raw, err := json.Marshal(Body{Error: *e.Detail()})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"error":{"code":"function_not_found","message":"no function \"f\""}}`; string(raw) != want {
		t.Fatalf("%s, want %s", raw, want)
	}
	if e.Error() != `function_not_found: no function "f"` {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestForStatus(t *testing.T) {
	for status, want := range map[int]Code{404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge, 415: UnsupportedMediaType,
		429: TooManyRequests, 503: Unavailable, 500: Internal, 502: Internal, 400: BadRequest, 418: BadRequest} {
		if got := ForStatus(status); got != want {
			t.Errorf("ForStatus(%d) = %s, want %s", status, got, want)
		}
	}
}
