package scheduler

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// table makes a table of n ready runners r00, r01, … with capacity c.
func table(n, c int) *Table {
	t := NewTable(time.Second)
	for i := 0; i < n; i++ {
		t.Observe(wire.Heartbeat{ID: fmt.Sprintf("r%02d", i), State: wire.StateReady, Capacity: c}, t0)
	}
	return t
}

func TestHashingPrefersWarmThenHome(t *testing.T) {
	tb := table(10, 100)
	s := New(tb, Config{})
	d, err := s.Place(Request{Digest: "aaa"}, nil)
	if err != nil || d.Reason != "home" {
		t.Fatalf("first placement: %v %v, want a home runner", d, err)
	}
	home := d.Runner.ID
	// The same module goes to the same home runner every time (no load).
	for i := 0; i < 20; i++ {
		if d, _ := s.Place(Request{Digest: "aaa"}, nil); d.Runner.ID != home {
			t.Fatalf("placement moved from %s to %s without load", home, d.Runner.ID)
		}
	}
	// Another runner reports an idle warm instance: it wins.
	tb.Observe(wire.Heartbeat{ID: "r07", State: wire.StateReady, Capacity: 100, Warm: []wire.WarmModule{{Digest: "aaa", Idle: 1}}}, t0)
	if d, _ := s.Place(Request{Digest: "aaa"}, nil); d.Runner.ID != "r07" || d.Reason != "warm" {
		t.Fatalf("with a warm instance on r07: %v", d)
	}
	// Different modules spread over the runners.
	homes := map[string]bool{}
	for i := 0; i < 200; i++ {
		d, _ := s.Place(Request{Digest: fmt.Sprintf("m%d", i)}, nil)
		homes[d.Runner.ID] = true
	}
	if len(homes) < 9 {
		t.Fatalf("200 modules landed on only %d of 10 runners", len(homes))
	}
}

func TestBoundedLoadSpreadsAHotFunction(t *testing.T) {
	tb := table(4, 100)
	s := New(tb, Config{})
	counts := map[string]int{}
	var releases []func()
	for i := 0; i < 40; i++ {
		d, release, err := s.Acquire(context.Background(), "default", "hot", Sync, Request{Digest: "hot"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		counts[d.Runner.ID]++
		releases = append(releases, release)
	}
	// With bound c = 1.25 no runner holds more than 1.25 × mean + 1.
	for id, n := range counts {
		if n > 14 {
			t.Fatalf("runner %s took %d of 40 concurrent calls: %v", id, n, counts)
		}
	}
	for _, r := range releases {
		r()
	}
	for _, r := range tb.Runners() {
		if r.Load() != 0 {
			t.Fatalf("runner %s load %d after every release", r.ID, r.Load())
		}
	}
}

func TestFeasibilityFilters(t *testing.T) {
	tb := table(3, 1)
	tb.Observe(wire.Heartbeat{ID: "r00", State: wire.StateDraining, Capacity: 1}, t0)
	tb.Observe(wire.Heartbeat{ID: "r01", State: wire.StateReady, Capacity: 1, InFlight: 1}, t0)
	s := New(tb, Config{})
	for i := 0; i < 10; i++ {
		d, err := s.Place(Request{Digest: fmt.Sprint(i)}, nil)
		if err != nil || d.Runner.ID != "r02" {
			t.Fatalf("placement %v %v; only r02 is ready with room", d, err)
		}
	}
	if _, err := s.Place(Request{Digest: "x"}, []string{"r02"}); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("excluding the only feasible runner: %v", err)
	}
	// Missed heartbeats: runners are swept out and their Dead channel closes.
	r02, _ := tb.Get("r02")
	tb.Observe(wire.Heartbeat{ID: "r00", State: wire.StateReady, Capacity: 1}, t0.Add(2500*time.Millisecond))
	dead := tb.Sweep(t0.Add(3500 * time.Millisecond))
	if len(dead) != 2 || len(tb.Runners()) != 1 {
		t.Fatalf("swept %v, left %d; want r01 and r02 gone", dead, len(tb.Runners()))
	}
	select {
	case <-r02.Dead():
	default:
		t.Fatal("a swept runner's Dead channel is open")
	}
	r00, _ := tb.Get("r00")
	tb.Observe(wire.Heartbeat{ID: "r00", State: wire.StateStopped}, t0)
	select {
	case <-r00.Dead():
		t.Fatal("a runner that stopped cleanly must not fail its calls")
	default:
	}
	if _, err := s.Place(Request{Digest: "x"}, nil); !errors.Is(err, ErrNoRunners) {
		t.Fatalf("empty table: %v", err)
	}
}

func TestOverloadAnswersAfterQueueWait(t *testing.T) {
	tb := table(1, 1)
	s := New(tb, Config{QueueWait: 50 * time.Millisecond, MaxQueue: 1})
	_, release, err := s.Acquire(context.Background(), "default", "f", Sync, Request{Digest: "d"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One waiter fits in the queue and times out; a second is refused at once.
	errs := make(chan error, 1)
	go func() {
		_, _, err := s.Acquire(context.Background(), "default", "f", Sync, Request{Digest: "d"}, nil)
		errs <- err
	}()
	waitQueued(t, s, 1)
	if _, _, err := s.Acquire(context.Background(), "default", "f", Sync, Request{Digest: "d"}, nil); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("queue full: %v", err)
	}
	if err := <-errs; !errors.Is(err, ErrOverloaded) {
		t.Fatalf("waiter past QueueWait: %v", err)
	}
	// A waiter is served when capacity frees.
	go func() {
		_, rel, err := s.Acquire(context.Background(), "default", "f", Sync, Request{Digest: "d"}, nil)
		if err == nil {
			rel()
		}
		errs <- err
	}()
	waitQueued(t, s, 1)
	release()
	if err := <-errs; err != nil {
		t.Fatalf("waiter after release: %v", err)
	}
}

func TestFairShareBetweenNamespaces(t *testing.T) {
	tb := table(1, 1)
	s := New(tb, Config{QueueWait: 10 * time.Second, MaxQueue: 100})
	_, release, err := s.Acquire(context.Background(), "flood", "f", Sync, Request{Digest: "d"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 64)
	start := func(ns string) {
		go func() {
			_, rel, err := s.Acquire(context.Background(), ns, "f", Sync, Request{Digest: "d"}, nil)
			if err != nil {
				order <- "error: " + err.Error()
				return
			}
			order <- ns
			rel() // frees the slot for the next waiter
		}()
	}
	// The flood queues 20 calls first, then one call of another tenant.
	for i := 0; i < 20; i++ {
		start("flood")
		waitQueued(t, s, i+1)
	}
	start("quiet")
	waitQueued(t, s, 21)
	release()
	var got []string
	for i := 0; i < 21; i++ {
		got = append(got, <-order)
	}
	pos := -1
	for i, ns := range got {
		if ns == "quiet" {
			pos = i
		}
	}
	if pos < 0 || pos > 1 {
		t.Fatalf("the quiet tenant was served at position %d of %v; want within the first two", pos, got)
	}
}

func TestStrategyByName(t *testing.T) {
	for _, name := range []string{"", "hashing", "round-robin", "least-loaded"} {
		if _, err := StrategyByName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := StrategyByName("magic"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

// waitQueued polls until n calls wait for capacity.
func waitQueued(t *testing.T, s *Scheduler, n int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		if got := s.Waiting(); got != n {
			return fmt.Errorf("%d waiting, want %d", got, n)
		}
		return nil
	})
}
