package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestCLIReference: docs/cli-reference.md is what hearth docs writes from
// the command tree now, whatever the environment; it has a section for
// every command a user can run, with each of its flags, aliases and
// examples; and hearth docs --dir writes those bytes.
func TestCLIReference(t *testing.T) {
	// Variables flag defaults come from, set to what must not show.
	t.Setenv("HEARTH_GATEWAY", "http://leak.example:1")
	t.Setenv("HEARTH_DATA", "/leak/data")
	t.Setenv("HEARTH_LOG_LEVEL", "debug")
	t.Setenv("KUBECONFIG", "/leak/kubeconfig")
	t.Setenv("HOME", "/leak/home")
	ref, err := cliReference()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ref, []byte("leak")) {
		t.Errorf("the reference carries a value of the environment: %q", firstLineWith(ref, "leak"))
	}
	committed, err := os.ReadFile("../../docs/cli-reference.md")
	if err != nil {
		t.Fatalf("%v; write it with %s", err, regenerateReference)
	}
	if !bytes.Equal(ref, committed) {
		t.Errorf("docs/cli-reference.md is not current (%s); write it again with %s", firstDifference(committed, ref), regenerateReference)
	}

	// Every command a user can run, with its flags, aliases and examples.
	root := newRoot(&app{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)})
	text := string(ref)
	var visit func(*cobra.Command)
	n := 0
	visit = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				visit(sub)
			}
		}
		n++
		head := "\n## " + c.CommandPath() + "\n"
		i := strings.Index(text, head)
		if i < 0 {
			t.Errorf("no section %q", strings.TrimSpace(head))
			return
		}
		section := text[i+len(head):]
		if j := strings.Index(section, "\n## "); j >= 0 {
			section = section[:j]
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(section, "--"+f.Name+" ") && !strings.Contains(section, "--"+f.Name+"\n") {
				t.Errorf("%s: flag --%s missing", c.CommandPath(), f.Name)
			}
		})
		for _, a := range c.Aliases {
			if !strings.Contains(section, "`"+a+"`") {
				t.Errorf("%s: alias %s missing", c.CommandPath(), a)
			}
		}
		if c.Example != "" && !strings.Contains(section, c.Example) {
			t.Errorf("%s: examples missing", c.CommandPath())
		}
	}
	visit(root)
	if n < 40 {
		t.Errorf("only %d commands visited", n)
	}
	for _, hidden := range []string{"## hearth docs", "## hearth __complete"} {
		if strings.Contains(text, hidden+"\n") {
			t.Errorf("the reference has the hidden command's section %q", hidden)
		}
	}
	for _, e := range exitCodeDocs {
		if !strings.Contains(text, fmt.Sprintf("\n| %d | ", e.code)) {
			t.Errorf("exit code %d missing", e.code)
		}
	}

	dir := t.TempDir()
	if code, _, errOut := hearthCLI("docs", "--dir", dir); code != exitOK {
		t.Fatalf("hearth docs --dir: exit %d, %s", code, errOut)
	}
	if written, _ := os.ReadFile(filepath.Join(dir, referenceFile)); !bytes.Equal(written, ref) {
		t.Errorf("hearth docs --dir wrote %d bytes, not the reference's %d", len(written), len(ref))
	}
	if code, _, errOut := hearthCLI("docs", "--dir", filepath.Join(dir, "missing")); code != exitError || !strings.Contains(errOut, "give a folder that exists") {
		t.Errorf("hearth docs --dir MISSING: exit %d, %q", code, errOut)
	}
	if code, _, errOut := hearthCLI("docs", "--dir", filepath.Join(dir, referenceFile)); code != exitUsage || !strings.Contains(errOut, "is not a folder") {
		t.Errorf("hearth docs --dir FILE: exit %d, %q", code, errOut)
	}
}

// firstDifference says where two texts part: the line number, and the
// line of each.
func firstDifference(old, cur []byte) string {
	a, b := strings.Split(string(old), "\n"), strings.Split(string(cur), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y || i >= len(a) || i >= len(b) {
			return fmt.Sprintf("line %d: committed %q, the command tree %q", i+1, x, y)
		}
	}
	return "they differ"
}

func firstLineWith(b []byte, s string) string {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
