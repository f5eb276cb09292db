package audit

import (
	"context"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started (no JetStream meta leader
// yet) both open the audit stream at R3, and an entry one appends is
// listed by the other. Before, CreateOrUpdateStream was tried once and
// gave up after the API's 5 s ("audit: stream HEARTH_AUDIT: context
// deadline exceeded").
func TestOpenOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	logs := make([]*Log, 2)
	errs := c.Together(t, len(logs), func(i int, _ *nats.Conn, js jetstream.JetStream) (err error) {
		logs[i], err = Open(context.Background(), js, 3, WithLog(slog.New(slog.DiscardHandler)))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i+1, err)
		}
	}
	if r := c.Replicas(t, Stream); r != 3 {
		t.Errorf("%s: %d replicas, want 3", Stream, r)
	}
	ctx := context.Background()
	if err := logs[0].Append(ctx, Entry{Action: FunctionDeploy, Namespace: "default", Target: "hello", Outcome: Success}); err != nil {
		t.Fatal(err)
	}
	entries, err := logs[1].List(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Target != "hello" {
		t.Fatalf("gateway 2 lists %+v, want the deploy of hello", entries)
	}
}
