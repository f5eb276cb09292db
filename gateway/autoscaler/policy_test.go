package autoscaler

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParsePolicies(t *testing.T) {
	tests := []struct {
		list string
		want []string
	}{
		{"fixed-10,fixed-60,hybrid,predictive", []string{"fixed-10", "fixed-60", "hybrid", "predictive"}},
		{"predictive, hybrid", []string{"predictive", "hybrid"}},
		{"fixed-1", []string{"fixed-1"}},
		{"fixed-007", []string{"fixed-7"}},
		{"fixed-1440,fixed-100000", []string{"fixed-1440", "fixed-100000"}},
	}
	for _, tt := range tests {
		ps, err := ParsePolicies(tt.list)
		if err != nil {
			t.Errorf("ParsePolicies(%q): %v", tt.list, err)
			continue
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name())
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("ParsePolicies(%q) = %v, want %v", tt.list, names, tt.want)
		}
	}
}

func TestParsePoliciesErrors(t *testing.T) {
	tests := []struct {
		list    string
		unknown bool // the error wraps ErrUnknownPolicy
		says    string
	}{
		{"", true, "empty name"},
		{"hybrid,,predictive", true, "empty name"},
		{"lru", true, `"lru"`},
		{"Hybrid", true, `"Hybrid"`},
		{"fixed-0", true, "N ≥ 1"},
		{"fixed--3", true, "N ≥ 1"},
		{"fixed-+3", true, "N ≥ 1"},
		{"fixed-ten", true, "N ≥ 1"},
		{"fixed-", true, "N ≥ 1"},
		{"fixed-99999999999999999999", true, "N ≥ 1"},
		{"hybrid,hybrid", false, "listed twice"},
		{"fixed-10,fixed-010", false, "listed twice"},
	}
	for _, tt := range tests {
		_, err := ParsePolicies(tt.list)
		if err == nil {
			t.Errorf("ParsePolicies(%q): no error", tt.list)
			continue
		}
		if errors.Is(err, ErrUnknownPolicy) != tt.unknown {
			t.Errorf("ParsePolicies(%q): errors.Is(%q, ErrUnknownPolicy) = %v", tt.list, err, !tt.unknown)
		}
		if !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParsePolicies(%q): error %q does not say %q", tt.list, err, tt.says)
		}
	}
}

// allPolicies are the built-in policies.
func allPolicies() []Policy {
	return []Policy{FixedK(1), FixedK(10), FixedK(60), Hybrid(), Predictive()}
}

func TestNoPolicyWarmBeforeFirstInvocation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20 {
		first := 1 + rng.IntN(Minutes)
		counts := make([]int, Minutes)
		for m := first; m <= Minutes; m++ {
			if m == first || rng.IntN(10) == 0 {
				counts[m-1] = 1 + rng.IntN(5)
			}
		}
		for _, p := range allPolicies() {
			if w := warmMinutes(p, counts); len(w) > 0 && w[0] <= first {
				t.Errorf("%s is warm in minute %d, before or at the first invocation in minute %d", p.Name(), w[0], first)
			}
		}
	}
}

func TestSilenceIsNeverWarm(t *testing.T) {
	for _, p := range allPolicies() {
		if w := warmMinutes(p, make([]int, Minutes)); len(w) > 0 {
			t.Errorf("%s is warm in %d minutes of a silent day", p.Name(), len(w))
		}
	}
}

// TestPoliciesTolerateOddDriving checks that a live autoscaler skipping
// minutes or repeating one does not break a policy.
func TestPoliciesTolerateOddDriving(t *testing.T) {
	for _, p := range allPolicies() {
		fp := p.New(FunctionInfo{MemoryMB: 0})
		for _, t := range []int{5, 5, 3, 900, 901, 901, 2000, 1, 100000} {
			fp.Warm(t)
			fp.Observe(t, 1)
		}
		fp.Observe(100001, -4)
		fp.Warm(100002)
	}
}
