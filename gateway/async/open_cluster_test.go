package async_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started both create the async and
// dead-letter streams (R3) and the dispatchers' consumer. Before, the
// first CreateOrUpdateStream gave up after the API's 5 s ("context
// deadline exceeded") while the cluster elected its meta leader.
func TestOpenOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queues := make([]*async.Queue, 2)
	errs := c.Together(t, len(queues), func(i int, _ *nats.Conn, js jetstream.JetStream) error {
		ctx := context.Background()
		q, err := async.Open(ctx, async.Config{Dispatchers: 2, AckWait: time.Second, Replicas: 3}, async.Deps{JS: js, Log: log})
		if err != nil {
			return err
		}
		queues[i] = q
		return q.StartDispatcher(ctx)
	})
	for _, q := range queues {
		if q != nil {
			t.Cleanup(func() { _ = q.Stop(context.Background()) })
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i+1, err)
		}
	}
	for _, name := range []string{async.AsyncStream, async.DLQStream} {
		if r := c.Replicas(t, name); r != 3 {
			t.Errorf("%s: %d replicas, want 3", name, r)
		}
	}
	_, js := c.Connect(t)
	if _, err := js.Consumer(context.Background(), async.AsyncStream, async.DispatcherConsumer); err != nil {
		t.Fatal(err)
	}
}
