package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// TestFilter: the feasibility step keeps the runners that are ready, below
// their capacity and not excluded, in id order.
func TestFilter(t *testing.T) {
	tb := NewTable(time.Second)
	for _, hb := range []wire.Heartbeat{
		{ID: "r05", State: wire.StateReady, Capacity: 2, InFlight: 1},    // room for one more
		{ID: "r01", State: wire.StateReady, Capacity: 2},                 // idle
		{ID: "r02", State: wire.StateDraining, Capacity: 2},              // draining
		{ID: "r03", State: wire.StateReady, Capacity: 2, InFlight: 2},    // full
		{ID: "r04", State: wire.StateReady, Capacity: 0},                 // takes nothing
		{ID: "r06", State: wire.StateReady, Capacity: 4},                 // excluded below
		{ID: "r07", State: wire.StateReady, Capacity: 1},                 // full with this gateway's call
		{ID: "r00", State: wire.StateReady, Capacity: 8, InFlight: 7},    // room for one more
		{ID: "r08", State: wire.StateStopped, Capacity: 8},               // never listed
		{ID: "r09", State: wire.StateReady, Capacity: 3, InFlight: 9000}, // over capacity
	} {
		tb.Observe(hb, t0)
	}
	r07, _ := tb.Get("r07")
	r07.inflight.Add(1)

	c := filter(tb, tb.Runners(), Request{Digest: "d"}, []string{"r06"}, nil)
	var got []string
	for _, r := range c.Runners() {
		got = append(got, r.ID)
	}
	if want := []string{"r00", "r01", "r05"}; !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	if c.Len() != 3 || c.Request().Digest != "d" {
		t.Fatalf("candidates Len %d, Request %+v", c.Len(), c.Request())
	}
}
