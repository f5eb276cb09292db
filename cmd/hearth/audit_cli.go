package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", stderr, "[--limit N] [--action ACTION] [--json] [flags]")
	var cf clientFlags
	cf.register(fs)
	limit := fs.Int("limit", 100, "how many of the newest entries (1–1000)")
	action := fs.String("action", "", "only entries of this action, e.g. function.deploy, secret.put, key.create")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("audit takes no arguments; filter with --action, e.g. `hearth audit --action key.create`")
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit %d: use 1 to 1000", *limit)
	}
	entries, err := cf.client().Audit(ctx, client.AuditQuery{Limit: *limit, Action: *action})
	if err != nil {
		return cf.explain(err)
	}
	if *asJSON {
		return printJSON(stdout, struct {
			Entries []client.AuditEntry `json:"entries"`
		}{entries})
	}
	if len(entries) == 0 {
		fmt.Fprintln(stderr, "no audit entries")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKEY\tACTION\tNAMESPACE\tTARGET\tOUTCOME")
	for _, e := range entries { // newest first, as the API answers
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), orDash(e.KeyID), e.Action,
			orDash(e.Namespace), orDash(e.Target), e.Outcome)
	}
	return tw.Flush()
}

// orDash is s, or "-" for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
