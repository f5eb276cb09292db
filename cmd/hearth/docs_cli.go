package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

//go:generate go run . docs --dir ../../docs

// referenceFile is where hearth docs writes the CLI reference, in --dir.
const referenceFile = "cli-reference.md"

// regenerateReference is the command line that writes the reference again
// (the staleness test names it).
const regenerateReference = "go run ./cmd/hearth docs (or go generate ./cmd/hearth, or go tool task docs:cli)"

// newDocsCmd is `hearth docs`: the CLI reference written from the command
// tree. Hidden: it is for the repository's docs/, not for users.
func newDocsCmd(a *app) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "docs [--dir DIR]",
		Short: "Write the CLI reference (DIR/" + referenceFile + ") from the command tree",
		Long: `Docs writes the Markdown reference of every command — usage, text,
examples, flags with their defaults, aliases and the exit codes — to
DIR/` + referenceFile + `, from the command tree of this binary. The output
does not depend on the machine, the environment or the date; a test
(TestCLIReference) fails when the committed docs/` + referenceFile + ` is not
what this writes.`,
		Example: `  go run ./cmd/hearth docs            # in a checkout: docs/cli-reference.md
  go generate ./cmd/hearth
  hearth docs --dir /tmp/ref`,
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := os.Stat(dir)
			if err != nil {
				return fmt.Errorf("--dir %s: %w; give a folder that exists (docs/ of a checkout)", dir, err)
			}
			if !info.IsDir() {
				return usagef("--dir %s is not a folder", dir)
			}
			ref, err := cliReference()
			if err != nil {
				return err
			}
			path := filepath.Join(dir, referenceFile)
			if err := writeFileAtomic(path, ref); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %s (%d bytes)\n", path, len(ref))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs", "the folder to write "+referenceFile+" in")
	return cmd
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// cliReference is the Markdown reference of the whole command tree: an
// index, the exit codes, and each available command as cobra/doc writes
// it (its aliases added), in the order hearth --help lists them. It is
// built from a tree of its own whose flag defaults are those of a clean
// environment (referenceEnv), so that it is the same on every machine.
func cliReference() ([]byte, error) {
	var root *cobra.Command
	withReferenceEnv(func() {
		root = newRoot(&app{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)})
	})
	root.DisableAutoGenTag = true
	var cmds []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		cmds = append(cmds, c)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
	}
	root.InitDefaultHelpFlag()
	walk(root)

	var b bytes.Buffer
	b.WriteString("<!-- Written by `" + regenerateReference + "` from the command tree; do not edit. -->\n\n")
	b.WriteString("# hearth CLI reference\n\n")
	b.WriteString("Every command of `hearth`, as `hearth COMMAND --help` prints it: usage, description, examples, flags with their defaults and aliases. docs/cli.md is the guide; this file is written from the command tree and a test keeps it current.\n\n")
	b.WriteString("Flag defaults are those of an empty environment: a flag whose default comes from an environment variable (its help names it) takes that variable's value when it is set.\n\n")
	b.WriteString("## Exit codes\n\n| code | meaning |\n| --- | --- |\n")
	for _, e := range exitCodeDocs {
		fmt.Fprintf(&b, "| %d | %s |\n", e.code, e.meaning)
	}
	b.WriteString("\n## Commands\n\n")
	for _, c := range cmds {
		depth := strings.Count(c.CommandPath(), " ")
		fmt.Fprintf(&b, "%s- [%s](#%s) — %s\n", strings.Repeat("  ", depth), c.CommandPath(), anchor(c.CommandPath()), c.Short)
	}
	b.WriteString("\n")
	link := func(file string) string {
		return "#" + anchor(strings.ReplaceAll(strings.TrimSuffix(file, ".md"), "_", " "))
	}
	for _, c := range cmds {
		var one bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &one, link); err != nil {
			return nil, err
		}
		text := one.String()
		if len(c.Aliases) > 0 {
			head := "## " + c.CommandPath() + "\n\n" + c.Short + "\n\n"
			if !strings.HasPrefix(text, head) {
				return nil, fmt.Errorf("cobra/doc's section of %s does not start with its name and short text", c.CommandPath())
			}
			text = head + "Aliases: `" + strings.Join(c.Aliases, "`, `") + "`\n\n" + text[len(head):]
		}
		b.WriteString(text)
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), nil
}

// anchor is the GitHub anchor of a Markdown heading made of a command path.
func anchor(path string) string {
	return strings.ReplaceAll(strings.ToLower(path), " ", "-")
}

// withReferenceEnv runs f with envOr seeing an empty environment, so that
// the flag defaults f's command tree gets are those of no HEARTH_* (or
// KUBECONFIG) variable set.
func withReferenceEnv(f func()) {
	saved := lookupEnv
	lookupEnv = func(string) (string, bool) { return "", false }
	defer func() { lookupEnv = saved }()
	f()
}
