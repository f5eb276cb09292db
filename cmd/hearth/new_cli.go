package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/fnbuild"
	"github.com/hearthfn/hearth/internal/templates"
	"github.com/hearthfn/hearth/registry"
)

// newNewCmd is `hearth new NAME --template T`: a function's folder from a
// template (internal/templates), as `faas-cli new --lang` or `spin new`.
func newNewCmd(a *app) *cobra.Command {
	var (
		tmpl, dir, source string
		force             bool
	)
	cmd := &cobra.Command{
		Use:   "new NAME [--template T] [--dir DIR]",
		Short: "Make a function's folder from a template (hearth templates lists them)",
		Long: `New writes a function's folder from a template: its source, a hearth.yaml
with the build command and the ABI of its module, a README and a test.sh
that builds, deploys and calls it. Then, in the folder, hearth build builds
it and hearth up builds and deploys it.

NAME is the function's name (1 to 63 lowercase letters, digits and '-',
starting with a letter); the folder is ./NAME unless --dir says otherwise.
An existing folder must be empty, unless --force. The go template's go.mod
requires github.com/hearthfn/hearth for sdk/guest: inside a hearth checkout
it is part of the module, else it points at --hearth-source, this hearth's
release, or the source this hearth was built from.`,
		Example: `  hearth new hi --template go
  hearth new resize -t c --dir functions/resize
  hearth new greet -t rust --force`,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one NAME, e.g. `hearth new hi --template go`")
			}
			name := args[0]
			if err := registry.ValidateName("function name", name); err != nil {
				return usageError{err.Error()}
			}
			t, err := templates.Lookup(tmpl)
			if err != nil {
				return usageError{err.Error()}
			}
			if dir == "" {
				dir = name
			}
			opts := templates.Options{Template: t.Name, Name: name, Dir: dir, Force: force}
			if t.Language == "Go" {
				if opts.Go, err = templates.FindGoModule(dir, source); err != nil {
					return err
				}
			}
			files, err := templates.Create(opts)
			var notEmpty *templates.NotEmptyError
			if errors.As(err, &notEmpty) {
				return usageError{err.Error()}
			}
			if err != nil {
				return err
			}
			printCreated(a.stdout, t, name, dir, files)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&tmpl, "template", "t", "go", "the template: "+strings.Join(templateNames(), ", "))
	fs.StringVar(&dir, "dir", "", "the folder to write (default ./NAME)")
	fs.BoolVar(&force, "force", false, "write into a folder that is not empty (files of the same name are replaced)")
	fs.StringVar(&source, "hearth-source", "", "a hearth checkout the go template's go.mod points at (replace directive)")
	_ = cmd.RegisterFlagCompletionFunc("template", cobra.FixedCompletions(templateNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	_ = cmd.MarkFlagDirname("hearth-source")
	return cmd
}

func templateNames() []string {
	var out []cobra.Completion
	for _, t := range templates.List() {
		out = append(out, t.Name)
	}
	return out
}

func printCreated(w io.Writer, t templates.Template, name, dir string, files []string) {
	fmt.Fprintf(w, "created %s from the %s template (%s %s):\n", filepath.Clean(dir)+string(filepath.Separator), t.Name, t.Language, t.ABI)
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintln(w, "next:")
	fmt.Fprintf(w, "  cd %s\n", dir)
	if t.Name == "assemblyscript" {
		fmt.Fprintln(w, "  npm install                 # once: the AssemblyScript compiler")
	}
	fmt.Fprintln(w, "  hearth up                   # build, then deploy (hearth dev runs a gateway here)")
	fmt.Fprintf(w, "  hearth invoke %s -d Hearth\n", name)
	if missing := missingTools(t); len(missing) > 0 {
		fmt.Fprintf(w, "this machine lacks %s to build it: %s\n", strings.Join(missing, ", "), installHint(missing))
	}
}

// templateRow is a template as hearth templates lists it.
type templateRow struct {
	templates.Template
	Ready   bool     `json:"ready"`   // every tool it needs is installed here
	Missing []string `json:"missing"` // the tools that are not
}

// newTemplatesCmd lists the templates of hearth new, with whether this
// machine has what each needs.
func newTemplatesCmd(a *app) *cobra.Command {
	var of outputFlags
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the templates of hearth new, and whether this machine can build each",
		Long: `Templates lists the templates hearth new makes functions from: the language,
the ABI of the module (reactor: pooled instances; command: a fresh instance
per call; docs/abi.md), and whether the tools the build needs are installed
here (go tool task templates:toolchains installs them all on Debian).`,
		Example: `  hearth templates
  hearth templates -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			rows := []templateRow{}
			for _, t := range templates.List() {
				missing := missingTools(t)
				rows = append(rows, templateRow{Template: t, Ready: len(missing) == 0, Missing: append([]string{}, missing...)})
			}
			return of.print(a.stdout, map[string]any{"templates": rows}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "NAME\tLANGUAGE\tABI\tTOOLCHAIN\tDESCRIPTION")
				var lacking []string
				for _, r := range rows {
					state := "ready"
					if !r.Ready {
						state = "missing " + strings.Join(r.Missing, ", ")
						lacking = append(lacking, r.Missing...)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Language, r.ABI, state, r.Description)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(lacking) > 0 {
					fmt.Fprintf(a.stderr, "to build them all: %s\n", installHint(lacking))
				}
				return nil
			})
		},
	}
	of.register(cmd)
	return cmd
}

// missingTools are the tools of t this machine lacks.
func missingTools(t templates.Template) []string {
	err := fnbuild.CheckTools(t.Name, "", t.Requires)
	var m *fnbuild.MissingToolError
	if !errors.As(err, &m) {
		return nil
	}
	var out []string
	for _, tool := range m.Missing {
		out = append(out, tool.Name)
	}
	return out
}

// installHint says how to install the tools named.
func installHint(names []string) string {
	var debian []string
	var other []string
	for _, n := range names {
		t, ok := fnbuild.LookupTool(n)
		if !ok {
			continue
		}
		for _, p := range t.Debian {
			if !strings.Contains(" "+strings.Join(debian, " ")+" ", " "+p+" ") {
				debian = append(debian, p)
			}
		}
		if len(t.Debian) == 0 && t.Other != "" {
			other = append(other, t.Other)
		}
	}
	var ways []string
	if len(debian) > 0 {
		ways = append(ways, "go tool task "+fnbuild.InstallTask+" in a hearth checkout", "apt-get install "+strings.Join(debian, " "))
	}
	ways = append(ways, other...)
	return strings.Join(ways, ", or ")
}
