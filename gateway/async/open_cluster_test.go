package async_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/records/recordstest"
)

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started both create the async and
// dead-letter streams (R3) and the dispatchers' consumer. Before, the
// first CreateOrUpdateStream gave up after the API's 5 s ("context
// deadline exceeded") while the cluster elected its meta leader.
func TestOpenOnAFreshCluster(t *testing.T) {
	c := recordstest.StartCluster(t, 3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const gateways = 2
	errs := make([]error, gateways)
	queues := make([]*async.Queue, gateways)
	var wg sync.WaitGroup
	for i := range gateways {
		nc, err := nats.Connect(c.URLs())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			q, err := async.Open(ctx, async.Config{Dispatchers: 2, AckWait: time.Second, Replicas: 3}, async.Deps{JS: js, Log: log})
			if err != nil {
				errs[i] = err
				return
			}
			queues[i], errs[i] = q, q.StartDispatcher(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i, err)
		}
	}
	for _, q := range queues {
		_ = q.Stop(context.Background())
	}
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, name := range []string{async.AsyncStream, async.DLQStream} {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("%s: %d replicas, want 3", name, r)
		}
	}
	if _, err := js.Consumer(context.Background(), async.AsyncStream, async.DispatcherConsumer); err != nil {
		t.Fatal(err)
	}
}
