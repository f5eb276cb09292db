package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// normalizeLegacyFlags rewrites the single-dash long flags of the CLI
// before cobra (pflag, which reads -abc as the shorthands a, b and c)
// sees them: hearth was built on the flag package, where -gateway URL and
// -json are long flags, and scripts written then keep working. An
// argument -NAME or -NAME=VALUE becomes --NAME… when NAME (two or more
// characters) is a long flag of the command the arguments have reached
// so far; anything else, shorthand clusters included, is left as it is.
// Values of flags are skipped, and nothing after "--" is touched.
func normalizeLegacyFlags(root *cobra.Command, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	cmd := root
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && lookupFlag(cmd, name) != nil {
				a = "-" + a
				out[i] = a
			}
		}
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if f := lookupFlag(cmd, name); f != nil && !hasValue && f.NoOptDefVal == "" {
				i++ // its value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// A cluster of shorthands: the first that takes a value takes
			// the rest of the argument, or the next one when it is last.
			for j := 1; j < len(a); j++ {
				f := lookupShorthand(cmd, a[j:j+1])
				if f == nil || f.NoOptDefVal != "" {
					continue
				}
				if j == len(a)-1 {
					i++
				}
				break
			}
		default:
			if sub := findSub(cmd, a); sub != nil {
				cmd = sub
			}
		}
	}
	return out
}

// lookupFlag finds a long flag of cmd, its own or inherited.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	name = string(normalizeFlagName(cmd, name))
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	if f := cmd.PersistentFlags().Lookup(name); f != nil {
		return f
	}
	return cmd.InheritedFlags().Lookup(name)
}

// lookupShorthand finds a shorthand flag of cmd, its own or inherited.
func lookupShorthand(cmd *cobra.Command, s string) *pflag.Flag {
	if f := cmd.Flags().ShorthandLookup(s); f != nil {
		return f
	}
	if f := cmd.PersistentFlags().ShorthandLookup(s); f != nil {
		return f
	}
	return cmd.InheritedFlags().ShorthandLookup(s)
}

// findSub is the subcommand of cmd named or aliased name.
func findSub(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// normalizeFlagName applies the command's flag-name normalisation (the
// old names of renamed flags), if it has one.
func normalizeFlagName(cmd *cobra.Command, name string) pflag.NormalizedName {
	if fn := cmd.Flags().GetNormalizeFunc(); fn != nil {
		return fn(cmd.Flags(), name)
	}
	return pflag.NormalizedName(name)
}
