package autoscaler

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestNearestRank(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		sorted []float64
		p      int
		want   float64
	}{
		{nil, 50, 0},
		{[]float64{7}, 50, 7},
		{[]float64{7}, 90, 7},
		{[]float64{1, 2, 3, 4}, 50, 2}, // rank ⌈2⌉
		{[]float64{1, 2, 3, 4}, 75, 3}, // rank ⌈3⌉
		{[]float64{1, 2, 3, 4}, 90, 4}, // rank ⌈3.6⌉
		{ten, 5, 1},                    // rank ⌈0.5⌉
		{ten, 50, 5},
		{ten, 75, 8}, // rank ⌈7.5⌉
		{ten, 90, 9},
		{ten, 99, 10},
		{ten, 100, 10},
	}
	for _, tt := range tests {
		if got := nearestRank(tt.sorted, tt.p); got != tt.want {
			t.Errorf("p%d of %v = %v, want %v", tt.p, tt.sorted, got, tt.want)
		}
	}
	// 163 scored functions: p50, p75 and p90 are ranks 82, 123 and 147.
	var many []float64
	for i := 1; i <= 163; i++ {
		many = append(many, float64(i))
	}
	for p, rank := range map[int]float64{50: 82, 75: 123, 90: 147} {
		if got := nearestRank(many, p); got != rank {
			t.Errorf("p%d of 163 values is rank %v, want %v", p, got, rank)
		}
	}
}

func TestReplaySmallTraces(t *testing.T) {
	burst := at(800, 801, 802, 803)
	burst[800] = 9 // minute 801

	tests := []struct {
		name   string
		counts []int
		want   map[string]Result // by policy; WastedRel compared to 1e-9
	}{{
		name:   "silence",
		counts: make([]int, Minutes),
		want: map[string]Result{
			"fixed-10":   {WastedRel: 1},
			"fixed-60":   {WastedRel: 1},
			"hybrid":     {WastedRel: 1},
			"predictive": {WastedRel: 1},
		},
	}, {
		// Ticks at 722, 729, …, 1436 in the window: 103 invocations and
		// 617 idle minutes.
		name:   "timer every 7 minutes",
		counts: every(7, 1),
		want: map[string]Result{
			"fixed-10":   {Functions: 1, InvocationsTotal: 103, WastedMBMin: 61700, WastedRel: 1},
			"fixed-60":   {Functions: 1, InvocationsTotal: 103, WastedMBMin: 61700, WastedRel: 1},
			"hybrid":     {Functions: 1, InvocationsTotal: 103, WastedMBMin: 10300, WastedRel: 10300.0 / 61700},
			"predictive": {Functions: 1, InvocationsTotal: 103, WastedMBMin: 0, WastedRel: 0},
		},
	}, {
		// 12 invocations in four minutes: the first is cold (8.33 %).
		name:   "single burst",
		counts: burst,
		want: map[string]Result{
			"fixed-10":   {Functions: 1, ColdP50: 100.0 / 12, ColdP75: 100.0 / 12, ColdP90: 100.0 / 12, ColdTotal: 1, InvocationsTotal: 12, WastedMBMin: 1000, WastedRel: 1},
			"fixed-60":   {Functions: 1, ColdP50: 100.0 / 12, ColdP75: 100.0 / 12, ColdP90: 100.0 / 12, ColdTotal: 1, InvocationsTotal: 12, WastedMBMin: 6000, WastedRel: 6},
			"hybrid":     {Functions: 1, ColdP50: 100.0 / 12, ColdP75: 100.0 / 12, ColdP90: 100.0 / 12, ColdTotal: 1, InvocationsTotal: 12, WastedMBMin: 24000, WastedRel: 24},
			"predictive": {Functions: 1, ColdP50: 100.0 / 12, ColdP75: 100.0 / 12, ColdP90: 100.0 / 12, ColdTotal: 1, InvocationsTotal: 12, WastedMBMin: 24000, WastedRel: 24},
		},
	}, {
		// History only: nobody is scored, but fixed-60 and longer keep
		// the function warm into the window while fixed-10 does not.
		name:   "invoked in the history only",
		counts: at(700),
		want: map[string]Result{
			"fixed-10":   {WastedRel: 1},
			"fixed-60":   {WastedMBMin: 4000, WastedRel: math.Inf(1)},
			"hybrid":     {WastedMBMin: 22000, WastedRel: math.Inf(1)},
			"predictive": {WastedMBMin: 22000, WastedRel: math.Inf(1)},
		},
	}, {
		// The invocation of minute 720 warms minute 721 (fixed-10 …).
		name:   "window edge",
		counts: at(720, 721),
		want: map[string]Result{
			"fixed-10":   {Functions: 1, InvocationsTotal: 1, WastedMBMin: 1000, WastedRel: 1},
			"fixed-60":   {Functions: 1, InvocationsTotal: 1, WastedMBMin: 6000, WastedRel: 6},
			"hybrid":     {Functions: 1, InvocationsTotal: 1, WastedMBMin: 24000, WastedRel: 24},
			"predictive": {Functions: 1, InvocationsTotal: 1, WastedMBMin: 24000, WastedRel: 24},
		},
	}}
	policies, err := ParsePolicies("fixed-10,fixed-60,hybrid,predictive")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, got := range Replay(trace(tt.counts), policies) {
				want := tt.want[got.Policy]
				want.Policy = got.Policy
				if got.WastedRel != want.WastedRel && math.Abs(got.WastedRel-want.WastedRel) > 1e-9 {
					t.Errorf("%s: wasted_rel %v, want %v", got.Policy, got.WastedRel, want.WastedRel)
				}
				got.WastedRel, want.WastedRel = 0, 0
				if got != want {
					t.Errorf("%s:\n got %+v\nwant %+v", got.Policy, got, want)
				}
			}
		})
	}
}

