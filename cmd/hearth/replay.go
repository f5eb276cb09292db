package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/replay"
)

// replayFlags are hearth replay's flags.
type replayFlags struct {
	invocations, memory, policy string
	minute                      time.Duration
	from, to                    int
	functions, sample           int
	seed                        uint64
	jsonFile                    string
	concurrency                 int
	metrics                     []string
	keep                        bool
}

// newReplayCmd drives a trace against a running gateway and prints the
// sim table, live beside simulated (internal/replay, docs/autoscaler.md).
func newReplayCmd(a *app) *cobra.Command {
	var (
		cf clientFlags
		f  replayFlags
	)
	cmd := &cobra.Command{
		Use:   "replay --invocations FILE [--memory FILE] [--from M --to M] [--functions N | --sample N]",
		Short: "Replay a trace against a running gateway and compare with the simulator",
		Long: `Replay drives a trace (the Azure Functions 2019 format hearth sim reads)
against a running gateway in compressed time: one copy of a small test
function per function of the trace, deployed with the trace's memory, called
the trace's count of times in each minute. A minute lasts --minute; the
gateway's autoscaler must run the same policy with the same minute
(--autoscale-minute), so that the policy code hearth sim scores runs at the
replay's pace.

It measures the cold starts the platform reported (Hearth-Cold-Start) and the
warm instance-minutes the runners held (hearth_runner_idle_instance_seconds_total,
read at every minute boundary from --metrics, default the gateway's), and
prints hearth sim's table for the same functions and minutes, live beside
simulated, with the difference. Calls the machine cannot make in time are
made late, never dropped; the lag is reported. The functions are deleted
afterwards unless --keep.`,
		Example: `  hearth dev --data /tmp/replay --autoscale predictive --autoscale-minute 1s --max-runners 0 &
  hearth replay --invocations ../shared/traces/azure2019-200/invocations.csv --memory ../shared/traces/azure2019-200/memory.csv \
    --policy predictive --minute 1s --from 600 --to 660 --functions 30
  hearth replay --invocations invocations.csv --sample 50 --seed 7 --from 1 --to 120 --json replay.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd, &cf, f, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	fs.StringVar(&f.invocations, "invocations", "", "invocations per function per minute (Azure 2019 trace format, as hearth sim)")
	fs.StringVar(&f.memory, "memory", "", "memory per app (optional; a missing app counts 128 MB)")
	fs.StringVar(&f.policy, "policy", "", "the policy the gateway's autoscaler runs, checked against it (default: the gateway's)")
	fs.DurationVar(&f.minute, "minute", 0, "how long a trace minute lasts, e.g. 1s; must be the gateway's --autoscale-minute (default: the gateway's)")
	fs.IntVar(&f.from, "from", 1, "first trace minute replayed (1 … 1440)")
	fs.IntVar(&f.to, "to", autoscaler.Minutes, "last trace minute replayed (1 … 1440)")
	fs.IntVar(&f.functions, "functions", 0, "replay the N functions with the most invocations in the window (default: every function with any)")
	fs.IntVar(&f.sample, "sample", 0, "replay a random sample of N of the functions with invocations in the window (with --seed)")
	fs.Uint64Var(&f.seed, "seed", 1, "with --sample: the seed of the sample")
	fs.StringVar(&f.jsonFile, "json", "", `also write the rows as JSON to FILE ("-": stdout, instead of the table)`)
	fs.IntVar(&f.concurrency, "concurrency", 64, "calls in flight at most")
	fs.StringSliceVar(&f.metrics, "metrics", nil, "/metrics URLs to read the runners' idle time from (repeatable; default GATEWAY/metrics, which has a runner in the gateway's process)")
	fs.BoolVar(&f.keep, "keep", false, "leave the deployed functions on the gateway")
	return cmd
}

func runReplay(cmd *cobra.Command, cf *clientFlags, f replayFlags, stdout, stderr io.Writer) error {
	fs := cmd.Flags()
	switch {
	case f.invocations == "":
		return usagef("want --invocations FILE, e.g. `hearth replay --invocations ../shared/traces/azure2019-200/invocations.csv --memory ../shared/traces/azure2019-200/memory.csv --from 600 --to 660 --functions 30`")
	case f.from < 1 || f.to > autoscaler.Minutes || f.from > f.to:
		return usagef("--from %d --to %d: want 1 ≤ --from ≤ --to ≤ %d", f.from, f.to, autoscaler.Minutes)
	case fs.Changed("functions") && f.functions < 1, fs.Changed("sample") && f.sample < 1:
		return usagef("--functions and --sample take a number of functions N ≥ 1")
	case f.functions > 0 && f.sample > 0:
		return usagef("give --functions N (the busiest) or --sample N (a random sample), not both")
	case fs.Changed("seed") && f.sample == 0:
		return usagef("--seed goes with --sample N")
	case fs.Changed("minute") && f.minute < replay.MinMinute:
		return usagef("--minute %v: a replayed minute must last at least %v", f.minute, replay.MinMinute)
	case f.concurrency < 1:
		return usagef("--concurrency %d: want at least 1", f.concurrency)
	}
	if f.policy != "" {
		if ps, err := autoscaler.ParsePolicies(f.policy); err != nil || len(ps) != 1 {
			if err == nil {
				err = fmt.Errorf("give one policy")
			}
			return usagef("--policy: %v", err)
		}
	}
	trace, err := readTraceFiles(f.invocations, f.memory, stderr)
	if err != nil {
		return err
	}
	cl, err := cf.client()
	if err != nil {
		return err
	}
	rep, err := replay.Run(cmd.Context(), replay.Config{
		Client: cl, MetricsURLs: f.metrics, Trace: trace, Policy: f.policy, Minute: f.minute,
		From: f.from, To: f.to, Selection: replay.Selection{Busiest: f.functions, Sample: f.sample, Seed: f.seed},
		Concurrency: f.concurrency, Keep: f.keep, Progress: stderr,
	})
	if errors.Is(err, replay.ErrUsage) {
		return usageError{strings.TrimPrefix(err.Error(), replay.ErrUsage.Error()+": ")}
	}
	if err != nil {
		return err
	}
	if f.jsonFile != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if f.jsonFile == "-" {
			_, err = stdout.Write(data)
			return err
		}
		if err := os.WriteFile(f.jsonFile, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", f.jsonFile)
	}
	return replay.WriteTable(stdout, rep)
}

// readTraceFiles reads a trace as hearth sim does.
func readTraceFiles(invocations, memory string, stderr io.Writer) (*autoscaler.Trace, error) {
	inv, err := os.Open(invocations)
	if err != nil {
		return nil, err
	}
	defer inv.Close()
	var mem io.Reader
	if memory != "" {
		m, err := os.Open(memory)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		mem = m
	}
	fmt.Fprintf(stderr, "reading %s …\n", invocations)
	return autoscaler.ReadTrace(inv, mem)
}
