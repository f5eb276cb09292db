package registry_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
)

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started (no JetStream meta leader
// yet) both open the registry's buckets at R3 and watch them: a function
// deployed through one is found by the other. Before, each
// CreateOrUpdateKeyValue was tried once and gave up after the API's 5 s
// ("registry: open KV bucket hearth_functions: context deadline
// exceeded"), and the gateway exited.
func TestOpenOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	store := testutil.StartS3(t)
	regs := make([]*registry.Registry, 2)
	errs := c.Together(t, len(regs), func(i int, _ *nats.Conn, js jetstream.JetStream) (err error) {
		regs[i], err = registry.Open(context.Background(), registry.Config{Replicas: 3}, js, store, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Cleanup(func() { _ = regs[i].Close(context.Background()) })
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i+1, err)
		}
	}
	for _, bucket := range []string{registry.Bucket, registry.ModulesBucket} {
		if r := c.Replicas(t, "KV_"+bucket); r != 3 {
			t.Errorf("%s: %d replicas, want 3", bucket, r)
		}
	}
	ctx := context.Background()
	if _, _, err := regs[0].Deploy(ctx, registry.DeployRequest{Name: "hello", Module: hello()}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		if _, err := regs[1].Lookup(ctx, "default", "hello"); err != nil {
			return fmt.Errorf("gateway 2 does not find the function deployed through gateway 1: %w", err)
		}
		return nil
	})
}
