package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRates reads a --rates list: percentages of bare-nethttp's
// closed-loop maximum, such as "25%,50%,75%", as fractions (0.25, …), in
// the order given, each above 0 and at most MaxRateFraction.
func ParseRates(list string) ([]float64, error) {
	var out []float64
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		num, ok := strings.CutSuffix(item, "%")
		if !ok {
			return nil, fmt.Errorf("rate %q: give a percentage of bare-nethttp's maximum, such as 50%%", item)
		}
		pct, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(pct > 0 && pct <= 100*MaxRateFraction) { // also refuses NaN
			return nil, fmt.Errorf("rate %q: give a percentage above 0%% and at most %v%%", item, 100*MaxRateFraction)
		}
		for _, f := range out {
			if f == pct/100 {
				return nil, fmt.Errorf("rate %q is given twice", item)
			}
		}
		out = append(out, pct/100)
	}
	return out, nil
}
