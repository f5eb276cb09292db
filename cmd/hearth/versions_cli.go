package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

func newVersionsCmd(a *app) *cobra.Command {
	var (
		cf clientFlags
		of outputFlags
	)
	cmd := &cobra.Command{
		Use:   "versions NAME",
		Short: "List the versions of a function",
		Example: `  hearth versions hello
  hearth versions hello -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth versions hello`")
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			versions, err := cl.Versions(cmd.Context(), args[0])
			if err != nil {
				return cf.explain(err)
			}
			if versions == nil {
				versions = []client.Version{}
			}
			return of.print(a.stdout, struct {
				Versions []client.Version `json:"versions"`
			}{versions}, func(w io.Writer) error { return printVersions(w, versions) })
		},
	}
	clientCmd(a, cmd, &cf, true)
	of.register(cmd)
	return cmd
}

func printVersions(w io.Writer, versions []client.Version) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "VERSION\tABI\tDIGEST\tSIZE\tCREATED\tALIASES")
	for _, v := range versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.ABI, shortDigest(v.Digest), humanBytes(v.Size),
			v.CreatedAt.Local().Format(time.DateTime), strings.Join(v.Aliases, ","))
	}
	return tw.Flush()
}

const aliasHint = "want `alias set NAME ALIAS VERSION` (or VERSION=WEIGHT … for a split adding up to 100), `alias rm NAME ALIAS` or `alias ls NAME`"

// newAliasCmd sets, removes and lists aliases.
func newAliasCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := group(&cobra.Command{
		Use:   "alias",
		Short: "Point an alias at a version of a function, or split calls between versions",
		Long: `An alias names a version of a function (NAME:ALIAS), or splits its calls
between versions by weight (a canary). "latest" is implicit and moves with
every deploy.`,
		Example: `  hearth alias set greet prod 3
  hearth alias set greet canary 3=90 4=10
  hearth alias ls greet
  hearth alias rm greet canary`,
	}, aliasHint)
	cf.attach(a, cmd, true)

	set := &cobra.Command{
		Use:   "set NAME ALIAS VERSION[=WEIGHT] [VERSION=WEIGHT…]",
		Short: "Point an alias at a version, or split calls between versions",
		Example: `  hearth alias set greet prod 3
  hearth alias set greet canary 3=90 4=10`,
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 {
				return usageError{aliasHint}
			}
			name, alias := args[0], args[1]
			version, weights, err := parseTargets(args[2:])
			if err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			var al *client.Alias
			if weights == nil {
				al, err = cl.SetAlias(cmd.Context(), name, alias, version)
			} else {
				al, err = cl.SetAliasWeights(cmd.Context(), name, alias, weights)
			}
			if err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "%s:%s → %s\n", name, alias, aliasTarget(*al))
			return nil
		},
	}
	rm := &cobra.Command{
		Use:               "rm NAME ALIAS",
		Aliases:           []string{"remove"},
		Short:             "Remove an alias",
		Example:           `  hearth alias rm greet canary`,
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{aliasHint}
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteAlias(cmd.Context(), args[0], args[1]); err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "removed alias %s of %s\n", args[1], args[0])
			return nil
		},
	}
	var of outputFlags
	ls := &cobra.Command{
		Use:               "ls NAME",
		Aliases:           []string{"list"},
		Short:             "List the aliases of a function",
		Example:           `  hearth alias ls greet`,
		ValidArgsFunction: completeFunctions(&cf, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{aliasHint}
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			aliases, err := cl.Aliases(cmd.Context(), args[0])
			if err != nil {
				return cf.explain(err)
			}
			if aliases == nil {
				aliases = []client.Alias{}
			}
			return of.print(a.stdout, struct {
				Aliases []client.Alias `json:"aliases"`
			}{aliases}, func(w io.Writer) error { return printAliases(w, aliases) })
		},
	}
	of.register(ls)
	cmd.AddCommand(set, rm, ls)
	return cmd
}

