package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// runSim replays a trace through the autoscaler's policies and prints the
// benchmark table (../shared/AUTOSCALING-BENCHMARK.md).
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sim", stderr, "--invocations FILE [--memory FILE] [--policy LIST] [--json]")
	invocations := fs.String("invocations", "", "invocations per function per minute (Azure 2019 trace format)")
	memory := fs.String("memory", "", "memory per app (optional; a missing app counts 128 MB)")
	policy := fs.String("policy", "fixed-10,fixed-60,hybrid,predictive", "comma-separated policies: fixed-K, hybrid, predictive")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *invocations == "" {
		return usagef("want --invocations FILE, e.g. `hearth sim --invocations ../shared/traces/azure2019-200/invocations.csv --memory ../shared/traces/azure2019-200/memory.csv`")
	}
	policies, err := autoscaler.ParsePolicies(*policy)
	if err != nil {
		return usagef("--policy: %v", err)
	}
	inv, err := os.Open(*invocations)
	if err != nil {
		return err
	}
	defer inv.Close()
	var mem io.Reader
	if *memory != "" {
		f, err := os.Open(*memory)
		if err != nil {
			return err
		}
		defer f.Close()
		mem = f
	}
	fmt.Fprintf(stderr, "reading %s …\n", *invocations)
	trace, err := autoscaler.ReadTrace(inv, mem)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "replaying %d functions through %d policies …\n", len(trace.Functions), len(policies))
	results := autoscaler.Replay(trace, policies)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"policies": results})
	}
	return autoscaler.WriteTable(stdout, results)
}
