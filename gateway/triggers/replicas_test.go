package triggers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
)

// TestTriggerStreamReplicas: the stream of an at-least-once NATS trigger
// (and its consumer) has the gateway's replicas. Before, it was created
// with JetStream's default of one replica whatever --replicas said, so a
// trigger lost its messages with the one server that had them.
func TestTriggerStreamReplicas(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	c.WaitReady(t, 30*time.Second)
	nc, js := c.Connect(t)
	b := Binding{Namespace: "default", Function: "f", Type: "nats", Subject: "orders.r3", Options: map[string]string{"delivery": "at-least-once"}}
	m := NewManager(nc, js, newBlockingInvoker(), func() []Binding { return []Binding{b} }, discard(), Config{Tick: 10 * time.Millisecond, Replicas: 3})
	m.Start()
	defer func() { _ = m.Stop(context.Background()) }()
	name := "HEARTH_TRIGGER_" + strings.ToUpper(b.id())
	testutil.Eventually(t, 30*time.Second, func() error {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			return err
		}
		if r := s.CachedInfo().Config.Replicas; r != 3 {
			t.Fatalf("trigger stream %s has %d replicas, want 3", name, r)
		}
		cons, err := s.Consumer(context.Background(), "hearth-trigger")
		if err != nil {
			return err
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.Cluster == nil || len(info.Cluster.Replicas)+1 != 3 {
			return fmt.Errorf("trigger consumer's cluster %+v, want a leader and 2 replicas", info.Cluster)
		}
		return nil
	})
}
