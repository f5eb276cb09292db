package auth

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

// TestOpenKeysOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started (no JetStream meta leader
// yet) both open the keys bucket at R3 and watch it: a key created
// through one authenticates on the other. Before, CreateOrUpdateKeyValue
// was tried once and gave up after the API's 5 s ("auth: open KV bucket
// hearth_keys: context deadline exceeded").
func TestOpenKeysOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	keys := make([]*Keys, 2)
	errs := c.Together(t, len(keys), func(i int, _ *nats.Conn, js jetstream.JetStream) (err error) {
		keys[i], err = OpenKeys(context.Background(), js, "", 3, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Cleanup(keys[i].Close)
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gateway %d: %v", i+1, err)
		}
	}
	if r := c.Replicas(t, "KV_"+Bucket); r != 3 {
		t.Errorf("%s: %d replicas, want 3", Bucket, r)
	}
	_, token, err := keys[0].Create(context.Background(), KeyRequest{Name: "ci", Scopes: []string{"invoke"}, Namespace: "default"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		if _, err := keys[1].Authenticate("Bearer " + token); err != nil {
			return fmt.Errorf("gateway 2 refuses the key created through gateway 1: %w", err)
		}
		return nil
	})
}