func TestReplayWastedRelAgainstFixed10(t *testing.T) {
	tr := trace(every(13, 5), at(800, 900, 1000), every(1, 1))
	alone := Replay(tr, []Policy{Hybrid()})
	with := Replay(tr, []Policy{FixedK(10), Hybrid()})
	if len(alone) != 1 || len(with) != 2 {
		t.Fatalf("got %d and %d results, want 1 and 2", len(alone), len(with))
	}
	if with[0].WastedRel != 1 {
		t.Errorf("fixed-10 wasted_rel %v, want 1", with[0].WastedRel)
	}
	if alone[0] != with[1] {
		t.Errorf("hybrid alone %+v, beside fixed-10 %+v", alone[0], with[1])
	}
}

// spy checks the order in which the replay drives a FunctionPolicy.
type spy struct {
	t     *testing.T
	next  int  // the minute expected next
	asked bool // Warm(next) was called
}

func (s *spy) Name() string                    { return "spy" }
func (s *spy) New(FunctionInfo) FunctionPolicy { return &spy{t: s.t, next: 1} }

func (s *spy) Warm(t int) bool {
	if t != s.next || s.asked {
		s.t.Fatalf("Warm(%d) called when minute %d is next (asked: %v)", t, s.next, s.asked)
	}
	s.asked = true
	return false
}

func (s *spy) Observe(t, count int) {
	if t != s.next || !s.asked {
		s.t.Fatalf("Observe(%d) called before Warm(%d)", t, s.next)
	}
	s.next, s.asked = t+1, false
}

func TestReplayDrivesWarmBeforeObserve(t *testing.T) {
	Replay(trace(every(3, 1), make([]int, Minutes)), []Policy{&spy{t: t}})
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(Result{Policy: "hybrid", Functions: 3, ColdP50: 1.5, ColdP75: 2, ColdP90: 3, ColdTotal: 4, InvocationsTotal: 5, WastedMBMin: 6, WastedRel: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"policy":"hybrid","functions":3,"cold_p50":1.5,"cold_p75":2,"cold_p90":3,"cold_total":4,"invocations_total":5,"wasted_mb_min":6,"wasted_rel":0.5}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, err = json.Marshal(Result{Policy: "fixed-60", WastedMBMin: 6, WastedRel: math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), `"wasted_mb_min":6,"wasted_rel":null}`) {
		t.Errorf("infinite wasted_rel encoded as %s", b)
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	err := WriteTable(&b, []Result{
		{Policy: "fixed-10", Functions: 163, ColdP50: 26.760563380281692, ColdP75: 100, ColdP90: 100, ColdTotal: 1035, InvocationsTotal: 83483, WastedMBMin: 4283017, WastedRel: 1},
		{Policy: "hybrid", Functions: 163, ColdP75: 7.6923076923076925, ColdP90: 33.333333333333336, ColdTotal: 120, InvocationsTotal: 83483, WastedMBMin: 8828577.5, WastedRel: 2.0612986126368398},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `| policy | functions | cold_p50 | cold_p75 | cold_p90 | cold_total | invocations_total | wasted_mb_min | wasted_rel |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| fixed-10 | 163 | 26.76 | 100.00 | 100.00 | 1035 | 83483 | 4283017 | 1.000 |
| hybrid | 163 | 0.00 | 7.69 | 33.33 | 120 | 83483 | 8828577.5 | 2.061 |
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
