package autoscaler

import (
	"encoding/json"
	"math"
	"slices"
	"sync"
)

// ScoreFrom … ScoreTo is the scoring window of the benchmark: the first
// 720 minutes are history, replayed but not scored.
const (
	ScoreFrom = 721
	ScoreTo   = Minutes
)

// Result is one policy's score on a trace. Its JSON form is the one of the
// benchmark page.
type Result struct {
	Policy string `json:"policy"`
	// Functions is the number of functions scored: those with at least one
	// invocation in the scoring window, over which the cold_pct
	// percentiles are taken.
	Functions int `json:"functions"`
	// ColdP50, ColdP75 and ColdP90 are nearest-rank percentiles, across
	// the scored functions, of each function's cold starts as a
	// percentage of its invocations.
	ColdP50 float64 `json:"cold_p50"`
	ColdP75 float64 `json:"cold_p75"`
	ColdP90 float64 `json:"cold_p90"`
	// ColdTotal counts all cold starts and InvocationsTotal all
	// invocations in the window.
	ColdTotal        int `json:"cold_total"`
	InvocationsTotal int `json:"invocations_total"`
	// WastedMBMin sums, over warm minutes without invocations, the
	// function's memory in MB.
	WastedMBMin float64 `json:"wasted_mb_min"`
	// WastedRel is WastedMBMin divided by that of fixed-10 on the same
	// trace. When fixed-10 wastes nothing it is 1 if this policy wastes
	// nothing either, and +Inf (null in JSON) otherwise.
	WastedRel float64 `json:"wasted_rel"`
}

// MarshalJSON writes a non-finite WastedRel as null, which JSON can carry.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	if !math.IsInf(r.WastedRel, 0) && !math.IsNaN(r.WastedRel) {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		WastedRel *float64 `json:"wasted_rel"`
	}{plain: plain(r)})
}

// Replay replays the trace under each policy, minute by minute, and scores
// the minutes ScoreFrom … ScoreTo by the rules of the benchmark. Results
// come in the order of policies. fixed-10, the reference of WastedRel, is
// replayed as well when it is not among them.
func Replay(trace *Trace, policies []Policy) []Result {
	return replayWindow(trace, policies, ScoreFrom, ScoreTo)
}

// ReplayWindow is Replay scoring the minutes from … to (1-based) instead
// of ScoreFrom … ScoreTo. A function's Counts may be longer than Minutes:
// each is driven over all of its minutes, as a live controller would be
// on its own count of minutes.
func ReplayWindow(trace *Trace, policies []Policy, from, to int) []Result {
	return replayWindow(trace, policies, from, to)
}

// replayWindow is Replay scoring the minutes from … to. Each policy is
// replayed in its own goroutine; the results do not depend on it.
func replayWindow(trace *Trace, policies []Policy, from, to int) []Result {
	refAt := slices.IndexFunc(policies, func(p Policy) bool { return p == FixedK(10) })
	all := policies
	if refAt < 0 {
		all = append(slices.Clip(policies), FixedK(10))
		refAt = len(all) - 1
	}
	results := make([]Result, len(all))
	var wg sync.WaitGroup
	for i, p := range all {
		wg.Go(func() { results[i] = score(trace, p, from, to) })
	}
	wg.Wait()
	ref := results[refAt].WastedMBMin
	results = results[:len(policies)]
	for i := range results {
		results[i].WastedRel = relative(results[i].WastedMBMin, ref)
	}
	return results
}

func relative(x, ref float64) float64 {
	switch {
	case ref > 0:
		return x / ref
	case x == 0:
		return 1
	default:
		return math.Inf(1)
	}
}

// functionScore is one function's outcome in the scoring window.
type functionScore struct {
	cold, invocations, wastedMinutes int
}

// Outcome is one function's outcome over a scored window, however it was
// obtained: a replay, or calls made to a running platform.
type Outcome struct {
	Cold        int     // cold starts
	Invocations int     // invocations
	WastedMBMin float64 // warm MB-minutes without invocations
}

// Summarize scores outcomes by the benchmark's rules: percentiles of
// cold starts as a share of invocations across the functions with any,
// the totals, and WastedRel relative to ref (WastedMBMin of fixed-10 on
// the same functions and minutes; see Result.WastedRel for ref 0).
func Summarize(policy string, outcomes []Outcome, ref float64) Result {
	r := Result{Policy: policy}
	pcts := make([]float64, 0, len(outcomes))
	for _, o := range outcomes {
		r.ColdTotal += o.Cold
		r.InvocationsTotal += o.Invocations
		r.WastedMBMin += o.WastedMBMin
		if o.Invocations > 0 {
			pcts = append(pcts, 100*float64(o.Cold)/float64(o.Invocations))
		}
	}
	slices.Sort(pcts)
	r.Functions = len(pcts)
	r.ColdP50 = nearestRank(pcts, 50)
	r.ColdP75 = nearestRank(pcts, 75)
	r.ColdP90 = nearestRank(pcts, 90)
	r.WastedRel = relative(r.WastedMBMin, ref)
	return r
}

// replayFunction drives one function's policy over the whole day and
// counts the outcome in minutes from … to.
func replayFunction(f *Function, fp FunctionPolicy, from, to int) functionScore {
	var s functionScore
	for t := 1; t <= len(f.Counts); t++ {
		warm := fp.Warm(t)
		n := f.Counts[t-1]
		fp.Observe(t, n)
		if t < from || t > to {
			continue
		}
		switch {
		case n > 0 && !warm:
			s.cold++
		case n == 0 && warm:
			s.wastedMinutes++
		}
		s.invocations += n
	}
	return s
}

// score replays every function of the trace under p; WastedRel is left 0.
func score(trace *Trace, p Policy, from, to int) Result {
	outcomes := make([]Outcome, len(trace.Functions))
	for i := range trace.Functions {
		f := &trace.Functions[i]
		s := replayFunction(f, p.New(f.Info()), from, to)
		outcomes[i] = Outcome{Cold: s.cold, Invocations: s.invocations, WastedMBMin: float64(s.wastedMinutes) * f.MemoryMB}
	}
	r := Summarize(p.Name(), outcomes, 0)
	r.WastedRel = 0
	return r
}

// nearestRank is the p-th percentile (0 < p ≤ 100) of ascending values by
// the nearest-rank method: the value at 1-based rank ⌈p·n/100⌉; 0 when
// there are no values.
func nearestRank(sorted []float64, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := min(max((p*len(sorted)+99)/100, 1), len(sorted))
	return sorted[rank-1]
}
