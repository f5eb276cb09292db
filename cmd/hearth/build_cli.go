package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/internal/fnbuild"
)

// newBuildCmd is `hearth build`: the build of each function of a manifest,
// and a check of the module it writes, as a deploy would check it.
func newBuildCmd(a *app) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "build [-f hearth.yaml] [NAME…]",
		Short: "Build the functions of a manifest and check their modules",
		Long: `Build runs the build command of each function of a manifest (all of them, or
those named), in the manifest's folder, then checks the module it wrote as
a deploy does: WebAssembly that compiles, imports only WASI preview1 and
exports the ABI the manifest names (reactor: hearth_alloc and hearth_handle;
command: _start; docs/abi.md). A function without a build section has its
module checked only. The tools a build needs are checked first; a missing
one is named with what installs it. hearth new writes a folder whose
hearth.yaml says how to build it.`,
		Example: `  hearth build
  hearth build -f functions/hearth.yaml markdown`,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadManifest(file)
			if err != nil {
				return err
			}
			fns, err := m.selected(args)
			if err != nil {
				return err
			}
			_, err = buildFunctions(cmd.Context(), m, fns, a.stdout, a.stderr)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "hearth.yaml", "the manifest")
	cmd.Flags().SetNormalizeFunc(renamedFlags(map[string]string{"f": "file"}))
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	return cmd
}

// loadManifest reads and checks the manifest at file.
func loadManifest(file string) (*manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no manifest at %s; write a hearth.yaml (docs/registry.md), make a function with hearth new, or pass -f FILE", file)
		}
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return readManifest(data, file, filepath.Dir(file))
}

// step is f's build as internal/fnbuild runs it.
func (m *manifest) step(f manifestFunction) fnbuild.Step {
	s := fnbuild.Step{Function: f.Name, Dir: m.dir, Module: f.Module, ABI: f.ABI}
	if f.Build != nil {
		s.Command, s.Requires = f.Build.Command, f.Build.Requires
	}
	return s
}

// buildFunctions builds fns one after another, stopping at the first that
// fails; progress lines go to stdout, the builds' own output to stderr.
// It returns the checked modules, by function.
func buildFunctions(ctx context.Context, m *manifest, fns []manifestFunction, stdout, stderr io.Writer) (map[string]fnbuild.Result, error) {
	out := make(map[string]fnbuild.Result, len(fns))
	for _, f := range fns {
		r, err := buildOne(ctx, m, f, stdout, stderr)
		if err != nil {
			return nil, err
		}
		out[f.Name] = r
	}
	return out, nil
}

// buildOne builds f and reports it in one line.
func buildOne(ctx context.Context, m *manifest, f manifestFunction, stdout, stderr io.Writer) (fnbuild.Result, error) {
	s := m.step(f)
	if s.Command != "" {
		fmt.Fprintf(stdout, "building %s: %s\n", f.Name, s.Command)
	}
	r, err := fnbuild.Run(ctx, s, stderr)
	if err != nil {
		return r, err
	}
	verb := "built"
	if s.Command == "" {
		verb = "checked"
	}
	fmt.Fprintf(stdout, "%s %s (%s, %s) in %s\n", verb, displayPath(f.Module), r.ABI, humanBytes(len(r.Module)), r.Took.Round(time.Millisecond))
	return r, nil
}

// displayPath is p relative to the working directory when it is below it.
func displayPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return p
}
