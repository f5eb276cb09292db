package secrets

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

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started (no JetStream meta leader
// yet) both open the secrets bucket at R3 and watch it: a secret set
// through one is seen by the other. Before, CreateOrUpdateKeyValue was
// tried once and gave up after the API's 5 s ("secrets: open KV bucket
// hearth_secrets: context deadline exceeded").
func TestOpenOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	stores := make([]*Store, 2)
	errs := c.Together(t, len(stores), func(i int, _ *nats.Conn, js jetstream.JetStream) (err error) {
		stores[i], err = Open(context.Background(), js, testKey(1), 3, WithLog(slog.New(slog.DiscardHandler)))
		if err == nil {
			t.Cleanup(stores[i].Close)
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
	if _, _, err := stores[0].Put(context.Background(), "default", "api-token", []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		if _, ok := stores[1].Get("default", "api-token"); !ok {
			return fmt.Errorf("gateway 2 does not see the secret set through gateway 1")
		}
		return nil
	})
}
