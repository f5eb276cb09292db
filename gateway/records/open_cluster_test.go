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
	"github.com/hearthfn/hearth/gateway/records/recordstest"
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
	c := recordstest.StartCluster(t, 3)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	const gateways = 2
	errs := make([]error, gateways)
	var wg sync.WaitGroup
	start := make(chan struct{})
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
			<-start
			ctx := context.Background()
			if _, err := records.OpenStore(ctx, js, time.Hour, 3, records.WithLog(log)); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = records.OpenOutputs(ctx, js, nil, time.Hour, 3, records.WithLog(log))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("gateway %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs.String())
		return
	}
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, bucket := range []string{records.RecordsBucket, records.OutputsBucket} {
		kv, err := js.KeyValue(context.Background(), bucket)
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 3 {
			t.Errorf("%s: %d replicas", bucket, st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Logf("no retry was needed this time")
	}
	t.Logf("retries:\n%s", logs.String())
}
