package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// TestTimelineIsBounded: however long the leader runs and however many
// commands it sends, the timeline keeps TimelineMinutes minutes and
// TimelineEvents events, and forgets the functions that have nothing left
// to show in its window.
func TestTimelineIsBounded(t *testing.T) {
	tl := newTimeline()
	busy, once := FunctionKey{"default", "busy"}, FunctionKey{"team-a", "once"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for m := 1; m <= 3*TimelineMinutes; m++ {
		closed := []Minute{{Function: busy, Count: m % 7, Forecast: m%2 == 0}, {Function: once}}
		if m == 1 {
			closed[1].Count = 5
		}
		tl.closeMinute(m, start.Add(time.Duration(m)*time.Minute), closed, []Decision{{Function: busy, Warm: true}})
		tl.event(Event{Time: start.Add(time.Duration(m) * time.Minute), Namespace: "default", Function: "busy", Op: wire.OpPrewarm, Instances: 1})
		tl.event(Event{Time: start.Add(time.Duration(m) * time.Minute), Namespace: "default", Function: "busy", Op: wire.OpRetire, Instances: 1})
	}
	got := tl.snapshot()
	if len(got.Minutes) != TimelineMinutes || got.Minutes[0].Minute != 2*TimelineMinutes+1 || got.Minutes[TimelineMinutes-1].Minute != 3*TimelineMinutes {
		t.Fatalf("minutes %d, from %d to %d", len(got.Minutes), got.Minutes[0].Minute, got.Minutes[len(got.Minutes)-1].Minute)
	}
	if len(got.Events) != TimelineEvents || got.Events[len(got.Events)-1].Op != wire.OpRetire {
		t.Fatalf("%d events, want the newest %d", len(got.Events), TimelineEvents)
	}
	if len(got.Functions) != 1 || got.Functions[0].Function != "busy" || !got.Functions[0].WarmNow {
		t.Fatalf("functions %+v, want busy alone (once has been idle for the whole window)", got.Functions)
	}
	f := got.Functions[0]
	if len(f.Counts) != TimelineMinutes || len(f.Forecast) != TimelineMinutes {
		t.Fatalf("busy: %d counts, %d forecasts", len(f.Counts), len(f.Forecast))
	}
	for i, mark := range got.Minutes {
		if f.Counts[i] != mark.Minute%7 || f.Forecast[i] != (mark.Minute%2 == 0) {
			t.Fatalf("minute %d: count %d forecast %v", mark.Minute, f.Counts[i], f.Forecast[i])
		}
	}

	// A new leader resumes from what was published, and a snapshot it
	// does not understand leaves it empty.
	next := newTimeline()
	next.resume(got)
	if again := next.snapshot(); len(again.Minutes) != TimelineMinutes || len(again.Functions) != 1 || len(again.Events) != TimelineEvents {
		t.Fatalf("resumed: %d minutes, %d functions, %d events", len(again.Minutes), len(again.Functions), len(again.Events))
	}
	bad := got
	bad.Functions = []FunctionTimeline{{Namespace: "default", Function: "short", Counts: []int{1}, Forecast: []bool{true}}}
	empty := newTimeline()
	empty.resume(bad)
	if s := empty.snapshot(); len(s.Minutes) != 0 || len(s.Functions) != 0 {
		t.Fatalf("a misaligned timeline was resumed: %+v", s)
	}
}

// TestTimelineJoinsAFunctionLate: a function first seen after some minutes
// is aligned with the others, its earlier minutes empty.
func TestTimelineJoinsAFunctionLate(t *testing.T) {
	tl := newTimeline()
	a, b := FunctionKey{"default", "a"}, FunctionKey{"default", "b"}
	now := time.Now()
	tl.closeMinute(1, now, []Minute{{Function: a, Count: 1}}, nil)
	tl.closeMinute(2, now, []Minute{{Function: a, Count: 2}}, nil)
	tl.closeMinute(3, now, []Minute{{Function: a}, {Function: b, Count: 3, Forecast: true}}, nil)
	s := tl.snapshot()
	want := map[string]string{"a": "[1 2 0] [false false false]", "b": "[0 0 3] [false false true]"}
	for _, f := range s.Functions {
		if got := fmt.Sprint(f.Counts, " ", f.Forecast); got != want[f.Function] {
			t.Errorf("%s: %s, want %s", f.Function, got, want[f.Function])
		}
	}
	if len(s.Functions) != 2 || s.Functions[0].Function != "a" {
		t.Fatalf("functions %+v, want a then b", s.Functions)
	}
}

type noFunctions struct{}

func (noFunctions) Lookup(context.Context, string, string) (*registry.Function, error) {
	return nil, errors.New("no registry in this test")
}

// TestTimelineOnEveryGateway: two gateways count calls; the one holding
// the lease answers its own timeline, the other the one it published, and
// both show the calls of both.
func TestTimelineOnEveryGateway(t *testing.T) {
	ns := testutil.StartNATS(t)
	tick := 50 * time.Millisecond
	start := func() *Leader {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		a, err := StartLeader(context.Background(), LeaderConfig{Policy: "fixed-10", Tick: tick}, LeaderDeps{
			NATS: nc, JS: js, Log: slog.New(slog.DiscardHandler), Functions: noFunctions{},
			Scheduler: scheduler.New(scheduler.NewTable(time.Second), scheduler.Config{}),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Stop(context.Background()) })
		return a
	}
	one, two := start(), start()
	call := func(a *Leader, fn string) { a.Begin("default", fn); a.End("default", fn) }
	testutil.Eventually(t, 10*time.Second, func() error {
		call(one, "from-one")
		call(two, "from-two")
		leaders := 0
		for i, a := range []*Leader{one, two} {
			tl, own, err := a.Timeline(context.Background())
			if err != nil {
				return fmt.Errorf("gateway %d: %v", i+1, err)
			}
			if own {
				leaders++
			}
			if tl.Policy != "fixed-10" || tl.TickMs != 50 || tl.Leader == "" {
				return fmt.Errorf("gateway %d: policy %q, tick %v ms, leader %q", i+1, tl.Policy, tl.TickMs, tl.Leader)
			}
			seen := map[string]int{}
			for _, f := range tl.Functions {
				seen[f.Function] = sum(f.Counts)
				if len(f.Counts) != len(tl.Minutes) {
					return fmt.Errorf("gateway %d: %s has %d counts for %d minutes", i+1, f.Function, len(f.Counts), len(tl.Minutes))
				}
			}
			if seen["from-one"] == 0 || seen["from-two"] == 0 {
				return fmt.Errorf("gateway %d (leading: %v) shows %v", i+1, own, seen)
			}
		}
		if leaders != 1 {
			return fmt.Errorf("%d gateways answer their own timeline, want 1", leaders)
		}
		return nil
	})
}
