package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// TestJoinHoldsARunnerBack: a runner that joins while others are ready
// takes no calls until OnJoin admits it; the first runner of an empty
// table, and runners that were up before they were first seen, are placed
// at once.
func TestJoinHoldsARunnerBack(t *testing.T) {
	tb := NewTable(time.Second)
	joined := make(chan func(), 4)
	var joiners []string
	tb.OnJoin = func(r *Runner, admit func()) {
		joiners = append(joiners, r.ID)
		joined <- admit
	}
	// Runners up for an hour when first seen: the cluster as this gateway
	// found it. (Heartbeat times are the runners' own; started an hour
	// before them.)
	beat := func(id string, at, started time.Time) {
		tb.Observe(wire.Heartbeat{ID: id, State: wire.StateReady, Capacity: 100, Started: started, Time: at}, at)
	}
	beat("a", t0, t0.Add(-time.Hour))
	beat("b", t0.Add(time.Second), t0.Add(-time.Hour))
	beat("old", t0.Add(time.Second), time.Time{}) // a runner that does not say when it started
	if len(joined) != 0 {
		t.Fatalf("runners that were up before were held back: %v", joiners)
	}
	beat("c", t0.Add(5*time.Second), t0.Add(4*time.Second)) // joins a cluster in service
	var admit func()
	select {
	case admit = <-joined:
	case <-time.After(10 * time.Second):
		t.Fatal("OnJoin was not called for a runner that joined")
	}
	c, _ := tb.Get("c")
	if !c.Joining() {
		t.Fatal("the joined runner is not held back")
	}
	s := New(tb, Config{})
	for i := range 300 {
		d, err := s.Place(Request{Digest: fmt.Sprintf("m%d", i)}, nil)
		if err != nil || d.Runner.ID == "c" {
			t.Fatalf("placement %d: %v %v while c warms", i, d, err)
		}
	}
	// Its next heartbeats do not call OnJoin again.
	beat("c", t0.Add(6*time.Second), t0.Add(4*time.Second))
	if len(joined) != 0 {
		t.Fatal("OnJoin called twice for one runner")
	}
	admit()
	if c.Joining() {
		t.Fatal("still held back after admit")
	}
	took := false
	for i := range 300 {
		if d, _ := s.Place(Request{Digest: fmt.Sprintf("m%d", i)}, nil); d.Runner != nil && d.Runner.ID == "c" {
			took = true
			break
		}
	}
	if !took {
		t.Fatal("the admitted runner is home of none of 300 modules")
	}
	for _, info := range tb.Infos() {
		if info.Joining {
			t.Fatalf("%s listed as joining after admit", info.ID)
		}
	}

	// The first runner of an empty table is not held back: nothing else
	// could take the calls.
	empty := NewTable(time.Second)
	empty.OnJoin = func(r *Runner, admit func()) { t.Errorf("OnJoin for %s, the only runner", r.ID); admit() }
	empty.Observe(wire.Heartbeat{ID: "only", State: wire.StateReady, Capacity: 1, Started: t0, Time: t0}, t0)
	if d, err := New(empty, Config{}).Place(Request{Digest: "x"}, nil); err != nil || d.Runner.ID != "only" {
		t.Fatalf("the only runner: %v %v", d, err)
	}
}

func TestHashingHomeIsWherePlacementGoes(t *testing.T) {
	tb := table(5, 100)
	s := New(tb, Config{})
	h := s.Strategy().(*Hashing)
	for i := range 50 {
		digest := fmt.Sprintf("m%d", i)
		d, err := s.Place(Request{Digest: digest}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if home := h.Home(digest, tb.Runners()); home != d.Runner {
			t.Fatalf("%s: Home %s, placed on %s (%s)", digest, home.ID, d.Runner.ID, d.Reason)
		}
	}
	if h.Home("x", nil) != nil {
		t.Fatal("a home among no runners")
	}
}
