package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
)

// TestRecordsPolicy: a function's records policy says which of its sync
// calls leave an invocation record (all, errors, none); async
// invocations have one whatever the policy.
func TestRecordsPolicy(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	hello := stacktest.ExampleWasm(t, "hello")
	for _, p := range []string{"all", "errors", "none"} {
		stacktest.MustDeploy(t, base, "ok-"+p, hello, `{"records":"`+p+`"}`)
		stacktest.MustDeploy(t, base, "bad-"+p, testmodules.ExitCode, `{"records":"`+p+`"}`)
	}
	stacktest.MustDeploy(t, base, "barrier", hello, "")
	stacktest.MustDeploy(t, base, "defaulted", hello, "")

	// The stored spec says the policy, "all" by default.
	for fn, want := range map[string]string{"ok-errors": "errors", "defaulted": "all"} {
		_, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/"+fn, "", nil)
		if !strings.Contains(string(body), `"records":"`+want+`"`) {
			t.Errorf("GET %s: %s; want records %q", fn, body, want)
		}
	}

	call := func(fn string, status int) string {
		t.Helper()
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/"+fn+"/invoke", "", []byte("x"))
		if resp.StatusCode != status {
			t.Fatalf("invoke %s: %d %s; want %d", fn, resp.StatusCode, body, status)
		}
		return resp.Header.Get("Hearth-Invocation-Id")
	}
	ids := map[string]string{}
	for _, p := range []string{"all", "errors", "none"} {
		ids["ok-"+p] = call("ok-"+p, 200)
		ids["bad-"+p] = call("bad-"+p, 502)
	}
	async := stacktest.Submit(t, base, "ok-none", "y", nil)

	// The writer takes records in order, a batch at a time: once a record
	// submitted after the batch of the calls above is stored, every record
	// of theirs that is to be written is.
	for range 2 {
		stacktest.WaitStatus(t, base, call("barrier", 200), "succeeded")
	}
	for fn, want := range map[string]bool{
		"ok-all": true, "bad-all": true,
		"ok-errors": false, "bad-errors": true,
		"ok-none": false, "bad-none": false,
	} {
		resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/invocations/"+ids[fn], "", nil)
		switch {
		case want && resp.StatusCode != 200:
			t.Errorf("%s: GET its record: %d %s; want a record", fn, resp.StatusCode, body)
		case !want && resp.StatusCode != 404:
			t.Errorf("%s: GET its record: %d %s; want 404 (the policy keeps none)", fn, resp.StatusCode, body)
		}
	}
	stacktest.WaitStatus(t, base, async, "succeeded")
}

func TestRecordsPolicyBadInput(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	for _, spec := range []string{`{"records":"some"}`, `{"records":"ALL"}`, `{"records":1}`, `{"records":" none"}`} {
		resp, body := stacktest.DeployWithSpec(t, s.GatewayURL, "r", stacktest.ExampleWasm(t, "hello"), spec)
		stacktest.WantError(t, resp, body, 400, "invalid_spec")
		if !strings.Contains(stacktest.ErrorMessage(body), "records") {
			t.Errorf("spec %s: message %q does not name the field", spec, stacktest.ErrorMessage(body))
		}
	}
}
