package main

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/natsembed"
)

// newNATSCmd is `hearth nats`: the NATS server with JetStream that `hearth
// dev` embeds, alone in a process, so that the gateway and runner roles
// can run apart on one machine without a nats-server binary (hearth
// bench's cluster cases start it so).
func newNATSCmd(a *app) *cobra.Command {
	var (
		lf       logFlags
		listen   string
		storeDir string
	)
	cmd := &cobra.Command{
		Use:   "nats",
		Short: "Run a single NATS server with JetStream, the one hearth dev embeds",
		Long: `Nats runs the NATS server that hearth dev embeds (JetStream on, file storage
in --store-dir, an 8 MB payload limit) alone in a process, so that hearth
gateway and hearth runner can run as separate processes on one machine.
It has no authentication: listen on loopback. A production cluster runs
nats-server itself, clustered (deploy/kubernetes, docs/operations.md).`,
		Example: `  hearth nats --listen 127.0.0.1:4222 --store-dir ./.hearth/nats &
  hearth gateway --nats nats://127.0.0.1:4222 --s3-endpoint http://127.0.0.1:9000 --insecure-no-auth &
  hearth runner --nats nats://127.0.0.1:4222 --s3-endpoint http://127.0.0.1:9000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNATS(cmd, lf, listen, storeDir, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	lf.registerLogs(fs)
	fs.StringVar(&listen, "listen", "127.0.0.1:4222", "client listen address HOST:PORT (port 0 picks one; the URL is printed)")
	fs.StringVar(&storeDir, "store-dir", "./.hearth/nats", "JetStream's file storage directory")
	return cmd
}

func runNATS(cmd *cobra.Command, lf logFlags, listen, storeDir string, stdout, stderr io.Writer) error {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return usagef("--listen %q: give HOST:PORT, e.g. 127.0.0.1:4222", listen)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return usagef("--listen %q: the port must be a number from 0 to 65535", listen)
	}
	if storeDir == "" {
		return usagef("--store-dir is empty: give the directory JetStream keeps its data in")
	}
	log, _, stop, err := lf.start(cmd.Context(), stderr, "") // no spans: hearth nats has no --otlp-endpoint
	if err != nil {
		return err
	}
	defer stop()
	ns, err := natsembed.Start(natsembed.Config{StoreDir: storeDir, Host: host, Port: port, Logger: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "NATS listening on %s\n", ns.ClientURL())
	<-cmd.Context().Done()
	log.Info("shutting down")
	ns.Shutdown()
	ns.WaitForShutdown()
	return nil
}
