package replay

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// traceOf makes a trace whose function i has calls[i] calls in each of
// the given minutes.
func traceOf(minutes []int, calls ...int) *autoscaler.Trace {
	tr := &autoscaler.Trace{}
	for i, n := range calls {
		f := autoscaler.Function{Name: string(rune('a' + i)), MemoryMB: 128, Counts: make([]int, autoscaler.Minutes)}
		for _, m := range minutes {
			f.Counts[m-1] = n
		}
		tr.Functions = append(tr.Functions, f)
	}
	return tr
}

func TestSelect(t *testing.T) {
	tr := traceOf([]int{10, 20}, 3, 0, 7, 1, 7)
	for _, tt := range []struct {
		name     string
		from, to int
		sel      Selection
		want     []int
	}{
		{"all with calls", 1, 1440, Selection{}, []int{0, 2, 3, 4}},
		{"busiest, ties in file order", 1, 1440, Selection{Busiest: 2}, []int{2, 4}},
		{"busiest beyond the active", 1, 1440, Selection{Busiest: 9}, []int{0, 2, 3, 4}},
		{"sample of all", 1, 1440, Selection{Sample: 4, Seed: 1}, []int{0, 2, 3, 4}},
		{"window", 15, 25, Selection{Busiest: 1}, []int{2}},
	} {
		got, err := Select(tr, tt.from, tt.to, tt.sel)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// A sample is seeded: the same seed, the same functions.
	a, _ := Select(tr, 1, 1440, Selection{Sample: 2, Seed: 7})
	b, _ := Select(tr, 1, 1440, Selection{Sample: 2, Seed: 7})
	if len(a) != 2 || !slices.Equal(a, b) || !slices.IsSorted(a) {
		t.Errorf("samples with seed 7: %v and %v", a, b)
	}
	for _, bad := range []struct {
		from, to int
		sel      Selection
	}{
		{30, 20, Selection{}},
		{0, 20, Selection{}},
		{1, 1441, Selection{}},
		{1, 1440, Selection{Busiest: 2, Sample: 2}},
		{1, 1440, Selection{Busiest: -1}},
		{30, 40, Selection{}}, // no calls there
	} {
		if _, err := Select(tr, bad.from, bad.to, bad.sel); !errors.Is(err, ErrUsage) {
			t.Errorf("Select(%d, %d, %+v) = %v, want ErrUsage", bad.from, bad.to, bad.sel, err)
		}
	}
}

func TestCallOffsets(t *testing.T) {
	minute := time.Second
	got := callOffsets(4, minute)
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond, 800 * time.Millisecond}
	for i := range want {
		if d := got[i] - want[i]; d > time.Microsecond || d < -time.Microsecond {
			t.Fatalf("callOffsets(4, 1s) = %v, want %v", got, want)
		}
	}
	if got := callOffsets(1, minute); got[0] != minute/2 {
		t.Errorf("one call at %v, want the middle", got[0])
	}
	for _, n := range []int{1, 7, 1000} {
		for _, off := range callOffsets(n, minute) {
			if off < time.Duration(Edge*float64(minute)) || off > minute-time.Duration(Edge*float64(minute)) {
				t.Fatalf("%d calls: one at %v, outside the middle of the minute", n, off)
			}
		}
	}
}

func TestDeployedMemory(t *testing.T) {
	for mb, want := range map[float64]int{0: 1, 0.4: 1, 128: 128, 138.2: 139, 1e6: 4096} {
		if got := deployedMemory(mb); got != want {
			t.Errorf("deployedMemory(%v) = %d, want %d", mb, got, want)
		}
	}
}
