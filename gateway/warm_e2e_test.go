package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// deployRaw PUTs a module with a query and returns the response.
func deployRaw(t *testing.T, base, name, query string, module []byte) (*http.Response, []byte) {
	t.Helper()
	return stacktest.Call(t, http.MethodPut, base+"/v1/functions/"+name+query, "application/wasm", module)
}

// coldOf invokes ref and returns its Hearth-Cold-Start header.
func coldOf(t *testing.T, base, ref string) string {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/"+ref+"/invoke", "", []byte("abc"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: %d %s", ref, resp.StatusCode, body)
	}
	return resp.Header.Get("Hearth-Cold-Start")
}

// TestNoColdStartAfterDeploy: a deploy, a new version and an alias change
// warm an instance before they answer, so the first call is warm: on
// hearth dev, and through NATS with two runners (the home runner is
// warmed, and the first call goes there).
func TestNoColdStartAfterDeploy(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.GatewayRole(t, conn, gateway.Config{})
	stacktest.RunnerRole(t, conn, runner.Config{})
	stacktest.RunnerRole(t, conn, runner.Config{})
	stacktest.WaitRunners(t, gw.GatewayURL, 2)
	stacks := map[string]string{"dev": stacktest.Dev(t, t.TempDir()).GatewayURL, "cluster": gw.GatewayURL}

	for where, base := range stacks {
		t.Run(where, func(t *testing.T) {
			for _, ex := range []string{"hello", "reverse-c", "reverse"} { // C command, C reactor, Go reactor
				name := "w-" + ex
				resp, body := deployRaw(t, base, name, "", stacktest.ExampleWasm(t, ex))
				if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "warm" {
					t.Fatalf("deploy %s: %d %s, %s %q; want 201 and warm", ex, resp.StatusCode, body, gateway.HeaderWarm, resp.Header.Get(gateway.HeaderWarm))
				}
				if c := coldOf(t, base, name); c != "false" {
					t.Errorf("%s: first call after the deploy has Hearth-Cold-Start %s", ex, c)
				}
			}

			// A new version is warm too, and so is the version an alias
			// change makes callable.
			module := stacktest.ExampleWasm(t, "reverse-c")
			if resp, body := deployRaw(t, base, "w-reverse-c", "", module); resp.Header.Get(gateway.HeaderWarm) != "warm" {
				t.Fatalf("second deploy: %d %s %v", resp.StatusCode, body, resp.Header)
			}
			if c := coldOf(t, base, "w-reverse-c@2"); c != "false" {
				t.Errorf("first call of version 2: Hearth-Cold-Start %s", c)
			}
			if resp, body := deployRaw(t, base, "w-reverse-c", "?warm=false", module); resp.StatusCode != 201 || resp.Header.Get(gateway.HeaderWarm) != "off" {
				t.Fatalf("deploy warm=false: %d %s %v", resp.StatusCode, body, resp.Header)
			}
			resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/w-reverse-c/aliases/prod", "application/json", []byte(`{"version":3}`))
			if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "warm" {
				t.Fatalf("set alias: %d %s %v", resp.StatusCode, body, resp.Header)
			}
			if c := coldOf(t, base, "w-reverse-c:prod"); c != "false" {
				t.Errorf("first call through the new alias: Hearth-Cold-Start %s", c)
			}

			// A trigger change is a new version of the same module: warm.
			resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/w-reverse-c/triggers", "application/json", []byte(`{"type":"cron","schedule":"@hourly"}`))
			if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "warm" {
				t.Fatalf("add trigger: %d %s %v", resp.StatusCode, body, resp.Header)
			}
			if c := coldOf(t, base, "w-reverse-c@4"); c != "false" {
				t.Errorf("first call of the version a trigger change made: Hearth-Cold-Start %s", c)
			}

			// Without warming, the first call is cold: what the test
			// above would see without the feature.
			if resp, body := deployRaw(t, base, "w-cold", "?warm=false", module); resp.StatusCode != 201 {
				t.Fatalf("deploy warm=false: %d %s", resp.StatusCode, body)
			}
			if c := coldOf(t, base, "w-cold"); c != "true" {
				t.Errorf("first call after a deploy with warm=false: Hearth-Cold-Start %s, want true", c)
			}
		})
	}
}

