package autoscaler

import (
	"context"
	"testing"
)

func TestNeedRunners(t *testing.T) {
	for _, tt := range []struct {
		name   string
		need   Need
		slots  int
		target float64
		want   int
	}{
		{"nothing needs no runner", Need{}, 16, 0.7, 0},
		{"one call, one runner", Need{Calls: 1, MemoryMB: 128}, 16, 0.7, 1},
		{"calls at 70 %", Need{Calls: 12, MemoryMB: 12 * 128}, 16, 0.7, 2},
		{"calls just fit", Need{Calls: 11.2, MemoryMB: 128}, 16, 0.7, 1},
		{"memory binds: big idle instances", Need{Calls: 1, MemoryMB: 8 * 1024}, 16, 0.7, 6},
		{"memory of warm instances only", Need{MemoryMB: 128}, 16, 0.7, 1},
		{"slots unknown: one runner to learn them", Need{Calls: 40}, 0, 0.7, 1},
		{"bad target counts as 1", Need{Calls: 32}, 16, 1.5, 2},
		{"zero target counts as 1", Need{Calls: 32}, 16, 0, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.need.Runners(tt.slots, tt.target); got != tt.want {
				t.Errorf("%+v.Runners(%d, %v) = %d, want %d", tt.need, tt.slots, tt.target, got, tt.want)
			}
		})
	}
}

func TestNeedAdd(t *testing.T) {
	var n Need
	n.Add(Demand{Calls: 3, Instances: 4, MemoryMB: 128})
	n.Add(Demand{Calls: 0, Instances: 1, MemoryMB: 512})
	if n.Calls != 3 || n.MemoryMB != 4*128+512 {
		t.Fatalf("need %+v, want 3 calls and %d MB", n, 4*128+512)
	}
}

// TestHysteresis: a rise passes at once, a fall once it has lasted hold
// reports.
func TestHysteresis(t *testing.T) {
	h := hysteresis{hold: 3}
	for i, step := range []struct{ want, got int }{
		{1, 1}, {4, 4}, // up at once
		{2, 4}, {2, 4}, // the fall has not lasted 3 reports
		{2, 2},         // now it has
		{0, 2}, {3, 3}, // a new rise cuts the fall short
		{0, 3}, {0, 3}, {0, 0},
	} {
		if got := h.next(step.want); got != step.got {
			t.Fatalf("report %d: next(%d) = %d, want %d", i, step.want, got, step.got)
		}
	}
	// hold 0 passes everything at once.
	h = hysteresis{}
	if h.next(5) != 5 || h.next(1) != 1 {
		t.Fatal("a hold of 0 delays a fall")
	}
}

// TestControllerAhead: a function counts as expected while the policy
// keeps it warm and within the lead minutes before the policy turns warm
// again, not before; asking ahead does not change what the policy decides.
func TestControllerAhead(t *testing.T) {
	ctx := context.Background()
	fn := FunctionKey{Namespace: "default", Name: "timer"}
	// Hybrid learns a period of 10 minutes from 10 idle times: warm
	// from 9 to 11 minutes after a call.
	// twin is driven alike but never asked ahead.
	c := NewController(Hybrid(), &recordingWarmer{}, nil)
	twin := NewController(Hybrid(), &recordingWarmer{}, nil)
	last := 0
	for m := 1; m <= 101; m++ {
		if m%10 == 1 {
			c.Record(fn, 5)
			twin.Record(fn, 5)
			last = m
		}
		c.Ahead(3)
		c.Tick(ctx)
		twin.Tick(ctx)
	}
	if last != 101 {
		t.Fatalf("last call in minute %d", last)
	}
	// The minute in progress is 102, a minute after the last call.
	for d := 1; d <= 12; d++ {
		ahead := c.Ahead(1)[fn]
		// Warm from last+9: ahead (lead 1) from last+8, to last+11.
		want := d >= 8 && d <= 11
		if ahead != want {
			t.Errorf("%d minutes after the call: Ahead(1) = %v, want %v", d, ahead, want)
		}
		if noLead := c.Ahead(0)[fn]; noLead != (d >= 9 && d <= 11) {
			t.Errorf("%d minutes after the call: Ahead(0) = %v", d, noLead)
		}
		got, alone := c.Tick(ctx), twin.Tick(ctx)
		if len(got) != len(alone) || (len(got) == 1 && got[0].Warm != alone[0].Warm) {
			t.Errorf("%d minutes after the call: decisions %+v, without asking ahead %+v", d, got, alone)
		}
	}
}
