package main

import (
	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/bench"
)

// newBenchFloorCmd is the hidden `hearth bench-floor gateway|runner`: the
// two processes of hearth bench's floor-nats-cluster case (an echo gateway
// that forwards over NATS, a native responder), started by hearth bench.
func newBenchFloorCmd(a *app) *cobra.Command {
	var (
		lf      logFlags
		natsURL string
		listen  string
	)
	cmd := &cobra.Command{
		Use:    "bench-floor gateway|runner",
		Short:  "Run a process of hearth bench's floor-nats-cluster case",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if natsURL == "" {
				return usagef("--nats is empty: give the URL of the NATS server")
			}
			_, _, stop, err := lf.start(cmd.Context(), a.stderr, "")
			if err != nil {
				return err
			}
			defer stop()
			switch args[0] {
			case "gateway":
				return bench.FloorGateway(cmd.Context(), natsURL, listen, a.stdout)
			case "runner":
				return bench.FloorRunner(cmd.Context(), natsURL, a.stdout)
			}
			return usagef("bench-floor %q: the roles are gateway and runner", args[0])
		},
	}
	fs := cmd.Flags()
	lf.registerLogs(fs)
	fs.StringVar(&natsURL, "nats", "", "the NATS server's URL")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "with gateway: the listen address")
	return cmd
}
