package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

const triggerHint = "use `hearth trigger add NAME --nats SUBJECT|--cron SCHEDULE`, `hearth trigger ls NAME` or `hearth trigger rm NAME N`"

func newTriggerCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := group(&cobra.Command{
		Use:   "trigger",
		Short: "Add, list and remove the NATS and cron triggers of a function",
		Long: `A trigger invokes a function on an event: a message on a NATS subject (the
reply is its output) or a cron schedule (UTC). Each change makes a new
version of the function with the same module.`,
		Example: `  hearth trigger add hello --nats orders.created
  hearth trigger add hello --nats orders.created --queue workers --at-least-once
  hearth trigger add report --cron "@every 1h"
  hearth trigger ls hello
  hearth trigger rm hello 1`,
	}, triggerHint)
	cf.attach(a, cmd, true)

	var (
		subject, queue, schedule string
		atLeastOnce              bool
	)
	add := &cobra.Command{
		Use:   "add NAME (--nats SUBJECT [--queue Q] [--at-least-once] | --cron SCHEDULE)",
		Short: "Add a NATS or cron trigger to a function",
		Example: `  hearth trigger add hello --nats orders.created
  hearth trigger add report --cron "*/5 * * * *"`,
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{triggerHint}
			}
			t := client.Trigger{}
			switch {
			case subject != "" && schedule == "":
				t.Type, t.Subject = "nats", subject
				if queue != "" || atLeastOnce {
					t.Options = map[string]string{}
				}
				if queue != "" {
					t.Options["queue"] = queue
				}
				if atLeastOnce {
					t.Options["delivery"] = "at-least-once"
				}
			case schedule != "" && subject == "":
				t.Type, t.Schedule = "cron", schedule
			default:
				return usagef("give either --nats SUBJECT or --cron SCHEDULE")
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			v, err := cl.AddTrigger(cmd.Context(), args[0], t)
			if err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "added a %s trigger to %s (now version %d)\n", t.Type, args[0], v)
			return nil
		},
	}
	fs := add.Flags()
	fs.StringVar(&subject, "nats", "", "a NATS subject whose messages invoke the function (the reply is its output)")
	fs.StringVar(&queue, "queue", "", "the queue group of a NATS trigger (default one per trigger)")
	fs.BoolVar(&atLeastOnce, "at-least-once", false, "deliver NATS messages through JetStream, retried until the function succeeds")
	fs.StringVar(&schedule, "cron", "", `a schedule, e.g. "*/5 * * * *", "@hourly" or "@every 30s" (UTC)`)

	var of outputFlags
	ls := &cobra.Command{
		Use:               "ls NAME",
		Aliases:           []string{"list"},
		Short:             "List the triggers of a function, numbered from 1",
		Example:           "  hearth trigger ls hello",
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{triggerHint}
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			ts, err := cl.Triggers(cmd.Context(), args[0])
			if err != nil {
				return cf.explain(err)
			}
			if ts == nil {
				ts = []client.Trigger{}
			}
			if len(ts) == 0 && !of.machine() {
				fmt.Fprintf(a.stderr, "%s has no triggers; add one with `hearth trigger add %s --cron \"@every 1m\"`\n", args[0], args[0])
				return nil
			}
			return of.print(a.stdout, struct {
				Triggers []client.Trigger `json:"triggers"`
			}{ts}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "N\tTYPE\tSOURCE\tOPTIONS")
				for i, t := range ts {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%v\n", i+1, t.Type, t.Subject+t.Schedule, t.Options)
				}
				return tw.Flush()
			})
		},
	}
	of.register(ls)

	rm := &cobra.Command{
		Use:               "rm NAME N",
		Aliases:           []string{"remove"},
		Short:             "Remove trigger number N (as trigger ls shows it) of a function",
		Example:           "  hearth trigger rm hello 1",
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{triggerHint}
			}
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return usagef("trigger number %q: use the N that `hearth trigger ls %s` shows", args[1], args[0])
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			v, err := cl.DeleteTrigger(cmd.Context(), args[0], n)
			if err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "removed trigger %d of %s (now version %d)\n", n, args[0], v)
			return nil
		},
	}
	cmd.AddCommand(add, ls, rm)
	return cmd
}
