package autoscaler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestLeaderCountsItsOwnCallsInTheirMinute: one call in the middle of each
// minute is counted in that minute, every minute. The leader's own report
// used to reach its sum through NATS, and when it came back after the
// minute was closed its calls counted in the next minute (a 0 then a 2).
func TestLeaderCountsItsOwnCallsInTheirMinute(t *testing.T) {
	ns := testutil.StartNATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tick := 100 * time.Millisecond
	a, err := StartLeader(context.Background(), LeaderConfig{Policy: "fixed-1", Tick: tick}, LeaderDeps{
		NATS: nc, JS: js, Log: slog.New(slog.DiscardHandler), Functions: noFunctions{},
		Scheduler: scheduler.New(scheduler.NewTable(time.Second), scheduler.Config{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	testutil.Eventually(t, 10*time.Second, func() error {
		if !a.leading.Load() {
			return errNotLeading
		}
		return nil
	})
	// A report of this gateway's coming back through NATS adds nothing.
	echo, _ := json.Marshal(demand{From: a.id, Counts: map[string]int{"default/echo": 5}})
	a.onDemand(&nats.Msg{Data: echo})
	a.mu.Lock()
	echoed := a.incoming.Counts["default/echo"]
	a.mu.Unlock()
	if echoed != 0 {
		t.Fatalf("the leader's own report, heard back, added %d calls", echoed)
	}

	const minutes = 20
	start := MinuteStart(time.Now(), tick).Add(2 * tick)
	for i := 0; i < minutes; i++ {
		at := time.NewTimer(time.Until(start.Add(time.Duration(i)*tick + tick/2)))
		<-at.C // the workload's schedule: one call in the middle of each minute
		a.Begin("default", "mid")
		a.End("default", "mid")
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		tl, _, err := a.Timeline(context.Background())
		if err != nil {
			return err
		}
		for _, f := range tl.Functions {
			if f.Function != "mid" {
				continue
			}
			ones := 0
			for _, n := range f.Counts {
				if n > 1 {
					return fmt.Errorf("a minute with %d calls: %v", n, f.Counts)
				}
				ones += n
			}
			if ones < minutes {
				return fmt.Errorf("%d of %d calls counted yet: %v", ones, minutes, f.Counts)
			}
			return nil
		}
		return errNotLeading
	})
}

var errNotLeading = fmt.Errorf("not yet")
