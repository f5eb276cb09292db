package autoscaler

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestStartLeaderOnAFreshCluster: two gateways started together on a
// 3-node cluster whose servers were all just started (no JetStream meta
// leader yet) both open the autoscaler's lease bucket at R3 and start
// their leader loops. Before, CreateOrUpdateKeyValue was tried once and
// gave up after the API's 5 s ("gateway: autoscaler bucket: context
// deadline exceeded").
func TestStartLeaderOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	errs := c.Together(t, 2, func(_ int, nc *nats.Conn, js jetstream.JetStream) error {
		a, err := StartLeader(context.Background(), LeaderConfig{Policy: "fixed-10", Tick: 50 * time.Millisecond, Replicas: 3}, LeaderDeps{
			NATS: nc, JS: js, Log: slog.New(slog.DiscardHandler),
			Scheduler: scheduler.New(scheduler.NewTable(time.Second), scheduler.Config{}),
		})
		if err == nil {
			t.Cleanup(func() { _ = a.Stop(context.Background()) })
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i+1, err)
		}
	}
	if r := c.Replicas(t, "KV_"+AutoscalerBucket); r != 3 {
		t.Errorf("%s: %d replicas, want 3", AutoscalerBucket, r)
	}
}
