package scheduler

import (
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/wire"
)

// TestRunnerUp: each decision records the strategy's second choice; for a
// warm or least-loaded choice, the runner-up is where the call goes when
// the winner is excluded (as on failover).
func TestRunnerUp(t *testing.T) {
	type runner = struct{ load, idle int }
	for _, tc := range []struct {
		name            string
		strategy        Strategy
		runners         map[string]runner
		reason, winner  string
		up              string // "" when the strategy has no runner-up
		upLoad          int
		upTakesOnRetry  bool // excluding the winner places the call on the runner-up
		upReasonOnRetry string
	}{
		{
			name: "warm", strategy: NewHashing(1.25),
			runners: map[string]runner{"r00": {load: 2}, "r01": {load: 1, idle: 1}, "r02": {load: 3, idle: 2}, "r03": {}},
			reason:  "warm", winner: "r01", up: "r02", upLoad: 3,
			upTakesOnRetry: true, upReasonOnRetry: "warm",
		},
		{
			name: "warm alone", strategy: NewHashing(1.25),
			runners: map[string]runner{"r00": {}, "r01": {idle: 1}},
			reason:  "warm", winner: "r01",
		},
		{
			name: "least-loaded", strategy: LeastLoaded{},
			runners: map[string]runner{"r00": {load: 3}, "r01": {load: 1}, "r02": {load: 2}, "r03": {load: 1}},
			reason:  "least-loaded", winner: "r01", up: "r03", upLoad: 1,
			upTakesOnRetry: true, upReasonOnRetry: "least-loaded",
		},
		{
			name: "hashing over the bound", strategy: NewHashing(0), // bound 1: every runner with a call is over it
			runners: map[string]runner{"r00": {load: 2}, "r01": {load: 1}, "r02": {load: 1}},
			reason:  "least-loaded", winner: "r01", up: "r02", upLoad: 1,
			upTakesOnRetry: true, upReasonOnRetry: "least-loaded",
		},
		{
			name: "round-robin", strategy: &RoundRobin{},
			runners: map[string]runner{"r00": {}, "r01": {}},
			reason:  "round-robin", winner: "r00",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := loads(t, tc.runners)
			s := New(tb, Config{Strategy: tc.strategy})
			d, err := s.Place(Request{Digest: "w"}, nil)
			if err != nil || d.Reason != tc.reason || d.Runner.ID != tc.winner {
				t.Fatalf("placement %v %v; want %s on %s", d, err, tc.reason, tc.winner)
			}
			if tc.up == "" {
				if d.RunnerUp != nil || strings.Contains(d.String(), "runner_up=") {
					t.Fatalf("placement %v has a runner-up; want none", d)
				}
				return
			}
			if d.RunnerUp == nil || d.RunnerUp.ID != tc.up || d.RunnerUpLoad != tc.upLoad {
				t.Fatalf("placement %v; want runner-up %s with load %d", d, tc.up, tc.upLoad)
			}
			if !strings.Contains(d.String(), " runner_up="+tc.up+" ") {
				t.Fatalf("String() = %q does not show the runner-up %s", d, tc.up)
			}
			if tc.upTakesOnRetry {
				retry, err := s.Place(Request{Digest: "w"}, []string{tc.winner})
				if err != nil || retry.Runner.ID != tc.up || retry.Reason != tc.upReasonOnRetry {
					t.Fatalf("with %s excluded: %v %v; want %s on the runner-up %s", tc.winner, retry, err, tc.upReasonOnRetry, tc.up)
				}
			}
		})
	}
}

// TestHashingRunnerUp: a home decision's runner-up is the next home
// runner, the one the call goes to when the home runner is excluded; when
// that runner is less loaded it wins (p2c) and the home runner it beat is
// the runner-up, with the higher score.
func TestHashingRunnerUp(t *testing.T) {
	tb := table(10, 100)
	s := New(tb, Config{})
	d, err := s.Place(Request{Digest: "aaa"}, nil)
	if err != nil || d.Reason != "home" || d.RunnerUp == nil || d.RunnerUp == d.Runner {
		t.Fatalf("placement %v %v; want home with another runner as runner-up", d, err)
	}
	if d.RunnerUpScore >= d.Score {
		t.Fatalf("placement %v: the runner-up scored %.3f, not below the home runner's %.3f", d, d.RunnerUpScore, d.Score)
	}
	home, next := d.Runner.ID, d.RunnerUp.ID
	retry, err := s.Place(Request{Digest: "aaa"}, []string{home})
	if err != nil || retry.Reason != "home" || retry.Runner.ID != next {
		t.Fatalf("with %s excluded: %v %v; want home on the runner-up %s", home, retry, err, next)
	}

	// Every runner has 4 calls, the home runner 5: still within the bound
	// (⌊1.25 × 42 / 10⌋ + 1 = 6), but the next home runner is less loaded.
	for _, r := range tb.Runners() {
		load := 4
		if r.ID == home {
			load = 5
		}
		tb.Observe(wire.Heartbeat{ID: r.ID, State: wire.StateReady, Capacity: 100, InFlight: load}, t0)
	}
	d, err = s.Place(Request{Digest: "aaa"}, nil)
	if err != nil || d.Reason != "p2c" || d.Runner.ID != next || d.RunnerUp == nil || d.RunnerUp.ID != home {
		t.Fatalf("placement %v %v; want p2c on %s with the home runner %s as runner-up", d, err, next, home)
	}
	if d.Load != 4 || d.RunnerUpLoad != 5 || d.RunnerUpScore <= d.Score {
		t.Fatalf("placement %v: want load 4 against the runner-up's 5, and the runner-up's score above", d)
	}
}
