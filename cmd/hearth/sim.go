package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// newSimCmd replays a trace through the autoscaler's policies and prints
// the benchmark table (../shared/AUTOSCALING-BENCHMARK.md).
func newSimCmd(a *app) *cobra.Command {
	var (
		invocations, memory, policy string
		of                          outputFlags
	)
	cmd := &cobra.Command{
		Use:   "sim --invocations FILE [--memory FILE] [--policy LIST]",
		Short: "Replay a trace through the autoscaler's keep-alive policies",
		Long: `Sim replays a trace of invocations (the Azure Functions 2019 trace format)
through the autoscaler's keep-alive policies and prints their cold starts
and wasted memory (docs/autoscaler.md).`,
		Example: `  hearth sim --invocations ../shared/traces/azure2019-200/invocations.csv --memory ../shared/traces/azure2019-200/memory.csv
  hearth sim --invocations invocations.csv --policy hybrid,predictive -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 || invocations == "" {
				return usagef("want --invocations FILE, e.g. `hearth sim --invocations ../shared/traces/azure2019-200/invocations.csv --memory ../shared/traces/azure2019-200/memory.csv`")
			}
			if err := of.validate(); err != nil {
				return err
			}
			return runSim(invocations, memory, policy, of, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&invocations, "invocations", "", "invocations per function per minute (Azure 2019 trace format)")
	fs.StringVar(&memory, "memory", "", "memory per app (optional; a missing app counts 128 MB)")
	fs.StringVar(&policy, "policy", "fixed-10,fixed-60,hybrid,predictive", "comma-separated policies: fixed-K, hybrid, predictive")
	of.register(cmd)
	return cmd
}

func runSim(invocations, memory, policy string, of outputFlags, stdout, stderr io.Writer) error {
	policies, err := autoscaler.ParsePolicies(policy)
	if err != nil {
		return usagef("--policy: %v", err)
	}
	inv, err := os.Open(invocations)
	if err != nil {
		return err
	}
	defer inv.Close()
	var mem io.Reader
	if memory != "" {
		f, err := os.Open(memory)
		if err != nil {
			return err
		}
		defer f.Close()
		mem = f
	}
	fmt.Fprintf(stderr, "reading %s …\n", invocations)
	trace, err := autoscaler.ReadTrace(inv, mem)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "replaying %d functions through %d policies …\n", len(trace.Functions), len(policies))
	results := autoscaler.Replay(trace, policies)
	return of.print(stdout, map[string]any{"policies": results}, func(w io.Writer) error {
		return autoscaler.WriteTable(w, results)
	})
}
