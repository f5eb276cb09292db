package autoscaler

import (
	"math"
	"testing"
)

// TestSampleTrace replays the 200-function sample: the baselines must give
// the figures anyone gets from the benchmark page (checked against an
// independent implementation), and predictive must beat hybrid.
func TestSampleTrace(t *testing.T) {
	tr := loadSample(t)
	policies, err := ParsePolicies("fixed-10,fixed-60,hybrid,predictive")
	if err != nil {
		t.Fatal(err)
	}
	results := Replay(tr, policies)
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Policy] = r
	}

	baselines := []Result{
		{Policy: "fixed-10", Functions: 163, ColdP50: 26.76, ColdP75: 100, ColdP90: 100, ColdTotal: 1035, InvocationsTotal: 83483, WastedMBMin: 4283017, WastedRel: 1},
		{Policy: "fixed-60", Functions: 163, ColdP50: 0.51, ColdP75: 44.44, ColdP90: 100, ColdTotal: 171, InvocationsTotal: 83483, WastedMBMin: 7347755, WastedRel: 1.716},
		{Policy: "hybrid", Functions: 163, ColdP50: 0, ColdP75: 7.69, ColdP90: 33.33, ColdTotal: 120, InvocationsTotal: 83483, WastedMBMin: 8828577, WastedRel: 2.061},
	}
	for _, want := range baselines {
		got := byName[want.Policy]
		if !near(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", want.Policy, got, want)
		}
	}

	h, p := byName["hybrid"], byName["predictive"]
	t.Logf("hybrid     cold_p75 %.2f wasted_rel %.3f", h.ColdP75, h.WastedRel)
	t.Logf("predictive cold_p75 %.2f wasted_rel %.3f", p.ColdP75, p.WastedRel)
	if p.ColdP75 >= h.ColdP75 {
		t.Errorf("predictive cold_p75 %.2f is not below hybrid's %.2f", p.ColdP75, h.ColdP75)
	}
	if p.WastedRel > h.WastedRel {
		t.Errorf("predictive wasted_rel %.3f is above hybrid's %.3f", p.WastedRel, h.WastedRel)
	}
}

// TestSampleRobustness replays the sample in the splits of
// docs/autoscaler.md: the scoring window moved onto the history (minutes
// 361 … 720) and each half of the functions. Predictive must not do worse
// than hybrid on either metric in any of them, and must beat it on
// cold_p75 where the page says it does.
func TestSampleRobustness(t *testing.T) {
	tr := loadSample(t)
	splits := []struct {
		name     string
		trace    *Trace
		from, to int
		lower    bool // cold_p75 strictly lower
	}{
		{"minutes 361-720", tr, 361, 720, true},
		{"functions 1-100", &Trace{Functions: tr.Functions[:100]}, ScoreFrom, ScoreTo, true},
		{"functions 101-200", &Trace{Functions: tr.Functions[100:]}, ScoreFrom, ScoreTo, false},
	}
	for _, s := range splits {
		r := replayWindow(s.trace, []Policy{Hybrid(), Predictive()}, s.from, s.to)
		h, p := r[0], r[1]
		t.Logf("%s: hybrid %.2f / %.3f, predictive %.2f / %.3f", s.name, h.ColdP75, h.WastedRel, p.ColdP75, p.WastedRel)
		if p.ColdP75 > h.ColdP75 || s.lower && p.ColdP75 == h.ColdP75 {
			t.Errorf("%s: predictive cold_p75 %.2f, hybrid %.2f", s.name, p.ColdP75, h.ColdP75)
		}
		if p.WastedRel > h.WastedRel {
			t.Errorf("%s: predictive wasted_rel %.3f, hybrid %.3f", s.name, p.WastedRel, h.WastedRel)
		}
	}
}

// near compares results with the precision of the table: percentages to
// 0.01, wasted_rel to 0.001.
func near(got, want Result) bool {
	close := func(a, b, eps float64) bool { return math.Abs(a-b) <= eps }
	return got.Policy == want.Policy && got.Functions == want.Functions &&
		close(got.ColdP50, want.ColdP50, 0.005) && close(got.ColdP75, want.ColdP75, 0.005) && close(got.ColdP90, want.ColdP90, 0.005) &&
		got.ColdTotal == want.ColdTotal && got.InvocationsTotal == want.InvocationsTotal &&
		got.WastedMBMin == want.WastedMBMin && close(got.WastedRel, want.WastedRel, 0.0005)
}

func BenchmarkReplaySample(b *testing.B) {
	tr := loadSample(b)
	policies, err := ParsePolicies("fixed-10,fixed-60,hybrid,predictive")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Replay(tr, policies)
	}
}

func BenchmarkPolicyMinute(b *testing.B) {
	counts := every(7, 1)
	for _, p := range allPolicies() {
		b.Run(p.Name(), func(b *testing.B) {
			for b.Loop() {
				fp := p.New(FunctionInfo{MemoryMB: 128})
				for t := 1; t <= Minutes; t++ {
					fp.Warm(t)
					fp.Observe(t, counts[t-1])
				}
			}
		})
	}
}
