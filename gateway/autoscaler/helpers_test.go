package autoscaler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleDir is the 200-function sample of the Azure 2019 trace, relative
// to this package.
var sampleDir = filepath.Join("..", "..", "..", "shared", "traces", "azure2019-200")

// loadSample reads the sample trace, skipping the test when it is absent.
func loadSample(t testing.TB) *Trace {
	t.Helper()
	if _, err := os.Stat(sampleDir); err != nil {
		t.Skipf("sample trace not found: %v", err)
	}
	inv, err := os.Open(filepath.Join(sampleDir, "invocations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	mem, err := os.Open(filepath.Join(sampleDir, "memory.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	tr, err := ReadTrace(inv, mem)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// at returns a day of counts with the given minutes invoked once.
func at(minutes ...int) []int {
	c := make([]int, Minutes)
	for _, m := range minutes {
		c[m-1]++
	}
	return c
}

// every returns a day of counts invoked once every period minutes from
// minute first on.
func every(period, first int) []int {
	c := make([]int, Minutes)
	for m := first; m <= Minutes; m += period {
		c[m-1] = 1
	}
	return c
}

// trace makes a trace of functions of 100 MB with the given counts.
func trace(counts ...[]int) *Trace {
	tr := &Trace{}
	for i, c := range counts {
		tr.Functions = append(tr.Functions, Function{Name: fmt.Sprint("f", i), MemoryMB: 100, Counts: c})
	}
	return tr
}

// warmMinutes drives a fresh FunctionPolicy of p over counts, as the
// replay does, and returns the minutes it was warm.
func warmMinutes(p Policy, counts []int) []int {
	fp := p.New(FunctionInfo{MemoryMB: 100})
	var warm []int
	for t := 1; t <= len(counts); t++ {
		if fp.Warm(t) {
			warm = append(warm, t)
		}
		fp.Observe(t, counts[t-1])
	}
	return warm
}

// span returns the minutes from … to.
func span(from, to int) []int {
	var m []int
	for t := from; t <= to; t++ {
		m = append(m, t)
	}
	return m
}

// csvFile builds a CSV text from a header and rows.
func csvFile(header []string, rows ...[]string) string {
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}

// invocationsHeader is a header of the invocations file with the given
// leading columns and minute columns named by name(m).
func invocationsHeader(lead []string, name func(m int) string) []string {
	h := append([]string(nil), lead...)
	for m := 1; m <= Minutes; m++ {
		h = append(h, name(m))
	}
	return h
}

// invocationsRow is a row with the given leading cells and counts.
func invocationsRow(lead []string, counts []int) []string {
	r := append([]string(nil), lead...)
	for _, c := range counts {
		r = append(r, fmt.Sprint(c))
	}
	return r
}

func minuteName(m int) string { return fmt.Sprintf("minute_%d", m) }
