package stack_test

import (
	"net/http"
	"testing"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/runner"
)

// TestGatewayAndRunnerRoles runs the gateway and two runners as separate
// roles, each with its own connections, against external NATS and S3.
func TestGatewayAndRunnerRoles(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	gw := stacktest.GatewayRole(t, conn, gateway.Config{})
	for i := 0; i < 2; i++ {
		stacktest.RunnerRole(t, conn, runner.Config{CacheDir: t.TempDir()})
	}

	resp, body := stacktest.Call(t, http.MethodPut, gw.GatewayURL+"/v1/functions/hello", "application/wasm", stacktest.ExampleWasm(t, "hello"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodPost, gw.GatewayURL+"/v1/functions/hello/invoke", "", []byte("roles"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, roles!\n" {
		t.Fatalf("invoke: %d %q", resp.StatusCode, body)
	}
	// The gateway knows both runners from their heartbeats.
	stacktest.WaitRunners(t, gw.GatewayURL, 2)
	resp, body = stacktest.Call(t, http.MethodGet, gw.GatewayURL+"/readyz", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
}
