package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

func runKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("key", stderr, "create NAME --scope SCOPE[,SCOPE…] [--key-namespace NS|*] [--rps R --burst B] | ls | rm ID [flags]")
	var cf clientFlags
	cf.register(fs)
	var scopes multiFlag
	fs.Var(&scopes, "scope", "create: scopes of the key, of read, invoke, deploy, admin (comma-separated or repeated)")
	keyNS := fs.String("key-namespace", "", `create: the namespace the key may act in, or "*" for all (default --namespace, else "default")`)
	rps := fs.Float64("rps", 0, "create: requests per second the key may sustain (with --burst; default: no limit)")
	burst := fs.Int("burst", 0, "create: requests the key may make at once above --rps (with --rps)")
	asJSON := fs.Bool("json", false, "create, ls: print the API's JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	sub := ""
	if len(pos) > 0 {
		sub = pos[0]
	}
	switch {
	case sub == "create" && len(pos) == 2:
		req, err := keyRequest(pos[1], scopes, *keyNS, cf.namespace, fs, *rps, *burst)
		if err != nil {
			return err
		}
		k, err := cf.client().CreateKey(ctx, req)
		if err != nil {
			return cf.explain(err)
		}
		if *asJSON {
			return printJSON(stdout, k)
		}
		fmt.Fprintf(stdout, "created key %s (%s in namespace %s)\n", k.Name, strings.Join(k.Scopes, ","), k.Namespace)
		fmt.Fprintf(stdout, "id:  %s\n", k.ID)
		fmt.Fprintf(stdout, "key: %s\n", k.Key)
		fmt.Fprintln(stdout, "store the key now: it will not be shown again")
		return nil
	case sub == "create":
		return usagef("want one key NAME, e.g. `hearth key create ci --scope deploy --key-namespace team-a`")
	case sub == "ls" && len(pos) == 1:
		keys, err := cf.client().ListKeys(ctx)
		if err != nil {
			return cf.explain(err)
		}
		if *asJSON {
			return printJSON(stdout, struct {
				Keys []client.Key `json:"keys"`
			}{keys})
		}
		if len(keys) == 0 {
			fmt.Fprintln(stderr, "no API keys; create one with `hearth key create NAME --scope read`")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tNAMESPACE\tRATE LIMIT\tCREATED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Namespace,
				rateLimitText(k.RateLimit), k.CreatedAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	case sub == "rm" && len(pos) == 2:
		if err := cf.client().DeleteKey(ctx, pos[1]); err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "revoked key %s\n", pos[1])
		return nil
	case sub == "rm":
		return usagef("want one key ID, as `hearth key ls` shows it, e.g. `hearth key rm ID`")
	}
	return usagef("use `hearth key create NAME --scope SCOPE`, `hearth key ls` or `hearth key rm ID`")
}

// keyRequest checks the flags of `key create` and makes its request.
func keyRequest(name string, scopes []string, keyNS, ns string, fs *flag.FlagSet, rps float64, burst int) (client.KeyRequest, error) {
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["rps"] != set["burst"]:
		return req, usagef("give --rps and --burst together, e.g. --rps 10 --burst 20")
	case set["rps"] && (rps <= 0 || burst < 1):
		return req, usagef("--rps %s --burst %d: the rate must be above 0 and the burst at least 1", strconv.FormatFloat(rps, 'g', -1, 64), burst)
	case set["rps"]:
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

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
