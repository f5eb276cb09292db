package main

import (
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

const secretHint = "use `hearth secret set NAME [--value V | --from-file F | < value]`, `hearth secret ls` or `hearth secret rm NAME`"

func newSecretCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := group(&cobra.Command{
		Use:   "secret",
		Short: "Set, list and remove the secrets of a namespace",
		Long: `Secrets are values kept encrypted per namespace and granted to functions by
name (hearth deploy --secret NAME): the function sees NAME upper-cased with
- as _ in its environment. Values are never shown, logged or echoed.`,
		Example: `  hearth secret set db-password < pw.txt
  hearth secret set api-token --from-file token.txt -n shop
  hearth secret ls
  hearth secret rm db-password`,
	}, secretHint)
	cf.attach(a, cmd, true)

	var value, fromFile string
	set := &cobra.Command{
		Use:   "set NAME [--value V | --from-file F | < value]",
		Short: "Set a secret of the namespace (never echoed)",
		Long: `Set creates or updates the secret NAME with a value from --from-file, stdin
(a pipe or a file, byte for byte) or --value (which shows in the shell's
history; prefer the others). New invocations see a new value within seconds.`,
		Example: `  hearth secret set db-password < pw.txt
  hearth secret set db-password --from-file pw.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one secret NAME, e.g. `hearth secret set db-password --from-file pw.txt`")
			}
			if args[0] == "" {
				return usagef("the secret NAME is empty")
			}
			fs := cmd.Flags()
			v, err := secretValue(fs.Changed("value"), fs.Changed("from-file"), value, fromFile)
			if err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			created, _, err := cl.PutSecret(cmd.Context(), args[0], v)
			if err != nil {
				return cf.explain(err)
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(a.stdout, "secret %s %s in namespace %s\n", args[0], verb, cf.ns())
			return nil
		},
	}
	set.Flags().StringVar(&value, "value", "", "the value (it shows in the shell's history and ps; prefer --from-file or stdin)")
	set.Flags().StringVar(&fromFile, "from-file", "", "read the value from `FILE`, byte for byte")

	var of outputFlags
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the secrets of the namespace (names and times, never values)",
		Example: "  hearth secret ls\n  hearth secret ls -n shop -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{secretHint}
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			secrets, err := cl.ListSecrets(cmd.Context())
			if err != nil {
				return cf.explain(err)
			}
			if secrets == nil {
				secrets = []client.SecretMeta{}
			}
			if len(secrets) == 0 && !of.machine() {
				fmt.Fprintf(a.stderr, "no secrets in namespace %s; set one with `hearth secret set NAME < value`\n", cf.ns())
				return nil
			}
			return of.print(a.stdout, struct {
				Secrets []client.SecretMeta `json:"secrets"`
			}{secrets}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "NAME\tCREATED\tUPDATED")
				for _, s := range secrets {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.CreatedAt.Local().Format(time.DateTime), s.UpdatedAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	of.register(ls)

	rm := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove a secret of the namespace",
		Example: "  hearth secret rm db-password",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one secret NAME, e.g. `hearth secret rm db-password`")
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteSecret(cmd.Context(), args[0]); err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "removed secret %s from namespace %s\n", args[0], cf.ns())
			return nil
		},
	}
	cmd.AddCommand(set, ls, rm)
	return cmd
}

// secretValue is the value of `secret set`: --value, --from-file, or
// stdin when it is not a terminal (a value typed there would show).
// Files and stdin are taken byte for byte, a final newline included.
func secretValue(valueSet, fromFileSet bool, value, fromFile string) ([]byte, error) {
	var (
		r    io.Reader
		from string
	)
	switch {
	case valueSet && fromFileSet:
		return nil, usagef("give the value with --value or --from-file, not both")
	case valueSet:
		if len(value) > client.MaxSecretValue {
			return nil, usagef("the value is %d bytes; a secret is at most %d (64 KiB)", len(value), client.MaxSecretValue)
		}
		return checkSecretValue([]byte(value), "--value")
	case fromFileSet:
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
		in := stdin()
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
