package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBenchFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"bad duration", []string{"--duration", "soon"}, `invalid argument "soon" for "--duration" flag`},
		{"zero duration", []string{"--duration", "0s"}, "--duration 0s: give a positive duration"},
		{"negative duration", []string{"--duration", "-1s"}, "--duration -1s: give a positive duration"},
		{"unknown case", []string{"--cases", "bare-nethttp,warp-drive"}, `--cases: unknown case "warp-drive"; the cases are bare-nethttp, wazero-inprocess`},
		{"no case", []string{"--cases", ","}, "--cases: no case named"},
		{"no concurrency", []string{"--concurrency", "0"}, "--concurrency 0: give at least 1"},
		{"argument", []string{"now"}, `unexpected argument "now"`},
		{"negative rate", []string{"--rate", "-5"}, "--rate -5: give requests a second above 0"},
		{"rate not a number", []string{"--rate", "fast"}, `invalid argument "fast" for "--rate" flag`},
		{"rates without percent", []string{"--rates", "25,50"}, `--rates: rate "25": give a percentage`},
		{"rates out of range", []string{"--rates", "0%"}, `--rates: rate "0%": give a percentage above 0%`},
		{"rate and rates", []string{"--rate", "100", "--rates", "50%"}, "--rate and --rates together"},
		{"profile of a case not run", []string{"--cases", "bare-nethttp", "--cpuprofile", filepath.Join(t.TempDir(), "cpu.pprof")}, `--cpuprofile profiles case "hearth-warm-reactor", which is not among the cases run`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"bench"}, tc.args...), &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr does not say %q:\n%s", tc.want, stderr.String())
			}
			if stdout.Len() > 0 {
				t.Fatalf("stdout: %s", stdout.String())
			}
		})
	}
}

func TestBenchShortRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results", "bench.json")
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--duration", "200ms", "--cases", "scheduler-1000,bare-nethttp,cold-start-c,hearth-warm-command", "--json", out}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Concurrency int `json:"concurrency"`
		GOMAXPROCS  int `json:"gomaxprocs"`
		Cases       []struct {
			Name  string   `json:"name"`
			RPS   float64  `json:"rps"`
			P50   *float64 `json:"p50_us"`
			P99   *float64 `json:"p99_us"`
			Ratio *float64 `json:"ratio"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("JSON: %v\n%s", err, data)
	}
	if report.Concurrency != 32 || report.GOMAXPROCS < 1 {
		t.Errorf("metadata: concurrency %d, GOMAXPROCS %d", report.Concurrency, report.GOMAXPROCS)
	}
	// The cases run, and are reported, in the table's order.
	want := []string{"bare-nethttp", "hearth-warm-command", "cold-start-c", "scheduler-1000"}
	if len(report.Cases) != len(want) {
		t.Fatalf("cases %+v, want %v", report.Cases, want)
	}
	for i, c := range report.Cases {
		if c.Name != want[i] {
			t.Errorf("case %d is %q, want %q", i, c.Name, want[i])
		}
		if c.RPS <= 0 || c.P50 == nil || c.P99 == nil || *c.P50 <= 0 || *c.P99 < *c.P50 || c.Ratio == nil || *c.Ratio <= 0 {
			t.Errorf("%s: rps %v p50 %v p99 %v ratio %v", c.Name, c.RPS, c.P50, c.P99, c.Ratio)
		}
	}
	if r := report.Cases[0].Ratio; r == nil || *r != 1 {
		t.Errorf("bare-nethttp ratio %v, want 1", r)
	}
	table := stdout.String()
	for _, s := range []string{"| case | req/s | p50 µs | p99 µs | ratio to bare-nethttp |", "| bare-nethttp | ", "| hearth-warm-command | ", "| cold-start-c | ", "| scheduler-1000 | "} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
	// The progress bar redraws on stderr.
	if !strings.Contains(stderr.String(), "\r[3/4] cold-start-c") {
		t.Errorf("no progress on stderr:\n%q", stderr.String())
	}
}

// TestBenchOpenLoop: --rate runs the throughput cases at that rate (not as
// fast as they go) and says so in the table and the JSON.
func TestBenchOpenLoop(t *testing.T) {
	var report struct {
		Rate  float64 `json:"rate"`
		Cases []struct {
			RPS float64 `json:"rps"`
			Ops int64   `json:"ops"`
		} `json:"cases"`
	}
	data, table := benchJSON(t, &report, "--duration", "1s", "--cases", "bare-nethttp", "--rate", "200")
	// A closed loop of bare-nethttp does thousands a second here; the open
	// loop does what it is asked.
	if report.Rate != 200 || len(report.Cases) != 1 || report.Cases[0].Ops < 100 || report.Cases[0].Ops > 300 {
		t.Fatalf("report %s", data)
	}
	if !strings.Contains(table, "open loop at 200 req/s") {
		t.Errorf("the table does not say the loop was open:\n%s", table)
	}
}

// benchJSON runs hearth bench with args and --json, decodes the file into
// report, and returns it and the table.
func benchJSON(t *testing.T, report any, args ...string) (data []byte, table string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append(append([]string{"bench"}, args...), "--json", out), &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, report); err != nil {
		t.Fatalf("JSON: %v\n%s", err, data)
	}
	return data, stdout.String()
}

// TestBenchRates: --rates runs the closed loop, then each throughput case
// at each fraction of bare-nethttp's maximum; other cases only once.
func TestBenchRates(t *testing.T) {
	var report struct {
		Rates []float64 `json:"rates"`
		Cases []struct {
			Name string  `json:"name"`
			RPS  float64 `json:"rps"`
			Rate float64 `json:"rate"`
		} `json:"cases"`
	}
	benchJSON(t, &report, "--duration", "300ms", "--cases", "scheduler-1000,cold-start-c", "--rates", "10%,20%")
	var names []string
	for _, c := range report.Cases {
		names = append(names, c.Name)
	}
	want := []string{"bare-nethttp", "cold-start-c", "scheduler-1000", "bare-nethttp @10%", "scheduler-1000 @10%", "bare-nethttp @20%", "scheduler-1000 @20%"}
	if !slices.Equal(names, want) || len(report.Rates) != 2 {
		t.Fatalf("rows %v, want %v; rates %v", names, want, report.Rates)
	}
	bare := report.Cases[0].RPS
	for _, c := range report.Cases[3:] {
		frac := 0.1
		if strings.HasSuffix(c.Name, "@20%") {
			frac = 0.2
		}
		if c.Rate != frac*bare {
			t.Errorf("%s: rate %v, want %v of bare's %v", c.Name, c.Rate, frac, bare)
		}
	}
}
