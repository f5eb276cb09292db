package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hearthfn/hearth/sdk/client"
)

// secretStdin is where `secret set` reads a value given neither by
// --value nor by --from-file; nil is os.Stdin (tests set a file).
var secretStdin *os.File

func runSecret(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("secret", stderr, "set NAME [--value V | --from-file F | < value] | ls | rm NAME [flags]")
	var cf clientFlags
	cf.register(fs)
	value := fs.String("value", "", "set: the value (it shows in the shell's history and `ps`; prefer --from-file or stdin)")
	fromFile := fs.String("from-file", "", "set: read the value from `FILE`, byte for byte")
	asJSON := fs.Bool("json", false, "ls: print the API's JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ns := cf.namespace
	if ns == "" {
		ns = "default"
	}
	sub := ""
	if len(pos) > 0 {
		sub = pos[0]
	}
	switch {
	case sub == "set" && len(pos) == 2:
		if pos[1] == "" {
			return usagef("the secret NAME is empty")
		}
		v, err := secretValue(fs, *value, *fromFile)
		if err != nil {
			return err
		}
		created, _, err := cf.client().PutSecret(ctx, pos[1], v)
		if err != nil {
			return cf.explain(err)
		}
		verb := "updated"
		if created {
			verb = "created"
		}
		fmt.Fprintf(stdout, "secret %s %s in namespace %s\n", pos[1], verb, ns)
		return nil
	case sub == "set":
		return usagef("want one secret NAME, e.g. `hearth secret set db-password --from-file pw.txt`")
	case sub == "ls" && len(pos) == 1:
		secrets, err := cf.client().ListSecrets(ctx)
		if err != nil {
			return cf.explain(err)
		}
		if *asJSON {
			return printJSON(stdout, struct {
				Secrets []client.SecretMeta `json:"secrets"`
			}{secrets})
		}
		if len(secrets) == 0 {
			fmt.Fprintf(stderr, "no secrets in namespace %s; set one with `hearth secret set NAME < value`\n", ns)
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED\tUPDATED")
		for _, s := range secrets {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.CreatedAt.Local().Format(time.DateTime), s.UpdatedAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	case sub == "rm" && len(pos) == 2:
		if err := cf.client().DeleteSecret(ctx, pos[1]); err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "removed secret %s from namespace %s\n", pos[1], ns)
		return nil
	case sub == "rm":
		return usagef("want one secret NAME, e.g. `hearth secret rm db-password`")
	}
	return usagef("use `hearth secret set NAME [--value V | --from-file F | < value]`, `hearth secret ls` or `hearth secret rm NAME`")
}

// secretValue is the value of `secret set`: --value, --from-file, or
// stdin when it is not a terminal (a value typed there would show).
// Files and stdin are taken byte for byte, a final newline included.
func secretValue(fs *flag.FlagSet, value, fromFile string) ([]byte, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var (
		r    io.Reader
		from string
	)
	switch {
	case set["value"] && set["from-file"]:
		return nil, usagef("give the value with --value or --from-file, not both")
	case set["value"]:
		if len(value) > client.MaxSecretValue {
			return nil, usagef("the value is %d bytes; a secret is at most %d (64 KiB)", len(value), client.MaxSecretValue)
		}
		return checkSecretValue([]byte(value), "--value")
	case set["from-file"]:
		if fromFile == "" {
			return nil, usagef("--from-file needs a FILE")
		}
		f, err := os.Open(fromFile)
		if err != nil {
			return nil, fmt.Errorf("read the value: %w", err)
		}
		defer f.Close()
		r, from = f, fromFile
	default:
		in := secretStdin
		if in == nil {
			in = os.Stdin
		}
		if fi, err := in.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
			return nil, usagef("stdin is a terminal or a device, not a pipe or a file: pipe the value in (e.g. `hearth secret set NAME < file`), or give --from-file FILE or --value V")
		}
		r, from = in, "stdin"
	}
	b, err := io.ReadAll(io.LimitReader(r, client.MaxSecretValue+1))
	if err != nil {
		return nil, fmt.Errorf("read the value from %s: %w", from, err)
	}
	if len(b) > client.MaxSecretValue {
		return nil, usagef("the value in %s is over %d bytes (64 KiB), the most a secret holds", from, client.MaxSecretValue)
	}
	return checkSecretValue(b, from)
}

// checkSecretValue refuses a value the API cannot carry: it goes in a JSON
// string, so it must be UTF-8 text.
func checkSecretValue(b []byte, from string) ([]byte, error) {
	if !utf8.Valid(b) {
		return nil, usagef("the value in %s is not UTF-8 text; encode a binary value (e.g. base64) first", from)
	}
	return b, nil
}