// withCustomSection appends a custom section of n bytes to a module:
// valid wasm, as large as wanted.
func withCustomSection(module []byte, n int) []byte {
	name := "hearth.padding"
	payload := append([]byte{byte(len(name))}, name...)
	payload = append(payload, make([]byte, n)...)
	out := append(bytes.Clone(module), 0) // section id 0: custom
	for size := uint32(len(payload)); ; {
		b := byte(size & 0x7f)
		size >>= 7
		if size != 0 {
			out = append(out, b|0x80)
			continue
		}
		out = append(out, b)
		break
	}
	return append(out, payload...)
}

// TestLargeModuleWarmsAfterTheDeploy: above the size a deploy waits for,
// it answers with Hearth-Warm: pending and warms right after; ?wait=warm
// makes it wait, ?wait=none makes a small one not wait.
func TestLargeModuleWarmsAfterTheDeploy(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	large := withCustomSection(stacktest.ExampleWasm(t, "reverse-c"), 5<<20)

	warmed := func() float64 { return stacktest.MetricSum(t, s, `hearth_deploy_warms_total{outcome="warm"}`) }
	before := warmed()
	resp, body := deployRaw(t, base, "big", "", large)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "pending" {
		t.Fatalf("deploy of a 5 MiB module: %d %s, %s %q; want 201 and pending", resp.StatusCode, body, gateway.HeaderWarm, resp.Header.Get(gateway.HeaderWarm))
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := warmed(); n != before+1 {
			return fmt.Errorf("warms %v, want %v", n, before+1)
		}
		return nil
	})
	if c := coldOf(t, base, "big"); c != "false" {
		t.Errorf("first call once warmed: Hearth-Cold-Start %s", c)
	}

	resp, body = deployRaw(t, base, "big", "?wait=warm", large)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "warm" {
		t.Fatalf("deploy wait=warm: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	if c := coldOf(t, base, "big@2"); c != "false" {
		t.Errorf("first call after wait=warm: Hearth-Cold-Start %s", c)
	}
	resp, body = deployRaw(t, base, "small", "?wait=none", stacktest.ExampleWasm(t, "hello"))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "pending" {
		t.Fatalf("deploy wait=none: %d %s %v", resp.StatusCode, body, resp.Header)
	}
}

func TestDeployWarmBadInput(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	module := stacktest.ExampleWasm(t, "hello")
	stacktest.MustDeploy(t, base, "hello2", module, "")
	for _, q := range []string{"?wait=soon", "?wait=WARM", "?warm=maybe", "?warm=false&wait=warm"} {
		resp, body := deployRaw(t, base, "hello2", q, module)
		stacktest.WantError(t, resp, body, 400, "invalid_parameter")
		resp, body = stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello2/aliases/prod"+q, "application/json", []byte(`{"version":1}`))
		stacktest.WantError(t, resp, body, 400, "invalid_parameter")
	}
	// Nothing was deployed or set by the refused requests.
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/hello2/versions/2", "", nil)
	stacktest.WantError(t, resp, body, 404, "version_not_found")
	resp, body = stacktest.Call(t, http.MethodGet, base+"/v1/functions/hello2/aliases/prod", "", nil)
	stacktest.WantError(t, resp, body, 404, "alias_not_found")
}

// TestDeployWithoutRunners: a gateway with no runner deploys all the
// same, and says the function could not be warmed.
func TestDeployWithoutRunners(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.GatewayRole(t, conn, gateway.Config{})
	resp, body := deployRaw(t, gw.GatewayURL, "lonely", "", stacktest.ExampleWasm(t, "hello"))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "no-runners" {
		t.Fatalf("deploy without runners: %d %s %v", resp.StatusCode, body, resp.Header)
	}
}
