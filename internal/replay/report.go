package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteTable writes the rows as hearth sim's table with a source column,
// each policy's live row, its simulated row, and their difference (live −
// sim; cold_total also as a share of the simulator's), then what the run
// says about the calls' schedule and the minutes that disagreed.
func WriteTable(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("| policy | source | functions | cold_p50 | cold_p75 | cold_p90 | cold_total | invocations_total | wasted_mb_min | wasted_rel |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, r := range rep.Rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f | %.2f | %.2f | %d | %d | %s | %s |\n", r.Policy, r.Source, r.Functions,
			r.ColdP50, r.ColdP75, r.ColdP90, r.ColdTotal, r.InvocationsTotal, mbMin(r.WastedMBMin), rel(r.WastedRel))
		if r.Source != "sim" || i == 0 || rep.Rows[i-1].Source != "live" || rep.Rows[i-1].Policy != r.Policy {
			continue
		}
		l := rep.Rows[i-1]
		cold := fmt.Sprintf("%+d", l.ColdTotal-r.ColdTotal)
		if r.ColdTotal > 0 {
			cold += fmt.Sprintf(" (%+.1f %%)", 100*float64(l.ColdTotal-r.ColdTotal)/float64(r.ColdTotal))
		}
		fmt.Fprintf(&b, "| %s | live − sim | %+d | %+.2f | %+.2f | %+.2f | %s | %+d | %s | %s |\n", r.Policy, l.Functions-r.Functions,
			l.ColdP50-r.ColdP50, l.ColdP75-r.ColdP75, l.ColdP90-r.ColdP90, cold, l.InvocationsTotal-r.InvocationsTotal,
			signed(mbMin(l.WastedMBMin-r.WastedMBMin)), signed(rel(l.WastedRel-r.WastedRel)))
	}
	x := rep.Run
	fmt.Fprintf(&b, "\n%d functions (%s), minutes %d … %d at %v ms a minute; the autoscaler counted %d minutes of %d from its minute %d.\n",
		x.Functions, x.Selection, x.From, x.To, x.MinuteMs, x.AutoscalerMinutes, x.To-x.From+1, x.ControllerFrom)
	fmt.Fprintf(&b, "%d calls, %d failed; lag behind schedule p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d started after their minute.\n",
		x.Calls, x.Errors, x.LagP50Ms, x.LagP99Ms, x.LagMaxMs, x.LateCalls)
	if x.FirstError != "" {
		fmt.Fprintf(&b, "First failure: %s\n", x.FirstError)
	}
	if lo, hi, ok := runnerRange(rep.Runners); ok {
		fmt.Fprintf(&b, "Runners asked for %d … %d, ready %d … %d (per minute in the JSON's runners); %d calls refused with 429.\n",
			lo[0], hi[0], lo[1], hi[1], x.Refused)
	}
	d := x.Disagreements
	fmt.Fprintf(&b, "Live cold starts %d in %d minutes (%d beyond the first of a minute). Minutes with calls: %d cold live but warm in sim, %d warm live but cold in sim. Minutes without: %d held warm live but cold in sim, %d cold live but warm in sim. Idle instance-minutes %.1f; %d readings failed.\n",
		x.ColdCalls, x.ColdMinute, d.ExtraColdStarts, d.LiveColdSimWarm, d.LiveWarmSimCold, d.IdleLiveWarmSimCold, d.IdleLiveColdSimWarm, x.IdleInstanceMinutes, x.ScrapeFailures)
	if x.CountsChecked > 0 {
		fmt.Fprintf(&b, "The autoscaler counted %d of %d function-minutes otherwise than the calls made.\n", x.CountedOtherwise, x.CountsChecked)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mbMin(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

func rel(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "∞"
	}
	return fmt.Sprintf("%.3f", x)
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || s == "∞" {
		return s
	}
	return "+" + s
}

// MarshalJSON writes a non-finite WastedRel as null.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	if !math.IsInf(r.WastedRel, 0) && !math.IsNaN(r.WastedRel) {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		WastedRel *float64 `json:"wasted_rel"`
	}{plain: plain(r)})
}

// runnerRange is the least and most runners wanted ([0]) and ready ([1])
// over the minutes read; ok is false when none was.
func runnerRange(ms []RunnerMinute) (lo, hi [2]int, ok bool) {
	for _, m := range ms {
		if m.Wanted < 0 {
			continue
		}
		if !ok {
			lo, hi, ok = [2]int{m.Wanted, m.Ready}, [2]int{m.Wanted, m.Ready}, true
			continue
		}
		lo = [2]int{min(lo[0], m.Wanted), min(lo[1], m.Ready)}
		hi = [2]int{max(hi[0], m.Wanted), max(hi[1], m.Ready)}
	}
	return lo, hi, ok
}
