package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const rootLong = `hearth — WebAssembly functions that start in milliseconds.

One binary: the server roles (hearth dev, hearth gateway, hearth runner) and
the CLI that deploys and calls functions on a gateway. Call a version of a
function as NAME@3 and an alias as NAME:prod wherever a command takes a
function NAME.

The CLI finds its gateway, namespace and API key in its flags (-g, -n,
--api-key), then the environment (HEARTH_GATEWAY, HEARTH_NAMESPACE,
HEARTH_API_KEY), then a context of ~/.config/hearth/config.yaml (see
hearth context and hearth login).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 function failed,
5 timeout (docs/cli.md).`

// The groups of the command list in hearth --help.
const (
	groupRoles       = "roles"
	groupFunctions   = "functions"
	groupInvocations = "invocations"
	groupAccess      = "access"
	groupOther       = "other"
)

// newRoot builds the command tree; one per run, so that flags start from
// their defaults (and the environment as it is) every time.
func newRoot(a *app) *cobra.Command {
	cobra.EnableCommandSorting = false // the groups list their commands in the order added
	root := &cobra.Command{
		Use:           "hearth",
		Short:         "WebAssembly functions that start in milliseconds",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(a.stderr)
			_ = cmd.Help()
			return silentError{exitUsage}
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddGroup(
		&cobra.Group{ID: groupRoles, Title: "Server roles:"},
		&cobra.Group{ID: groupFunctions, Title: "Functions:"},
		&cobra.Group{ID: groupInvocations, Title: "Invocations and triggers:"},
		&cobra.Group{ID: groupAccess, Title: "Access:"},
		&cobra.Group{ID: groupOther, Title: "Other commands:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add(groupRoles, newDevCmd(a), newGatewayCmd(a), newRunnerCmd(a), newNATSCmd(a), newBenchCmd(a), newSimCmd(a), newReplayCmd(a))
	add(groupFunctions, newNewCmd(a), newTemplatesCmd(a), newBuildCmd(a), newDeployCmd(a), newInvokeCmd(a), newListCmd(a), newRemoveCmd(a), newUpCmd(a),
		newInspectCmd(a), newVersionsCmd(a), newAliasCmd(a))
	add(groupInvocations, newInvocationCmd(a), newInvocationsCmd(a), newLogsCmd(a), newDLQCmd(a), newTriggerCmd(a))
	add(groupAccess, newLoginCmd(a), newContextCmd(a), newKeyCmd(a), newSecretCmd(a), newAuditCmd(a))
	add(groupOther, newVersionCmd(a), newDocsCmd(a), newBenchFloorCmd(a))
	root.SetHelpCommand(newHelpCmd(a))
	root.SetHelpCommandGroupID(groupOther)
	root.SetCompletionCommandGroupID(groupOther)
	root.InitDefaultCompletionCmd()
	if c := findSub(root, "completion"); c != nil {
		c.Example = `  source <(hearth completion bash)
  hearth completion zsh > "${fpath[1]}/_hearth"
  hearth completion fish > ~/.config/fish/completions/hearth.fish
  hearth completion powershell | Out-String | Invoke-Expression`
		group(c, "use `hearth completion bash|zsh|fish|powershell`")
	}
	return root
}

// newHelpCmd is `hearth help [COMMAND…]`: the help of a command, and a
// usage error with suggestions for one that does not exist.
func newHelpCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		Long:  "Help prints the help of a command: its flags, arguments and examples.",
		Example: `  hearth help deploy
  hearth help key create`,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := c.Root()
			for _, name := range args {
				sub := findSub(cmd, name)
				if sub == nil {
					return unknownCommand(cmd, name)
				}
				cmd = sub
			}
			cmd.InitDefaultHelpFlag() // as --help shows it
			cmd.SetOut(a.stdout)
			return cmd.Help()
		},
	}
}

// unknownCommand is the usage error of a command name that does not
// exist, with the names it is close to.
func unknownCommand(parent *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, parent.CommandPath())
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + orList(s) + "?"
	} else if names := commandNames(parent); len(names) > 0 {
		msg += "; its commands are " + strings.Join(names, ", ")
	}
	return usageError{msg}
}

// commandNames are the names of the available subcommands of cmd.
func commandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return names
}

// orList is "a", "a or b", "a, b or c".
func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// flagError turns a flag parse error into a usage error, with the flag
// the mistyped one is close to.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := suggestFlags(cmd, name); len(s) > 0 {
			msg += "; did you mean " + orList(s) + "?"
		}
	}
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) && bad.GetFlag() != nil {
		if want := flagValueWant[bad.GetFlag().Value.Type()]; want != "" {
			msg += "; " + want
		}
	}
	return usageError{msg}
}

// flagValueWant says, by a flag's type, what a value of it looks like.
var flagValueWant = map[string]string{
	"duration": "use a duration such as 500ms, 10s or 1m30s",
	"int":      "use a whole number",
	"int64":    "use a whole number",
	"uint":     "use a whole number of 0 or more",
	"uint64":   "use a whole number of 0 or more",
	"float64":  "use a number such as 5 or 0.5",
	"bool":     "use true or false",
}

// suggestFlags are the long flags of cmd within two edits of name, or
// that name is a prefix of.
func suggestFlags(cmd *cobra.Command, name string) []string {
	var out []string
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		if levenshtein(name, f.Name) <= 2 || (len(name) > 2 && strings.HasPrefix(f.Name, name)) {
			out = append(out, "--"+f.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return out
}

// levenshtein is the edit distance of a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q; %s takes none", args[0], cmd.CommandPath())
	}
	return nil
}

// group makes a command whose work is done by its subcommands: alone, or
// with an unknown subcommand, it is a usage error that says what to use.
func group(cmd *cobra.Command, hint string) *cobra.Command {
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			err := unknownCommand(c, args[0])
			return usagef("%v\n%s", err, hint)
		}
		return usageError{hint}
	}
	return cmd
}

// renamedFlags is a flag-name normalisation that maps the old names of
// renamed flags (keys) to their names now, so that both parse.
func renamedFlags(old map[string]string) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if n, ok := old[name]; ok {
			return pflag.NormalizedName(n)
		}
		return pflag.NormalizedName(name)
	}
}
