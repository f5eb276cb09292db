package stack_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// TestGatewaysStartTogetherOnAFreshCluster: two gateway roles started at
// the same moment on a 3-node JetStream cluster whose servers were all
// just started (no meta leader yet), at R3, with auth, secrets and the
// autoscaler on, both become ready; a function deployed through one is
// invoked through the other. Before, each store but the records and the
// async queue opened its bucket or stream once, and a gateway exited with
// "registry: open KV bucket hearth_functions: context deadline exceeded".
func TestGatewaysStartTogetherOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	conn := stack.Conn{NATSURL: c.URLs(), S3: testutil.S3Config(t)}
	adminKey := rand.Text() + rand.Text()
	secretsKey := make([]byte, 32)
	rand.Read(secretsKey)
	cfg := gateway.Config{
		Listen: "127.0.0.1:0", Replicas: 3,
		Auth: true, AdminKey: adminKey, SecretsKey: secretsKey,
		Autoscale: "fixed-10", AutoscaleTick: 100 * time.Millisecond,
	}
	const gateways = 2
	stacks := make([]*stack.Stack, gateways)
	errs := make([]error, gateways)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range stacks {
		stacks[i] = stack.New(stacktest.QuietLogger())
		t.Cleanup(func() { _ = stacks[i].Close(context.Background()) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = stacks[i].StartGatewayRole(context.Background(), conn, cfg, nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("gateway %d: %v", i+1, err)
		}
	}
	if t.Failed() {
		return
	}
	stacktest.RunnerRole(t, conn, runner.Config{})
	admin := map[string]string{"Authorization": "Bearer " + adminKey}
	for i, s := range stacks {
		resp, body := stacktest.Do(t, http.MethodGet, s.GatewayURL+"/readyz", "", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("gateway %d /readyz: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := stacktest.Do(t, http.MethodPut, stacks[0].GatewayURL+"/v1/functions/hello", "application/wasm", stacktest.ExampleWasm(t, "hello"), admin)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy through gateway 1: %d %s", resp.StatusCode, body)
	}
	// Gateway 2 sees the deploy through its registry's watch.
	testutil.Eventually(t, 10*time.Second, func() error {
		resp, body := stacktest.Do(t, http.MethodPost, stacks[1].GatewayURL+"/v1/functions/hello/invoke", "", []byte("cluster"), admin)
		if resp.StatusCode != http.StatusOK || string(body) != "Hello, cluster!\n" {
			return fmt.Errorf("invoke through gateway 2: %d %q", resp.StatusCode, body)
		}
		return nil
	})
}
