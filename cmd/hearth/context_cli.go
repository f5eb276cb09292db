package main

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/cliconfig"
	"github.com/hearthfn/hearth/registry"
)

const contextHint = "use `hearth context ls`, `hearth context use NAME`, `hearth context set NAME --gateway URL [--namespace NS] [--key-file FILE]` or `hearth context rm NAME`"

// contextRow is a context as ls shows it: never the key itself.
type contextRow struct {
	Name      string `json:"name"`
	Current   bool   `json:"current"`
	Gateway   string `json:"gateway,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Key       string `json:"key"` // "stored", "file", or "none"
	KeyFile   string `json:"key_file,omitempty"`
}

func newContextCmd(a *app) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "context",
		Short: "Name gateways, namespaces and keys in the config file, and pick one",
		Long: `A context is a gateway, a namespace and an API key (stored by hearth login, or
a key file) under a name, in the config file: $XDG_CONFIG_HOME/hearth/config.yaml,
else ~/.config/hearth/config.yaml (HEARTH_CONFIG names another file). Commands
use the current context, or the one --context or HEARTH_CONTEXT names, for
what their flags and the environment variables leave unset.`,
		Example: `  hearth context set dev --gateway http://127.0.0.1:8080 --key-file .hearth/admin.key
  hearth context set prod --gateway https://hearth.example.com --namespace shop
  hearth context use prod
  hearth context ls`,
	}, contextHint)

	var of outputFlags
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the contexts; the current one is marked *",
		Example: "  hearth context ls\n  hearth context ls -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{contextHint}
			}
			if err := of.validate(); err != nil {
				return err
			}
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			rows := []contextRow{}
			for _, name := range cfg.Names() {
				c := cfg.Contexts[name]
				r := contextRow{Name: name, Current: name == cfg.Current, Gateway: c.Gateway, Namespace: c.Namespace, Key: "none", KeyFile: c.KeyFile}
				switch {
				case c.Key != "":
					r.Key = "stored"
				case c.KeyFile != "":
					r.Key = "file"
				}
				rows = append(rows, r)
			}
			if len(rows) == 0 && !of.machine() {
				fmt.Fprintf(a.stderr, "no contexts in %s; add one with `hearth context set NAME --gateway URL` or `hearth login`\n", cfg.File())
				return nil
			}
			return of.print(a.stdout, struct {
				Current  string       `json:"current_context"`
				Contexts []contextRow `json:"contexts"`
			}{cfg.Current, rows}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "CURRENT\tNAME\tGATEWAY\tNAMESPACE\tKEY")
				for _, r := range rows {
					mark, key := "", r.Key
					if r.Current {
						mark = "*"
					}
					if r.KeyFile != "" {
						key = r.KeyFile
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, r.Name, orDash(r.Gateway), orDash(r.Namespace), key)
				}
				return tw.Flush()
			})
		},
	}
	of.register(ls)

	use := &cobra.Command{
		Use:               "use NAME",
		Short:             "Make a context the current one",
		Example:           "  hearth context use prod",
		ValidArgsFunction: completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one context NAME, e.g. `hearth context use prod`")
			}
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			if err := cfg.Use(args[0]); err != nil {
				return usageError{err.Error()}
			}
			if err := cfg.Save(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "now using context %s (%s)\n", args[0], orDash(cfg.Contexts[args[0]].Gateway))
			return nil
		},
	}

	var gateway, namespace, keyFile string
	set := &cobra.Command{
		Use:   "set NAME [--gateway URL] [--namespace NS] [--key-file FILE]",
		Short: "Add a context, or change the settings given of one",
		Long: `Set adds the context NAME, or changes what its flags give of an existing one
(an empty value clears it). --key-file names a file that holds the key, read
at each use; hearth login stores a key in the context instead. The first
context becomes the current one.`,
		Example: `  hearth context set dev --gateway http://127.0.0.1:8080 --key-file .hearth/admin.key
  hearth context set prod --namespace shop`,
		ValidArgsFunction: completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one context NAME, e.g. `hearth context set dev --gateway http://127.0.0.1:8080`")
			}
			name := args[0]
			if name == "" {
				return usagef("the context NAME is empty")
			}
			fs := cmd.Flags()
			if fs.Changed("gateway") && gateway != "" {
				u, err := url.Parse(gateway)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usagef("--gateway %q: give an absolute http(s) URL, e.g. http://127.0.0.1:8080", gateway)
				}
			}
			if fs.Changed("namespace") && namespace != "" {
				if err := registry.ValidateName("namespace", namespace); err != nil {
					return usagef("--namespace: %v", err)
				}
			}
			if fs.Changed("key-file") && keyFile != "" {
				abs, err := filepath.Abs(keyFile)
				if err != nil {
					return err
				}
				keyFile = abs
			}
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			_, existed := cfg.Contexts[name]
			c := cfg.Set(name)
			if fs.Changed("gateway") {
				c.Gateway = gateway
			}
			if fs.Changed("namespace") {
				c.Namespace = namespace
			}
			if fs.Changed("key-file") {
				c.KeyFile, c.Key = keyFile, ""
			}
			if cfg.Current == "" {
				cfg.Current = name
			}
			if err := cfg.Save(); err != nil {
				return err
			}
			verb := "changed"
			if !existed {
				verb = "added"
			}
			current := ""
			if cfg.Current == name {
				current = " (current)"
			}
			fmt.Fprintf(a.stdout, "context %s %s%s in %s\n", name, verb, current, cfg.File())
			return nil
		},
	}
	fs := set.Flags()
	fs.StringVarP(&gateway, "gateway", "g", "", "the gateway URL")
	fs.StringVarP(&namespace, "namespace", "n", "", "the namespace")
	fs.StringVar(&keyFile, "key-file", "", "a file holding the API key, read at each use (made absolute)")

	rm := &cobra.Command{
		Use:               "rm NAME",
		Aliases:           []string{"remove"},
		Short:             "Remove a context (and the key stored in it)",
		Example:           "  hearth context rm old",
		ValidArgsFunction: completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one context NAME, e.g. `hearth context rm old`")
			}
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			if err := cfg.Remove(args[0]); err != nil {
				return usageError{err.Error()}
			}
			if err := cfg.Save(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "removed context %s\n", args[0])
			return nil
		},
	}

	current := &cobra.Command{
		Use:     "current",
		Short:   "Print the name of the current context",
		Example: "  hearth context current",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{contextHint}
			}
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			if cfg.Current == "" {
				return usagef("no current context; pick one with `hearth context use NAME`")
			}
			fmt.Fprintln(a.stdout, cfg.Current)
			return nil
		},
	}
	cmd.AddCommand(ls, use, set, rm, current)
	return cmd
}

// completeContexts completes a context name.
func completeContexts(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) != 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, err := cliconfig.Load()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return cfg.Names(), cobra.ShellCompDirectiveNoFileComp
}
