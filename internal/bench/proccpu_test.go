package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
		err        string
	}{
		{"plain", "4242 (hearth) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 1000000 500", 3 * time.Second, ""},
		{"spaces and parentheses in the name", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 1 1", 30 * time.Millisecond, ""},
		{"no name", "4242 hearth S 1", 0, "no command name"},
		{"short", "4242 (hearth) S 1 2 3", 0, "fields after the command name"},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 2 0", 0, `CPU time "ten"`},
		{"too large", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 9223372036854775807 2 0", 0, `CPU time "9223372036854775807"`},
		{"negative", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -1 2 0", 0, `CPU time "-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat(tc.line)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestProcessCPU reads this process's own CPU time, which grows as it
// works; a pid that does not exist is left out.
func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	pids := map[string]int{"self": os.Getpid(), "gone": 1 << 30}
	before := processCPU(pids)
	if _, ok := before["gone"]; ok {
		t.Fatal("a CPU time for a pid that does not exist")
	}
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for processCPU(pids)["self"] <= before["self"] {
		for i := range 1_000_000 {
			x += i
		}
		if time.Now().After(deadline) {
			t.Fatalf("this process's CPU time stayed at %v for 10 s of work", before["self"])
		}
	}
	_ = x
}

func FuzzParseProcStat(f *testing.F) {
	f.Add("4242 (hearth) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 1000000 500")
	f.Add("1 ()) R")
	f.Fuzz(func(t *testing.T, line string) {
		if d, err := parseProcStat(line); err == nil && d < 0 {
			t.Fatalf("negative CPU time %v from %q", d, line)
		}
	})
}
