package records_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/testutil"
)

// syncBuffer is a log sink safe for the goroutines of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOpenOnAFreshCluster: two gateways started together on a 3-node
// cluster whose servers were all just started (no JetStream meta leader
// yet) both open the records and outputs buckets at R3. Before, the
// first CreateOrUpdateKeyValue of each gave up after the API's 5 s with
// "open KV bucket hearth_invocations: context deadline exceeded" (or
// "JetStream system temporarily unavailable") and the gateway exited.
func TestOpenOnAFreshCluster(t *testing.T) {
	c := testutil.StartCluster(t, 3)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	errs := c.Together(t, 2, func(_ int, _ *nats.Conn, js jetstream.JetStream) error {
		ctx := context.Background()
		if _, err := records.OpenStore(ctx, js, time.Hour, 3, records.WithLog(log)); err != nil {
			return err
		}
		_, err := records.OpenOutputs(ctx, js, nil, time.Hour, 3, records.WithLog(log))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("gateway %d: %v", i+1, err)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs.String())
		return
	}
	for _, bucket := range []string{records.RecordsBucket, records.OutputsBucket} {
		if r := c.Replicas(t, "KV_"+bucket); r != 3 {
			t.Errorf("%s: %d replicas, want 3", bucket, r)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Logf("no retry was needed this time")
	}
	t.Logf("retries:\n%s", logs.String())
}
