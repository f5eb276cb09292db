package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

// runVersions lists the versions of a function.
func runVersions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("versions", stderr, "NAME [flags]")
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth versions hello`")
	}
	versions, err := cf.client().Versions(ctx, pos[0])
	if err != nil {
		return cf.explain(err)
	}
	return printVersions(stdout, versions)
}

func printVersions(w io.Writer, versions []client.Version) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tABI\tDIGEST\tSIZE\tCREATED\tALIASES")
	for _, v := range versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.ABI, shortDigest(v.Digest), humanBytes(v.Size),
			v.CreatedAt.Local().Format(time.DateTime), strings.Join(v.Aliases, ","))
	}
	return tw.Flush()
}

// runAlias sets, removes and lists aliases.
func runAlias(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("alias", stderr, "set NAME ALIAS VERSION[=WEIGHT] [VERSION=WEIGHT…] | rm NAME ALIAS | ls NAME [flags]")
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	sub := ""
	if len(pos) > 0 {
		sub = pos[0]
	}
	switch {
	case sub == "set" && len(pos) >= 4:
		name, alias := pos[1], pos[2]
		version, weights, err := parseTargets(pos[3:])
		if err != nil {
			return err
		}
		var a *client.Alias
		if weights == nil {
			a, err = cf.client().SetAlias(ctx, name, alias, version)
		} else {
			a, err = cf.client().SetAliasWeights(ctx, name, alias, weights)
		}
		if err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "%s:%s → %s\n", name, alias, aliasTarget(*a))
		return nil
	case sub == "rm" && len(pos) == 3:
		if err := cf.client().DeleteAlias(ctx, pos[1], pos[2]); err != nil {
			return cf.explain(err)
		}
		fmt.Fprintf(stdout, "removed alias %s of %s\n", pos[2], pos[1])
		return nil
	case sub == "ls" && len(pos) == 2:
		aliases, err := cf.client().Aliases(ctx, pos[1])
		if err != nil {
			return cf.explain(err)
		}
		return printAliases(stdout, aliases)
	}
	return usagef("want `alias set NAME ALIAS VERSION` (or VERSION=WEIGHT … for a split adding up to 100), `alias rm NAME ALIAS` or `alias ls NAME`")
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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

// runInspect prints a function: its current spec, versions and aliases.
func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", stderr, "NAME [--json] [flags]")
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth inspect hello`")
	}
	fn, err := cf.client().Get(ctx, pos[0])
	if err != nil {
		return cf.explain(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(fn)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", fn.Name)
	fmt.Fprintf(tw, "namespace:\t%s\n", fn.Namespace)
	fmt.Fprintf(tw, "latest:\tversion %d (%s, %s)\n", fn.Version, fn.ABI, fn.Digest)
	fmt.Fprintf(tw, "created:\t%s\n", fn.CreatedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "updated:\t%s\n", fn.UpdatedAt.Local().Format(time.DateTime))
	if err := tw.Flush(); err != nil {
		return err
	}
	if fn.Spec != nil {
		fmt.Fprintf(stdout, "\nspec (version %d):\n", fn.Version)
		printSpec(stdout, *fn.Spec)
	}
	fmt.Fprintln(stdout, "\nversions:")
	if err := printVersions(stdout, fn.Versions); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\naliases:")
	return printAliases(stdout, fn.Aliases)
}

func printSpec(w io.Writer, s client.Spec) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
