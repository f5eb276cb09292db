package autoscaler

import (
	"slices"
	"testing"
)

func TestHybridWarmMinutes(t *testing.T) {
	// A timer every 7 minutes: fixed-240 until 10 idle times are seen
	// (after minute 71), then warm from ⌊0.9·7⌋ = 6 to ⌈1.1·7⌉ = 8
	// minutes after each invocation, which the next one ends at 7.
	timer := span(2, 71)
	for m := 78; m <= Minutes; m += 7 {
		timer = append(timer, m-1, m)
	}

	// Idle times 1, 2, …, n: n distinct bins of one count each have a
	// coefficient of variation of √(240/n − 1), exactly 2 for n = 48.
	triangular := func(n int) ([]int, int) {
		minutes, m := []int{1}, 1
		for d := 1; d <= n; d++ {
			m += d
			minutes = append(minutes, m)
		}
		return at(minutes...), m
	}
	cv2, last48 := triangular(48)
	cvBelow2, last49 := triangular(49)

	// Five idle times of 1 minute, then five or six of 300 (out of
	// bounds), on a clock running past one day as a live autoscaler's does.
	oob := func(long int) ([]int, int) {
		minutes := []int{1, 2, 3, 4, 5, 6}
		for range long {
			minutes = append(minutes, minutes[len(minutes)-1]+300)
		}
		last := minutes[len(minutes)-1]
		c := make([]int, last+400)
		for _, m := range minutes {
			c[m-1] = 1
		}
		return c, last
	}
	halfOOB, lastHalf := oob(5)
	mostlyOOB, lastMostly := oob(6)

	tests := []struct {
		name   string
		counts []int
		from   int // compare the warm minutes from this one on
		want   []int
	}{
		{"timer every 7 minutes", every(7, 1), 1, timer},
		{"fewer than 10 idle times: fixed-240", at(100, 110, 120), 1, span(101, 360)},
		{"single burst: fixed-240", at(800, 801, 802, 803), 1, span(801, 1043)},
		{"CV exactly 2: histogram window [⌊0.9·3⌋, ⌈1.1·48⌉]", cv2, last48 + 1, span(last48+2, last48+53)},
		{"CV below 2: fixed-240", cvBelow2, last49 + 1, span(last49+1, Minutes)},
		{"half the idle times out of bounds: histogram window [0, 2]", halfOOB, lastHalf + 1, span(lastHalf+1, lastHalf+2)},
		{"more than half out of bounds: fixed-240", mostlyOOB, lastMostly + 1, span(lastMostly+1, lastMostly+240)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := warmMinutes(Hybrid(), tt.counts)
			got = slices.DeleteFunc(got, func(m int) bool { return m < tt.from })
			if !slices.Equal(got, tt.want) {
				t.Errorf("warm in %v,\nwant %v", got, tt.want)
			}
		})
	}
}

func TestHybridMargins(t *testing.T) {
	tests := []struct {
		idle                       int // ten idle times of this length
		wantPrewarm, wantKeepalive int
	}{
		{1, 0, 2},
		{7, 6, 8},
		{10, 9, 11},
		{20, 18, 22},
		{240, 216, 264},
	}
	for _, tt := range tests {
		var h idleHistogram
		for range 10 {
			h.add(tt.idle)
		}
		pw, ka, fb := hybridWindow(&h)
		if fb || pw != tt.wantPrewarm || ka != tt.wantKeepalive {
			t.Errorf("idle time %d: window [%d, %d] fallback %v, want [%d, %d]", tt.idle, pw, ka, fb, tt.wantPrewarm, tt.wantKeepalive)
		}
	}
}

func TestIdleHistogramPercentile(t *testing.T) {
	tests := []struct {
		idle []int
		p    int
		want int
	}{
		{[]int{4}, 5, 4},
		{[]int{4}, 99, 4},
		{[]int{1, 2, 3, 4}, 50, 2},   // rank ⌈2⌉ = 2
		{[]int{1, 2, 3, 4}, 75, 3},   // rank 3
		{[]int{4, 3, 2, 1}, 76, 4},   // rank ⌈3.04⌉ = 4
		{[]int{5, 5, 5, 9, 9}, 5, 5}, // rank ⌈0.25⌉ = 1
		{[]int{5, 5, 5, 9, 9}, 60, 5},
		{[]int{5, 5, 5, 9, 9}, 61, 9},
		{[]int{5, 241, 300}, 99, 5}, // out-of-bounds idle times are not counted
		{[]int{300}, 50, 0},
	}
	for _, tt := range tests {
		var h idleHistogram
		for _, d := range tt.idle {
			h.add(d)
		}
		if got := h.percentile(tt.p); got != tt.want {
			t.Errorf("p%d of %v = %d, want %d", tt.p, tt.idle, got, tt.want)
		}
	}
}

func TestIdleHistogramPatterned(t *testing.T) {
	for _, tt := range []struct {
		distinct int
		want     bool
	}{{1, true}, {47, true}, {48, true}, {49, false}, {240, false}} {
		var h idleHistogram
		for d := 1; d <= tt.distinct; d++ {
			h.add(d)
		}
		if got := h.patterned(); got != tt.want {
			t.Errorf("%d distinct idle times: patterned = %v, want %v", tt.distinct, got, tt.want)
		}
	}
}
