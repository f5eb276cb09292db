package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

func newAuditCmd(a *app) *cobra.Command {
	var (
		cf     clientFlags
		of     outputFlags
		limit  int
		action string
	)
	cmd := &cobra.Command{
		Use:   "audit [--limit N] [--action ACTION]",
		Short: "Show the audit log of changes, newest first (admin)",
		Long: `Audit prints the audit log: every change (deploy, delete, alias, trigger,
secret, key), who made it (the key's id) and its outcome, newest first.`,
		Example: `  hearth audit
  hearth audit --action key.create --limit 10 -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("audit takes no arguments; filter with --action, e.g. `hearth audit --action key.create`")
			}
			if limit < 1 || limit > 1000 {
				return usagef("--limit %d: use 1 to 1000", limit)
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			entries, err := cl.Audit(cmd.Context(), client.AuditQuery{Limit: limit, Action: action})
			if err != nil {
				return cf.explain(err)
			}
			if entries == nil {
				entries = []client.AuditEntry{}
			}
			if len(entries) == 0 && !of.machine() {
				fmt.Fprintln(a.stderr, "no audit entries")
				return nil
			}
			return of.print(a.stdout, struct {
				Entries []client.AuditEntry `json:"entries"`
			}{entries}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "TIME\tKEY\tACTION\tNAMESPACE\tTARGET\tOUTCOME")
				for _, e := range entries { // newest first, as the API answers
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), orDash(e.KeyID), e.Action,
						orDash(e.Namespace), orDash(e.Target), e.Outcome)
				}
				return tw.Flush()
			})
		},
	}
	clientCmd(a, cmd, &cf, false)
	cmd.Flags().IntVar(&limit, "limit", 100, "how many of the newest entries (1–1000)")
	cmd.Flags().StringVar(&action, "action", "", "only entries of this action, e.g. function.deploy, secret.put, key.create")
	_ = cmd.RegisterFlagCompletionFunc("action", cobra.FixedCompletions([]cobra.Completion{"function.deploy", "function.delete", "alias.set", "alias.delete",
		"trigger.add", "trigger.delete", "secret.put", "secret.delete", "key.create", "key.delete"}, cobra.ShellCompDirectiveNoFileComp))
	of.register(cmd)
	return cmd
}

// orDash is s, or "-" for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
