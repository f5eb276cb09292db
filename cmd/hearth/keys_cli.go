package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

const keyHint = "use `hearth key create NAME --scope SCOPE`, `hearth key ls` or `hearth key rm ID`"

func newKeyCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := group(&cobra.Command{
		Use:   "key",
		Short: "Create, list and revoke API keys (admin)",
		Long: `An API key has scopes (read, invoke, deploy, admin) and a namespace it may
act in, or "*" for all; optionally a rate limit. The key itself is shown
once, when it is created; the gateway keeps only its hash.`,
		Example: `  hearth key create ci --scope deploy --key-namespace team-a
  hearth key create dashboard --scope read,invoke --rps 10 --burst 20
  hearth key ls
  hearth key rm ID`,
	}, keyHint)
	cf.attach(a, cmd, true)

	var (
		scopes []string
		keyNS  string
		rps    float64
		burst  int
		cof    outputFlags
	)
	create := &cobra.Command{
		Use:   "create NAME --scope SCOPE[,SCOPE…] [--key-namespace NS|*] [--rps R --burst B]",
		Short: "Create an API key (the key is shown only once)",
		Example: `  hearth key create ci --scope deploy --key-namespace team-a
  hearth key create ops --scope admin --key-namespace '*' -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one key NAME, e.g. `hearth key create ci --scope deploy --key-namespace team-a`")
			}
			if err := cof.validate(); err != nil {
				return err
			}
			if err := cf.resolve(); err != nil {
				return err
			}
			fs := cmd.Flags()
			req, err := keyRequest(args[0], scopes, keyNS, cf.namespace, fs.Changed("rps"), fs.Changed("burst"), rps, burst)
			if err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			k, err := cl.CreateKey(cmd.Context(), req)
			if err != nil {
				return cf.explain(err)
			}
			return cof.print(a.stdout, k, func(w io.Writer) error {
				fmt.Fprintf(w, "created key %s (%s in namespace %s)\n", k.Name, strings.Join(k.Scopes, ","), k.Namespace)
				fmt.Fprintf(w, "id:  %s\n", k.ID)
				fmt.Fprintf(w, "key: %s\n", k.Key)
				fmt.Fprintln(w, "store the key now: it will not be shown again")
				return nil
			})
		},
	}
	fs := create.Flags()
	fs.StringArrayVar(&scopes, "scope", nil, "scopes of the key, of read, invoke, deploy, admin (comma-separated or repeated)")
	fs.StringVar(&keyNS, "key-namespace", "", `the namespace the key may act in, or "*" for all (default --namespace, else "default")`)
	fs.Float64Var(&rps, "rps", 0, "requests per second the key may sustain (with --burst; default: no limit)")
	fs.IntVar(&burst, "burst", 0, "requests the key may make at once above --rps (with --rps)")
	_ = create.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions([]cobra.Completion{client.ScopeRead, client.ScopeInvoke, client.ScopeDeploy, client.ScopeAdmin}, cobra.ShellCompDirectiveNoFileComp))
	cof.register(create)

	var lof outputFlags
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the API keys (never the keys themselves)",
		Example: "  hearth key ls\n  hearth key ls -o yaml",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{keyHint}
			}
			if err := lof.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			keys, err := cl.ListKeys(cmd.Context())
			if err != nil {
				return cf.explain(err)
			}
			if keys == nil {
				keys = []client.Key{}
			}
			if len(keys) == 0 && !lof.machine() {
				fmt.Fprintln(a.stderr, "no API keys; create one with `hearth key create NAME --scope read`")
				return nil
			}
			return lof.print(a.stdout, struct {
				Keys []client.Key `json:"keys"`
			}{keys}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tNAMESPACE\tRATE LIMIT\tCREATED")
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Namespace,
						rateLimitText(k.RateLimit), k.CreatedAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	lof.register(ls)

	rm := &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"remove", "revoke"},
		Short:   "Revoke an API key; every gateway refuses it within seconds",
		Example: "  hearth key rm ID",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one key ID, as `hearth key ls` shows it, e.g. `hearth key rm ID`")
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteKey(cmd.Context(), args[0]); err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "revoked key %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, ls, rm)
	return cmd
}

// keyRequest checks the flags of `key create` and makes its request.
func keyRequest(name string, scopes []string, keyNS, ns string, rpsSet, burstSet bool, rps float64, burst int) (client.KeyRequest, error) {
	req := client.KeyRequest{Name: name, Namespace: keyNS}
	if strings.TrimSpace(name) == "" {
		return req, usagef("the key NAME is empty")
	}
	for _, s := range scopes {
		for _, one := range strings.Split(s, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				return req, usagef("--scope %q: an empty scope; use read, invoke, deploy or admin, comma-separated", s)
			}
			req.Scopes = append(req.Scopes, one)
		}
	}
	if len(req.Scopes) == 0 {
		return req, usagef("give the key's scopes with --scope, e.g. --scope read,invoke (of read, invoke, deploy, admin)")
	}
	if req.Namespace == "" {
		req.Namespace = ns
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	switch {
	case rpsSet != burstSet:
		return req, usagef("give --rps and --burst together, e.g. --rps 10 --burst 20")
	case rpsSet && (rps <= 0 || burst < 1):
		return req, usagef("--rps %s --burst %d: the rate must be above 0 and the burst at least 1", strconv.FormatFloat(rps, 'g', -1, 64), burst)
	case rpsSet:
		req.RateLimit = &client.RateLimit{RPS: rps, Burst: burst}
	}
	return req, nil
}

func rateLimitText(r *client.RateLimit) string {
	if r == nil || r.RPS == 0 {
		return "none"
	}
	return fmt.Sprintf("%s/s, burst %d", strconv.FormatFloat(r.RPS, 'g', -1, 64), r.Burst)
}
