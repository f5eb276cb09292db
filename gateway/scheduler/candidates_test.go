package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// loads makes a table of ready runners with capacity 100 and the given
// loads (from other gateways) and idle warm instances of module "w".
func loads(t *testing.T, runners map[string]struct{ load, idle int }) *Table {
	t.Helper()
	tb := NewTable(time.Second)
	for id, r := range runners {
		hb := wire.Heartbeat{ID: id, State: wire.StateReady, Capacity: 100, InFlight: r.load}
		if r.idle > 0 {
			hb.Warm = []wire.WarmModule{{Digest: "w", Idle: r.idle}}
		}
		tb.Observe(hb, t0)
	}
	return tb
}

// TestWarmTieBreak: among runners with an idle warm instance, the least
// loaded wins, and between equal loads the lower id — every time, although
// the warm index is a map visited in a different order each time.
func TestWarmTieBreak(t *testing.T) {
	runners := map[string]struct{ load, idle int }{
		"r02": {load: 3, idle: 1},
		"r05": {load: 2, idle: 1},
		"r08": {load: 0}, // idle but nothing warm
		"r11": {load: 2, idle: 4},
		"r17": {load: 2, idle: 1},
	}
	for i := 0; i < 20; i++ {
		runners[fmt.Sprintf("x%02d", i)] = struct{ load, idle int }{load: 1}
	}
	tb := loads(t, runners)
	s := New(tb, Config{})
	for i := 0; i < 100; i++ {
		d, err := s.Place(Request{Digest: "w"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d.Reason != "warm" || d.Runner.ID != "r05" || d.RunnerUp == nil || d.RunnerUp.ID != "r11" {
			t.Fatalf("placement %v; want warm on r05 (load 2, lowest id), runner-up r11", d)
		}
	}
	// r05 gets busier: r11 and r17 now tie at the least load.
	tb.Observe(wire.Heartbeat{ID: "r05", State: wire.StateReady, Capacity: 100, InFlight: 3, Warm: []wire.WarmModule{{Digest: "w", Idle: 1}}}, t0)
	for i := 0; i < 100; i++ {
		if d, _ := s.Place(Request{Digest: "w"}, nil); d.Runner.ID != "r11" || d.RunnerUp.ID != "r17" {
			t.Fatalf("placement %v; want warm on r11, runner-up r17", d)
		}
	}
	// The least-loaded strategy orders runners the same way.
	ll := New(tb, Config{Strategy: LeastLoaded{}})
	if d, _ := ll.Place(Request{Digest: "w"}, nil); d.Runner.ID != "r08" || d.RunnerUp.ID != "x00" {
		t.Fatalf("least-loaded placement %v; want r08 (load 0), runner-up x00 (load 1, lowest id)", d)
	}
}

// TestWarmIsACandidate: a warm instance wins only on a runner that passed
// the filter; otherwise the call goes home.
func TestWarmIsACandidate(t *testing.T) {
	tb := NewTable(time.Second)
	warm := []wire.WarmModule{{Digest: "w", Idle: 1}}
	for _, hb := range []wire.Heartbeat{
		{ID: "r00", State: wire.StateDraining, Capacity: 4, Warm: warm},
		{ID: "r01", State: wire.StateReady, Capacity: 4, InFlight: 4, Warm: warm},
		{ID: "r02", State: wire.StateReady, Capacity: 4, Warm: warm}, // excluded below
		{ID: "r03", State: wire.StateReady, Capacity: 4, InFlight: 3, Warm: warm},
		{ID: "r04", State: wire.StateReady, Capacity: 4},
	} {
		tb.Observe(hb, t0)
	}
	s := New(tb, Config{})
	d, err := s.Place(Request{Digest: "w"}, []string{"r02"})
	if err != nil || d.Reason != "warm" || d.Runner.ID != "r03" || d.RunnerUp != nil || d.Candidates != 2 {
		t.Fatalf("placement %v %v; want warm on r03, the only feasible warm runner, of 2 candidates", d, err)
	}
	d, err = s.Place(Request{Digest: "w"}, []string{"r02", "r03"})
	if err != nil || d.Reason != "home" || d.Runner.ID != "r04" {
		t.Fatalf("placement %v %v; want home on r04 with no feasible warm runner", d, err)
	}
}
