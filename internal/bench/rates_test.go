package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRates(t *testing.T) {
	got, err := ParseRates("25%, 50% ,75%,100%,150%")
	if err != nil || !slices.Equal(got, []float64{0.25, 0.5, 0.75, 1, 1.5}) {
		t.Fatalf("ParseRates = %v, %v", got, err)
	}
	for _, bad := range []string{"", "50", "0%", "-5%", "250%", "x%", "NaN%", "Inf%", "50%,", "50%,50%", "%"} {
		if _, err := ParseRates(bad); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("ParseRates(%q) = %v; want an error about the rate", bad, err)
		}
	}
}

// FuzzParseRates: any list is parsed or refused with an error, and what
// is parsed is within bounds.
func FuzzParseRates(f *testing.F) {
	for _, s := range []string{"25%,50%,75%", "100%", "1e1%", "0x10%", " 5 % ", "50%,50%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rates, err := ParseRates(s)
		if err != nil {
			return
		}
		if len(rates) == 0 {
			t.Fatalf("%q: no rates and no error", s)
		}
		for _, r := range rates {
			if !(r > 0 && r <= MaxRateFraction) {
				t.Fatalf("%q: rate %v out of bounds", s, r)
			}
		}
	})
}
