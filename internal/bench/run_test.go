package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRunRefusesConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown case", Config{Cases: []string{"bare-nethttp", "warp-drive"}}, `unknown case "warp-drive"`},
		{"negative duration", Config{Duration: -time.Second}, "duration -1s"},
		{"negative concurrency", Config{Concurrency: -1}, "concurrency -1"},
		{"profile of a case not run", Config{Cases: []string{"bare-nethttp"}, CPUProfile: "cpu.pprof"}, `case "hearth-warm-reactor", which is not among the cases run`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestRunInProcess runs the cases that need no platform and checks their
// results, the ratio to bare-nethttp, the progress and the table.
func TestRunInProcess(t *testing.T) {
	var progress bytes.Buffer
	bar := NewProgressBar(&progress)
	cfg := Config{
		Duration:    100 * time.Millisecond,
		Concurrency: 4,
		Cases:       []string{"bare-nethttp", "scheduler-1000"},
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	report, err := Run(context.Background(), cfg, bar)
	if err != nil {
		t.Fatal(err)
	}
	if report.Concurrency != 4 || report.Duration != "100ms" || report.BodyBytes != 100 || report.GOMAXPROCS < 1 {
		t.Errorf("settings: concurrency %d, duration %s, body %d, GOMAXPROCS %d", report.Concurrency, report.Duration, report.BodyBytes, report.GOMAXPROCS)
	}
	if len(report.Cases) != 2 || report.Cases[0].Name != "bare-nethttp" || report.Cases[1].Name != "scheduler-1000" {
		t.Fatalf("cases %+v", report.Cases)
	}
	for _, c := range report.Cases {
		if c.Failed != "" || c.RPS <= 0 || c.P50 == nil || c.P99 == nil || c.Ratio == nil || c.Measure == "" {
			t.Errorf("%s: %+v", c.Name, c)
		}
	}
	if r := report.Cases[0].Ratio; r == nil || *r != 1 {
		t.Errorf("bare-nethttp ratio %v, want 1", r)
	}
	if failed := report.Failed(); len(failed) != 0 {
		t.Errorf("failed: %v", failed)
	}
	if !strings.Contains(progress.String(), "\r[2/2] scheduler-1000") {
		t.Errorf("no progress drawn: %q", progress.String())
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| case | req/s | p50 µs | p99 µs | ratio to bare-nethttp |", "| bare-nethttp | ", " | 1.000× | ", "| scheduler-1000 | ", "- scheduler-1000: scheduler.Place among 1,000"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

func TestWriteTableFailedCase(t *testing.T) {
	r := &Report{Cases: []Result{{Name: "hearth-warm-reactor", Failed: "status 500 | boom\nmore", Measure: "m"}}}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "| hearth-warm-reactor | failed: status 500 \\| boom | | | | | | | |\n"; !strings.Contains(buf.String(), want) {
		t.Fatalf("table lacks %q:\n%s", want, buf.String())
	}
	if got := r.Failed(); len(got) != 1 || got[0] != "hearth-warm-reactor" {
		t.Fatalf("Failed() = %v", got)
	}
}

func TestWriteTableAuthLine(t *testing.T) {
	r := &Report{Cases: []Result{
		{Name: "hearth-warm-reactor", RPS: 10000, CPUPerOp: ptr(150.0), ServerCPUPerOp: ptr(110.0), Measure: "m"},
		{Name: "hearth-warm-reactor-auth", RPS: 9800, CPUPerOp: ptr(152.5), ServerCPUPerOp: ptr(111.5), Measure: "m"},
	}}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	want := "API keys (hearth-warm-reactor-auth against hearth-warm-reactor): 9800 against 10000 req/s (0.980×); server CPU per request 111.5 against 110.0 µs (+1.5 µs); process CPU per request 152.5 against 150.0 µs (+2.5 µs)."
	if !strings.Contains(buf.String(), want) {
		t.Fatalf("table lacks %q:\n%s", want, buf.String())
	}
	r.Cases[1].Failed = "boom"
	buf.Reset()
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "API keys (") {
		t.Fatalf("auth line with a failed case:\n%s", buf.String())
	}
}
