package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// TestFollower: a runner's heartbeat puts it in the table, one that stops
// beating is swept out, a malformed beat is ignored, and Stop ends the
// subscription and the sweep.
func TestFollower(t *testing.T) {
	nc := testutil.ConnectNATS(t)
	const every = 20 * time.Millisecond
	sched := scheduler.New(scheduler.NewTable(every), scheduler.Config{Strategy: scheduler.LeastLoaded{}})
	f := New(nc, sched, every, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	beat := func(id string) {
		t.Helper()
		data, _ := json.Marshal(wire.Heartbeat{ID: id, State: wire.StateReady, Capacity: 2, Time: time.Now()})
		if err := nc.Publish(wire.HeartbeatPrefix+id, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish(wire.HeartbeatPrefix+"junk", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	beat("r1")
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := sched.Table().Get("r1"); !ok {
			return errors.New("r1 is not in the table")
		}
		return nil
	})
	if _, ok := sched.Table().Get("junk"); ok {
		t.Fatal("a malformed heartbeat made a runner")
	}
	testutil.Eventually(t, 5*time.Second, func() error { // no more beats: swept
		if _, ok := sched.Table().Get("r1"); ok {
			return fmt.Errorf("r1 is still in the table")
		}
		return nil
	})
	if err := f.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.sub.IsValid() {
		t.Fatal("the heartbeat subscription is still open after Stop")
	}
	select {
	case <-f.done:
	default:
		t.Fatal("the sweep still runs after Stop")
	}
}