// parseTargets reads the targets of `alias set`: a lone VERSION, or
// VERSION=WEIGHT pairs (weights is then set).
func parseTargets(args []string) (version int, weights map[int]int, err error) {
	if len(args) == 1 && !strings.Contains(args[0], "=") {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 {
			return 0, nil, usagef("version %q is not a version number", args[0])
		}
		return v, nil, nil
	}
	weights = make(map[int]int, len(args))
	for _, arg := range args {
		vs, ws, ok := strings.Cut(arg, "=")
		v, verr := strconv.Atoi(vs)
		w, werr := strconv.Atoi(strings.TrimSuffix(ws, "%"))
		if !ok || verr != nil || werr != nil {
			return 0, nil, usagef("%q: give VERSION=WEIGHT, e.g. 3=90 4=10 (weights are percentages adding up to 100)", arg)
		}
		if _, dup := weights[v]; dup {
			return 0, nil, usagef("version %d is given twice", v)
		}
		weights[v] = w
	}
	return 0, weights, nil
}

// aliasTarget is what an alias names, as the CLI shows it.
func aliasTarget(a client.Alias) string {
	if len(a.Weights) == 0 {
		return strconv.Itoa(a.Version)
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(a.Weights)) {
		parts = append(parts, fmt.Sprintf("%d=%d%%", v, a.Weights[v]))
	}
	return strings.Join(parts, " ")
}

func printAliases(w io.Writer, aliases []client.Alias) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "ALIAS\tVERSION\tUPDATED")
	for _, a := range aliases {
		name := a.Name
		if a.Implicit {
			name += " (implicit)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, aliasTarget(a), a.UpdatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// newInspectCmd prints a function: its current spec, versions and aliases.
func newInspectCmd(a *app) *cobra.Command {
	var (
		cf clientFlags
		of outputFlags
	)
	cmd := &cobra.Command{
		Use:   "inspect NAME",
		Short: "Show a function: its spec, versions and aliases",
		Example: `  hearth inspect hello
  hearth inspect hello -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth inspect hello`")
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			fn, err := cl.Get(cmd.Context(), args[0])
			if err != nil {
				return cf.explain(err)
			}
			return of.print(a.stdout, fn, func(w io.Writer) error { return printFunction(w, fn) })
		},
	}
	clientCmd(a, cmd, &cf, true)
	of.register(cmd)
	return cmd
}

// printFunction is the table of inspect.
func printFunction(w io.Writer, fn *client.Function) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "name:\t%s\n", fn.Name)
	fmt.Fprintf(tw, "namespace:\t%s\n", fn.Namespace)
	fmt.Fprintf(tw, "latest:\tversion %d (%s, %s)\n", fn.Version, fn.ABI, fn.Digest)
	fmt.Fprintf(tw, "created:\t%s\n", fn.CreatedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "updated:\t%s\n", fn.UpdatedAt.Local().Format(time.DateTime))
	if err := tw.Flush(); err != nil {
		return err
	}
	if fn.Spec != nil {
		fmt.Fprintf(w, "\nspec (version %d):\n", fn.Version)
		printSpec(w, *fn.Spec)
	}
	fmt.Fprintln(w, "\nversions:")
	if err := printVersions(w, fn.Versions); err != nil {
		return err
	}
	fmt.Fprintln(w, "\naliases:")
	return printAliases(w, fn.Aliases)
}

func printSpec(w io.Writer, s client.Spec) {
	tw := newTable(w)
	line := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	if s.Description != "" {
		line("description", "%s", s.Description)
	}
	line("memory_mb", "%d", s.MemoryMB)
	line("timeout_ms", "%d", s.TimeoutMs)
	if s.Concurrency == 0 {
		line("concurrency", "no cap")
	} else {
		line("concurrency", "%d", s.Concurrency)
	}
	if s.MaxPayload == 0 {
		line("max_payload", "the gateway's limit")
	} else {
		line("max_payload", "%s", humanBytes(s.MaxPayload))
	}
	if s.Records != "" {
		line("records", "%s", s.Records)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		line("env", "%s=%s", k, s.Env[k])
	}
	if len(s.Secrets) > 0 {
		line("secrets", "%s", strings.Join(s.Secrets, ", "))
	}
	for _, t := range s.Triggers {
		what := t.Subject + t.Schedule
		for _, k := range slices.Sorted(maps.Keys(t.Options)) {
			what += fmt.Sprintf(" %s=%s", k, t.Options[k])
		}
		line("trigger", "%s %s", t.Type, what)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		line("label", "%s=%s", k, s.Labels[k])
	}
	_ = tw.Flush()
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
