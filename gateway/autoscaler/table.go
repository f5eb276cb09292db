package autoscaler

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteTable writes results as a markdown table, one row per result, with
// the columns of the benchmark's JSON form.
func WriteTable(w io.Writer, results []Result) error {
	var b strings.Builder
	b.WriteString("| policy | functions | cold_p50 | cold_p75 | cold_p90 | cold_total | invocations_total | wasted_mb_min | wasted_rel |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f | %.2f | %d | %d | %s | %.3f |\n",
			r.Policy, r.Functions, r.ColdP50, r.ColdP75, r.ColdP90, r.ColdTotal, r.InvocationsTotal,
			strconv.FormatFloat(r.WastedMBMin, 'f', -1, 64), r.WastedRel)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
