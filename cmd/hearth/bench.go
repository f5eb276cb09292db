package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hearthfn/hearth/internal/bench"
)

const benchSynopsis = "[--duration 5s] [--concurrency 32] [--json FILE] [--cases a,b,…]"

// runBench is `hearth bench`: it checks the flags, runs internal/bench with
// a progress bar on stderr, prints the table on stdout and, with --json,
// writes the report to a file.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr, benchSynopsis)
	var cfg bench.Config
	var cases, jsonPath string
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "measured time of each case (after a warm-up of a fifth of it, at most 1 s)")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "requests in flight at once (closed loop)")
	fs.StringVar(&jsonPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&cases, "cases", "", "comma-separated cases to run (default all): "+strings.Join(bench.CaseNames(), ", "))
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of one case's measured period to `FILE`")
	fs.StringVar(&cfg.ProfileCase, "profile-case", bench.DefaultProfileCase, "the case --cpuprofile profiles")
	hidden := map[string]bool{"cpuprofile": true, "profile-case": true}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hearth bench %s\n\nRuns every case on loopback in this process with one load generator and prints\na markdown table: req/s, p50 and p99 latency, and the ratio to bare-nethttp.\n\nflags:\n", benchSynopsis)
		fs.VisitAll(func(f *flag.Flag) {
			if hidden[f.Name] {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usagef("unexpected argument %q; usage: hearth bench %s", positional[0], benchSynopsis)
	}
	if cfg.Duration <= 0 {
		return usagef("--duration %s: give a positive duration such as 5s", cfg.Duration)
	}
	if cfg.Concurrency < 1 {
		return usagef("--concurrency %d: give at least 1", cfg.Concurrency)
	}
	if cfg.Cases, err = parseBenchCases(cases); err != nil {
		return err
	}
	if cfg.CPUProfile != "" && !slices.Contains(cfg.Cases, cfg.ProfileCase) {
		return usagef("--cpuprofile profiles case %q, which is not among the cases run", cfg.ProfileCase)
	}

	bar := bench.NewProgressBar(stderr)
	cfg.Log = slog.New(slog.NewTextHandler(bar, &slog.HandlerOptions{Level: slog.LevelWarn}))
	report, err := bench.Run(ctx, cfg, bar)
	bar.Clear()
	if err != nil {
		return err
	}
	if err := report.WriteTable(stdout); err != nil {
		return err
	}
	if jsonPath != "" {
		if err := writeBenchJSON(jsonPath, report); err != nil {
			return err
		}
	}
	if failed := report.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d case(s) failed: %s (see the table and the log above)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// parseBenchCases checks a --cases list and returns the names in run order.
func parseBenchCases(list string) ([]string, error) {
	all := bench.CaseNames()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(all, name) {
			return nil, usagef("--cases: unknown case %q; the cases are %s", name, strings.Join(all, ", "))
		}
		want[name] = true
	}
	var names []string
	for _, name := range all {
		if want[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, usagef("--cases: no case named; the cases are %s", strings.Join(all, ", "))
	}
	return names, nil
}

// writeBenchJSON writes the report to path, making its directory.
func writeBenchJSON(path string, r *bench.Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}
