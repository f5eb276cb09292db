package records

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

// TestWriterStopWhileSubmitting: records submitted while the writer stops
// are written or counted as dropped, never a panic (run with -race); what
// was submitted before Stop is in the bucket after it.
func TestWriterStopWhileSubmitting(t *testing.T) {
	nc := testutil.ConnectNATS(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := OpenStore(ctx, js, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := OpenOutputs(ctx, js, nil, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	var dropped atomic.Int64
	w := NewWriter(nc, js, outputs, slog.New(slog.NewTextHandler(io.Discard, nil)), func() { dropped.Add(1) })
	w.Start()

	w.Submit(&Record{ID: "before", Namespace: "default", Function: "f", Status: StatusSucceeded}, []byte("log line"))
	var submitted atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				w.Submit(&Record{ID: fmt.Sprintf("g%d-%d", g, i), Namespace: "default", Function: "f", Status: StatusSucceeded}, nil)
				submitted.Add(1)
			}
		}()
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if submitted.Load() < 1000 {
			return fmt.Errorf("%d submitted", submitted.Load())
		}
		return nil
	})
	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	after := dropped.Load()
	w.Submit(&Record{ID: "late", Namespace: "default", Function: "f"}, nil) // after Stop: dropped
	if dropped.Load() != after+1 {
		t.Fatalf("a record submitted after Stop was not counted as dropped")
	}
	if err := w.Stop(ctx); err != nil { // twice is fine
		t.Fatal(err)
	}
	rec, err := store.GetFor(ctx, "default", "f", "before")
	if err != nil {
		t.Fatalf("the record submitted before Stop: %v", err)
	}
	if rec.Logs == nil {
		t.Fatal("its log was not stored")
	}
	logs, err := outputs.Get(ctx, rec.Logs)
	if err != nil || string(logs) != "log line" {
		t.Fatalf("its log: %q, %v", logs, err)
	}
}
