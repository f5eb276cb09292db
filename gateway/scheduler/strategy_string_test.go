package scheduler

import (
	"fmt"
	"math"
	"testing"
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
	} {
		want := d.Reason
		if d.Runner != nil {
			want = fmt.Sprintf("%s runner=%s load=%d/%d candidates=%d score=%.3f", d.Reason, d.Runner.ID, d.Load, d.Capacity, d.Candidates, d.Score)
		}
		if got := d.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
