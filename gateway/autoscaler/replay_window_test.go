package autoscaler

import "testing"

// TestReplayWindow scores a window of a trace longer than a day, as a
// live controller counts its minutes, and Summarize gives the same figures
// from the functions' outcomes.
func TestReplayWindow(t *testing.T) {
	counts := make([]int, 2000)
	for _, m := range []int{1500, 1503, 1520} { // idle times 3 and 17
		counts[m-1] = 2
	}
	tr := &Trace{Functions: []Function{{Name: "f", MemoryMB: 100, Counts: counts}, {Name: "idle", MemoryMB: 100, Counts: make([]int, 2000)}}}
	got := ReplayWindow(tr, []Policy{FixedK(5)}, 1500, 1600)
	// fixed-5: warm 1501 … 1508 (1503 renews), cold at 1500 and 1520,
	// then 1521 … 1525 warm; 6 + 5 wasted minutes of 100 MB.
	want := Result{Policy: "fixed-5", Functions: 1, ColdP50: 100 * 2.0 / 6, ColdP75: 100 * 2.0 / 6, ColdP90: 100 * 2.0 / 6,
		ColdTotal: 2, InvocationsTotal: 6, WastedMBMin: 1200}
	// fixed-10 wastes 2 + 10 + 10 minutes over the same window.
	want.WastedRel = 1200.0 / 2200
	if len(got) != 1 || got[0] != want {
		t.Fatalf("ReplayWindow = %+v\nwant %+v", got, want)
	}
	sum := Summarize("fixed-5", []Outcome{{Cold: 2, Invocations: 6, WastedMBMin: 1200}, {}}, 2200)
	if sum != want {
		t.Fatalf("Summarize = %+v\nwant %+v", sum, want)
	}
}
