package autoscaler

import (
	"slices"
	"testing"
)

func TestFixedKWarmWindows(t *testing.T) {
	tests := []struct {
		k      int
		counts []int
		want   []int
	}{
		{k: 3, counts: at(5, 20), want: append(span(6, 8), span(21, 23)...)},
		{k: 10, counts: at(5, 12), want: span(6, 22)},
		{k: 10, counts: at(1440), want: nil},
		{k: 1, counts: at(1, 2, 3, 10), want: append(span(2, 4), 11)},
		{k: 60, counts: at(1400), want: span(1401, 1440)},
		{k: 0, counts: at(5, 6), want: nil},
	}
	for _, tt := range tests {
		p := FixedK(tt.k)
		if got := warmMinutes(p, tt.counts); !slices.Equal(got, tt.want) {
			t.Errorf("%s: warm in %v, want %v", p.Name(), got, tt.want)
		}
	}
}
