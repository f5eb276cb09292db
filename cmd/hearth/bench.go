package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/bench"
)

// newBenchCmd is `hearth bench`: it checks the flags, runs internal/bench
// with a progress bar on stderr, prints the table on stdout and, with
// --json, writes the report to a file.
func newBenchCmd(a *app) *cobra.Command {
	var (
		cfg                    bench.Config
		cases, jsonPath, rates string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Hearth side by side with bare net/http and raw wazero",
		Long: `Bench runs every case on loopback in this process with one load generator and
prints a markdown table: req/s, p50 and p99 latency, and the ratio to
bare-nethttp.`,
		Example: `  hearth bench
  hearth bench --duration 5s --json bench/results/latest.json
  hearth bench --cases bare-nethttp,hearth-warm-reactor --concurrency 1
  hearth bench --cases bare-nethttp,hearth-warm-reactor --rate 5000
  hearth bench --cases hearth-warm-reactor,hearth-warm-reactor-nats --rates 25%,50%,75%`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q; usage: hearth bench [--duration 5s] [--concurrency 32] [--json FILE] [--cases a,b,…]", args[0])
			}
			if rates != "" {
				if cfg.Rate != 0 {
					return usagef("--rate and --rates together: give one of them")
				}
				var err error
				if cfg.Rates, err = bench.ParseRates(rates); err != nil {
					return usagef("--rates: %v", err)
				}
			}
			return runBench(cmd.Context(), cfg, cases, jsonPath, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "measured time of each case (after a warm-up of a fifth of it, at most 1 s)")
	fs.IntVar(&cfg.Concurrency, "concurrency", bench.DefaultConcurrency, "requests in flight at once (closed loop); with --rate, at most")
	fs.StringVar(&rates, "rates", "", "open loops at these percentages of bare-nethttp's closed-loop maximum, after the closed loop, e.g. 25%,50%,75% (throughput cases: "+strings.Join(bench.PacedCaseNames(), ", ")+")")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: requests a second of each throughput case, latency counted from when each was due (coordinated omission corrected); 0: closed loop")
	fs.StringVar(&jsonPath, "json", "", "also write the results as JSON to `FILE`")
	fs.StringVar(&cases, "cases", "", "comma-separated cases to run (default all): "+strings.Join(bench.CaseNames(), ", "))
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of one case's measured period to `FILE`")
	fs.StringVar(&cfg.ProfileCase, "profile-case", bench.DefaultProfileCase, "the case --cpuprofile profiles")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("profile-case")
	return cmd
}

func runBench(ctx context.Context, cfg bench.Config, cases, jsonPath string, stdout, stderr io.Writer) error {
	var err error
	if cfg.Duration <= 0 {
		return usagef("--duration %s: give a positive duration such as 5s", cfg.Duration)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return usagef("--rate %v: give requests a second above 0, or leave it out for a closed loop", cfg.Rate)
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

	if cfg.Hearth == "" {
		// The cluster cases run this binary as hearth nats, gateway and
		// runner processes.
		if cfg.Hearth, err = os.Executable(); err != nil {
			return fmt.Errorf("the hearth binary for the cluster cases: %w", err)
		}
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
