package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

func runInvocations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("invocations", stderr, "NAME [flags]")
	var cf clientFlags
	cf.register(fs)
	limit := fs.Int("limit", 20, "how many of the newest invocations (1–1000)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth invocations hello`")
	}
	invs, err := cf.client().Invocations(ctx, pos[0], *limit)
	if err != nil {
		return cf.explain(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODE\tSTATUS\tATTEMPTS\tCOLD\tRUN\tRUNNER\tQUEUED\tERROR")
	for _, inv := range invs {
		errText := ""
		if inv.Error != nil {
			errText = inv.Error.Message
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%t\t%.2fms\t%s\t%s\t%s\n", inv.ID, inv.Mode, inv.Status, inv.Attempts, inv.Cold,
			inv.Timings.RunMs, inv.Runner, inv.QueuedAt.Local().Format(time.TimeOnly), errText)
	}
	return tw.Flush()
}

func runLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("logs", stderr, "NAME [-f] [flags]")
	var cf clientFlags
	cf.register(fs)
	follow := fs.Bool("f", false, "follow: keep printing the logs of new invocations until interrupted")
	limit := fs.Int("limit", 20, "how many of the newest invocations to show first")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth logs hello -f`")
	}
	cl := cf.client()
	seen := map[string]bool{}
	show := func() error {
		invs, err := cl.Invocations(ctx, pos[0], *limit)
		if err != nil {
			return cf.explain(err)
		}
		for i := len(invs) - 1; i >= 0; i-- { // oldest first
			inv := invs[i]
			if seen[inv.ID] || (inv.Status == "queued" || inv.Status == "running") {
				continue
			}
			seen[inv.ID] = true
			if inv.Logs == nil {
				continue
			}
			logs, err := cl.Logs(ctx, inv.ID)
			if err != nil {
				continue // expired meanwhile
			}
			fmt.Fprintf(stdout, "── %s %s %s\n", inv.QueuedAt.Local().Format(time.DateTime), inv.ID, inv.Status)
			fmt.Fprintln(stdout, strings.TrimRight(string(logs), "\n"))
		}
		return nil
	}
	if err := show(); err != nil || !*follow {
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := show(); err != nil {
				fmt.Fprintln(stderr, err)
			}
		}
	}
}

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq", stderr, "ls [NAME] | replay ID [flags]")
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) >= 1 && pos[0] == "ls" && len(pos) <= 2:
		fn := ""
		if len(pos) == 2 {
			fn = pos[1]
		}
		dls, err := cf.client().DeadLetters(ctx, fn)
		if err != nil {
			return cf.explain(err)
		}
		if len(dls) == 0 {
			fmt.Fprintln(stderr, "the dead-letter queue is empty")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tFUNCTION\tATTEMPTS\tDEAD AT\tLAST ERROR")
		for _, d := range dls {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.ID, d.Function, d.Attempts, d.DeadAt.Local().Format(time.DateTime), d.LastError)
		}
		return tw.Flush()
	case len(pos) == 2 && pos[0] == "replay":
		if err := cf.client().Replay(ctx, pos[1]); err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "replaying %s; follow it with `hearth invocation %s`\n", pos[1], pos[1])
		return nil
	}
	return usagef("use `hearth dlq ls [NAME]` or `hearth dlq replay ID`")
}

func runInvocation(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("invocation", stderr, "ID [--result] [flags]")
	var cf clientFlags
	cf.register(fs)
	result := fs.Bool("result", false, "print the stored output instead of the record")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one invocation ID, as printed by `hearth invoke --async`")
	}
	cl := cf.client()
	if *result {
		out, err := cl.Result(ctx, pos[0])
		if err != nil {
			return cf.explain(err)
		}
		_, err = stdout.Write(out)
		return err
	}
	inv, err := cl.Invocation(ctx, pos[0])
	if err != nil {
		return cf.explain(err)
	}
	fmt.Fprintf(stdout, "id        %s\nfunction  %s (version %d)\nmode      %s\nstatus    %s\nattempts  %d\ncold      %t\nrunner    %s\nplacement %s\ntimings   queued %.2fms, wait %.2fms, init %.2fms, run %.2fms\n",
		inv.ID, inv.Function, inv.Version, inv.Mode, inv.Status, inv.Attempts, inv.Cold, inv.Runner, inv.Placement,
		inv.Timings.QueuedMs, inv.Timings.WaitMs, inv.Timings.InitMs, inv.Timings.RunMs)
	if inv.Error != nil {
		fmt.Fprintf(stdout, "error     %s: %s\n", inv.Error.Code, inv.Error.Message)
	}
	return nil
}
