package scheduler

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// TestDecisionString keeps the hand-written formatting equal to fmt's.
func TestDecisionString(t *testing.T) {
	for _, d := range []Decision{
		{Reason: "any"},
		{Reason: "warm", Runner: &Runner{ID: "r-1"}, Load: 3, Capacity: 64, Candidates: 12, Score: 0.12345},
		{Reason: "least-loaded", Runner: &Runner{ID: ""}, Load: -1, Score: -2.5},
		{Reason: "x", Runner: &Runner{ID: "r"}, Score: math.Inf(1)},
		{Reason: "x", Runner: &Runner{ID: "r"}, Score: math.NaN()},
		{Reason: "x", Runner: &Runner{ID: "r"}, Score: 1e21},
		{Reason: "home", Runner: &Runner{ID: "r-1"}, Load: 3, Capacity: 64, Candidates: 12, Score: 0.9,
			RunnerUp: &Runner{ID: "r-22"}, RunnerUpLoad: 5, RunnerUpScore: 0.87654},
		{Reason: "p2c", Runner: &Runner{ID: "a-very-long-runner-id-0123456789abcdef"}, Score: 0.1,
			RunnerUp: &Runner{ID: "another-very-long-runner-id-0123456789abcdef"}, RunnerUpLoad: -7, RunnerUpScore: math.Inf(-1)},
		{Reason: "any", RunnerUp: &Runner{ID: "r"}}, // no runner: the reason alone
	} {
		want := d.Reason
		if d.Runner != nil {
			want = fmt.Sprintf("%s runner=%s load=%d/%d candidates=%d score=%.3f", d.Reason, d.Runner.ID, d.Load, d.Capacity, d.Candidates, d.Score)
			if d.RunnerUp != nil {
				want += fmt.Sprintf(" runner_up=%s runner_up_load=%d runner_up_score=%.3f", d.RunnerUp.ID, d.RunnerUpLoad, d.RunnerUpScore)
			}
		}
		if got := d.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// BenchmarkDecisionString: the placement is formatted once per call.
func BenchmarkDecisionString(b *testing.B) {
	for _, tc := range []struct {
		name string
		d    Decision
	}{
		{"runner", Decision{Reason: "home", Runner: &Runner{ID: "runner-7f3a"}, Load: 12, Capacity: 64, Candidates: 1000, Score: 0.98765}},
		{"runner-up", Decision{Reason: "home", Runner: &Runner{ID: "runner-7f3a"}, Load: 12, Capacity: 64, Candidates: 1000, Score: 0.98765,
			RunnerUp: &Runner{ID: "runner-0c21"}, RunnerUpLoad: 13, RunnerUpScore: 0.97531}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				_ = tc.d.String()
			}
		})
	}
}

// TestObserveLoadByGateway: a heartbeat that splits its calls by gateway
// gives the other gateways' load exactly, even when it was sent while one
// of this gateway's calls ran and arrives after that call ended; without
// the split, that call stays counted until the next heartbeat.
func TestObserveLoadByGateway(t *testing.T) {
	tab := NewTable(time.Second)
	tab.SetGateway("me")
	now := time.Now()
	tab.Observe(wire.Heartbeat{ID: "r", State: wire.StateReady, Capacity: 8, InFlight: 3,
		InFlightBy: map[string]int{"me": 1, "other": 2}}, now)
	r, ok := tab.Get("r")
	if !ok {
		t.Fatal("runner not in the table")
	}
	if got := r.Load(); got != 2 {
		t.Fatalf("load %d, want 2 (the other gateway's calls; this gateway has none in flight)", got)
	}
	tab.Observe(wire.Heartbeat{ID: "r", State: wire.StateReady, Capacity: 8, InFlight: 1}, now)
	if got := r.Load(); got != 1 {
		t.Fatalf("load %d from a runner that does not split its calls, want 1", got)
	}
	tab.Observe(wire.Heartbeat{ID: "r", State: wire.StateReady, Capacity: 8}, now)
	if got := r.Load(); got != 0 {
		t.Fatalf("load %d of an idle runner, want 0", got)
	}
}
