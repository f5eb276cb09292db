package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

func newInvocationsCmd(a *app) *cobra.Command {
	var (
		cf    clientFlags
		of    outputFlags
		limit int
	)
	cmd := &cobra.Command{
		Use:   "invocations NAME",
		Short: "List the newest invocations of a function",
		Example: `  hearth invocations hello
  hearth invocations hello --limit 100 -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth invocations hello`")
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			invs, err := cl.Invocations(cmd.Context(), args[0], limit)
			if err != nil {
				return cf.explain(err)
			}
			if invs == nil {
				invs = []client.Invocation{}
			}
			return of.print(a.stdout, struct {
				Invocations []client.Invocation `json:"invocations"`
			}{invs}, func(w io.Writer) error {
				tw := newTable(w)
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
			})
		},
	}
	clientCmd(a, cmd, &cf, true)
	cmd.Flags().IntVar(&limit, "limit", 20, "how many of the newest invocations (1–1000)")
	of.register(cmd)
	return cmd
}

func newLogsCmd(a *app) *cobra.Command {
	var (
		cf     clientFlags
		follow bool
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "logs NAME [-f]",
		Short: "Print the logs of a function's recent invocations",
		Long: `Logs prints what the newest invocations of a function wrote to stderr, oldest
first, each after a line with its time, id and status. With -f it keeps
printing the logs of new invocations until interrupted, streamed by the
gateway as each one finishes (server-sent events from
GET /v1/functions/NAME/logs?follow=true).`,
		Example: `  hearth logs hello
  hearth logs hello -f`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth logs hello -f`")
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			seen := map[string]bool{}
			show := func() error {
				invs, err := cl.Invocations(ctx, args[0], limit)
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
					fmt.Fprintf(a.stdout, "── %s %s %s\n", inv.QueuedAt.Local().Format(time.DateTime), inv.ID, inv.Status)
					fmt.Fprintln(a.stdout, strings.TrimRight(string(logs), "\n"))
				}
				return nil
			}
			if limit < 0 || limit > client.MaxLogsBacklog {
				return usagef("--limit %d: give 0 to %d invocations", limit, client.MaxLogsBacklog)
			}
			if !follow {
				if limit == 0 {
					return usagef("--limit 0 shows nothing; give 1 to %d, or 0 with -f to print only new invocations", client.MaxLogsBacklog)
				}
				return show()
			}
			// The gateway streams each invocation's logs as it finishes
			// (server-sent events), the backlog first.
			err = cl.FollowLogs(ctx, args[0], limit, func(ev client.LogEvent) error {
				if ev.Logs == "" {
					return nil
				}
				fmt.Fprintf(a.stdout, "── %s %s %s\n", ev.QueuedAt.Local().Format(time.DateTime), ev.ID, ev.Status)
				fmt.Fprintln(a.stdout, strings.TrimRight(ev.Logs, "\n"))
				return nil
			})
			switch {
			case ctx.Err() != nil:
				return nil // interrupted: the normal end of -f
			case err != nil:
				return cf.explain(err)
			}
			return errors.New("the gateway ended the log stream (it is shutting down); run `hearth logs -f` again once it is back")
		},
	}
	clientCmd(a, cmd, &cf, true)
	fs := cmd.Flags()
	fs.BoolVarP(&follow, "follow", "f", false, "follow: keep printing the logs of new invocations until interrupted")
	fs.IntVar(&limit, "limit", 20, "how many of the newest invocations to show first (0 to 1000)")
	fs.SetNormalizeFunc(renamedFlags(map[string]string{"f": "follow"}))
	return cmd
}

const dlqHint = "use `hearth dlq ls [NAME]` or `hearth dlq replay ID`"

func newDLQCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := group(&cobra.Command{
		Use:   "dlq",
		Short: "The async invocations that ran out of attempts",
		Long: `The dead-letter queue holds the async invocations that failed on every
attempt. List them, and queue one again with fresh attempts.`,
		Example: `  hearth dlq ls
  hearth dlq ls resize
  hearth dlq replay ID`,
	}, dlqHint)
	cf.attach(a, cmd, true)
	var of outputFlags
	ls := &cobra.Command{
		Use:               "ls [NAME]",
		Aliases:           []string{"list"},
		Short:             "List dead-lettered invocations, of every function or of NAME",
		Example:           "  hearth dlq ls\n  hearth dlq ls resize -o json",
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{dlqHint}
			}
			if err := of.validate(); err != nil {
				return err
			}
			fn := ""
			if len(args) == 1 {
				fn = args[0]
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			dls, err := cl.DeadLetters(cmd.Context(), fn)
			if err != nil {
				return cf.explain(err)
			}
			if dls == nil {
				dls = []client.DeadLetter{}
			}
			if len(dls) == 0 && !of.machine() {
				fmt.Fprintln(a.stderr, "the dead-letter queue is empty")
				return nil
			}
			return of.print(a.stdout, struct {
				DeadLetters []client.DeadLetter `json:"dead_letters"`
			}{dls}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "ID\tFUNCTION\tATTEMPTS\tDEAD AT\tLAST ERROR")
				for _, d := range dls {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.ID, d.Function, d.Attempts, d.DeadAt.Local().Format(time.DateTime), d.LastError)
				}
				return tw.Flush()
			})
		},
	}
	of.register(ls)
	replay := &cobra.Command{
		Use:     "replay ID",
		Short:   "Queue a dead-lettered invocation again, with fresh attempts",
		Example: "  hearth dlq replay ID",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{dlqHint}
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if err := cl.Replay(cmd.Context(), args[0]); err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "replaying %s; follow it with `hearth invocation %s`\n", args[0], args[0])
			return nil
		},
	}
	cmd.AddCommand(ls, replay)
	return cmd
}

func newInvocationCmd(a *app) *cobra.Command {
	var (
		cf     clientFlags
		of     outputFlags
		result bool
	)
	cmd := &cobra.Command{
		Use:   "invocation ID [--result]",
		Short: "Show an invocation's record, or its output",
		Example: `  hearth invocation ID
  hearth invocation ID --result > out.bin
  hearth invocation ID -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one invocation ID, as printed by `hearth invoke --async`")
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if result {
				out, err := cl.Result(cmd.Context(), args[0])
				if err != nil {
					return cf.explain(err)
				}
				_, err = a.stdout.Write(out)
				return err
			}
			inv, err := cl.Invocation(cmd.Context(), args[0])
			if err != nil {
				return cf.explain(err)
			}
			return of.print(a.stdout, inv, func(w io.Writer) error {
				fmt.Fprintf(w, "id        %s\nfunction  %s (version %d)\nmode      %s\nstatus    %s\nattempts  %d\ncold      %t\nrunner    %s\nplacement %s\ntimings   queued %.2fms, wait %.2fms, init %.2fms, run %.2fms\n",
					inv.ID, inv.Function, inv.Version, inv.Mode, inv.Status, inv.Attempts, inv.Cold, inv.Runner, inv.Placement,
					inv.Timings.QueuedMs, inv.Timings.WaitMs, inv.Timings.InitMs, inv.Timings.RunMs)
				if inv.Error != nil {
					fmt.Fprintf(w, "error     %s: %s\n", inv.Error.Code, inv.Error.Message)
				}
				return nil
			})
		},
	}
	clientCmd(a, cmd, &cf, false)
	cmd.Flags().BoolVar(&result, "result", false, "print the stored output instead of the record")
	of.register(cmd)
	return cmd
}
