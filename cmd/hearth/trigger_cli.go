package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/hearthfn/hearth/sdk/client"
)

func runTrigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trigger", stderr, "add NAME (--nats SUBJECT [--queue Q] [--at-least-once] | --cron SCHEDULE) | ls NAME | rm NAME N")
	var cf clientFlags
	cf.register(fs)
	subject := fs.String("nats", "", "add: a NATS subject whose messages invoke the function (the reply is its output)")
	queue := fs.String("queue", "", "add: the queue group of a NATS trigger (default one per trigger)")
	atLeastOnce := fs.Bool("at-least-once", false, "add: deliver NATS messages through JetStream, retried until the function succeeds")
	schedule := fs.String("cron", "", `add: a schedule, e.g. "*/5 * * * *", "@hourly" or "@every 30s" (UTC)`)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	cl := cf.client()
	switch {
	case len(pos) == 2 && pos[0] == "add":
		t := client.Trigger{}
		switch {
		case *subject != "" && *schedule == "":
			t.Type, t.Subject = "nats", *subject
			if *queue != "" || *atLeastOnce {
				t.Options = map[string]string{}
			}
			if *queue != "" {
				t.Options["queue"] = *queue
			}
			if *atLeastOnce {
				t.Options["delivery"] = "at-least-once"
			}
		case *schedule != "" && *subject == "":
			t.Type, t.Schedule = "cron", *schedule
		default:
			return usagef("give either --nats SUBJECT or --cron SCHEDULE")
		}
		v, err := cl.AddTrigger(ctx, pos[1], t)
		if err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "added a %s trigger to %s (now version %d)\n", t.Type, pos[1], v)
		return nil
	case len(pos) == 2 && pos[0] == "ls":
		ts, err := cl.Triggers(ctx, pos[1])
		if err != nil {
			return cf.explain(err)
		}
		if len(ts) == 0 {
			fmt.Fprintf(stderr, "%s has no triggers; add one with `hearth trigger add %s --cron \"@every 1m\"`\n", pos[1], pos[1])
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "N\tTYPE\tSOURCE\tOPTIONS")
		for i, t := range ts {
			source := t.Subject + t.Schedule
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\n", i+1, t.Type, source, t.Options)
		}
		return tw.Flush()
	case len(pos) == 3 && pos[0] == "rm":
		n, err := strconv.Atoi(pos[2])
		if err != nil {
			return usagef("trigger number %q: use the N that `hearth trigger ls %s` shows", pos[2], pos[1])
		}
		v, err := cl.DeleteTrigger(ctx, pos[1], n)
		if err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "removed trigger %d of %s (now version %d)\n", n, pos[1], v)
		return nil
	}
	return usagef("use `hearth trigger add NAME --nats SUBJECT|--cron SCHEDULE`, `hearth trigger ls NAME` or `hearth trigger rm NAME N`")
}
