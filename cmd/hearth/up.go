package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

// newUpCmd deploys the functions of a hearth.yaml, like `faas-cli up` or
// `spin deploy`: every function is checked first (the manifest, the module
// files, then a dry run on the gateway), and only when all pass is each
// deployed, as a new version, in the manifest's order.
func newUpCmd(a *app) *cobra.Command {
	var (
		cf     clientFlags
		file   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "up [-f hearth.yaml] [NAME…]",
		Short: "Deploy every function of a manifest (hearth.yaml)",
		Long: `Up deploys the functions of a manifest, all of them or those named. Each is
checked first (the manifest, the module files, then a dry run on the
gateway); only when all pass is each deployed, as a new version, in the
manifest's order. docs/registry.md describes the manifest.`,
		Example: `  hearth up
  hearth up -f deploy/hearth.yaml greet
  hearth up --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cf.progress = true
			return runUp(cmd.Context(), &cf, file, dryRun, args, a.stdout)
		},
	}
	clientCmd(a, cmd, &cf, false)
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "hearth.yaml", "the manifest")
	fs.BoolVar(&dryRun, "dry-run", false, "check every function, deploy none")
	fs.SetNormalizeFunc(renamedFlags(map[string]string{"f": "file"}))
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	return cmd
}

func runUp(ctx context.Context, cf *clientFlags, file string, dryRun bool, pos []string, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no manifest at %s; write a hearth.yaml (docs/registry.md) or pass -f FILE", file)
		}
		return fmt.Errorf("read manifest: %w", err)
	}
	m, err := readManifest(data, file, filepath.Dir(file))
	if err != nil {
		return err
	}
	fns, err := m.selected(pos)
	if err != nil {
		return err
	}

	type job struct {
		fn     manifestFunction
		ns     string
		module []byte
		client *client.Client
	}
	jobs := make([]job, 0, len(fns))
	for _, f := range fns {
		module, err := os.ReadFile(f.Module)
		if err != nil {
			return fmt.Errorf("%s:%d: function %s: read module: %w", m.path, f.line, f.Name, err)
		}
		cl, err := cf.client()
		if err != nil {
			return err
		}
		ns := m.namespaceOf(f)
		if ns != "" {
			cl.Namespace = ns
		}
		jobs = append(jobs, job{fn: f, ns: cl.Namespace, module: module, client: cl})
	}

	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var problems []string
	for _, j := range jobs {
		if _, err := j.client.CheckDeploy(ctx, j.fn.Name, j.module, &j.fn.Spec); err != nil {
			var apiErr *client.Error
			if !errors.As(err, &apiErr) {
				return cf.explain(err)
			}
			problems = append(problems, fmt.Sprintf("%s:%d: function %s: %v", m.path, j.fn.line, j.fn.Name, cf.explain(err)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("nothing was deployed:\n%s", strings.Join(problems, "\n"))
	}
	if dryRun {
		for _, j := range jobs {
			fmt.Fprintf(stdout, "ok %s\n", qualified(j.ns, j.fn.Name))
		}
		return nil
	}

	for i, j := range jobs {
		d, err := j.client.Deploy(ctx, j.fn.Name, j.module, &j.fn.Spec)
		if err != nil {
			var left []string
			for _, rest := range jobs[i:] {
				left = append(left, rest.fn.Name)
			}
			return fmt.Errorf("deploy %s: %w\nnot deployed: %s", j.fn.Name, cf.explain(err), strings.Join(left, ", "))
		}
		fmt.Fprintf(stdout, "deployed %s version %d (%s, %s)\n", qualified(d.Namespace, d.Name), d.Version, d.ABI, shortDigest(d.Digest))
	}
	return nil
}

// selected is the manifest's functions named in names, all when none is.
func (m *manifest) selected(names []string) ([]manifestFunction, error) {
	if len(names) == 0 {
		return m.Functions, nil
	}
	var out []manifestFunction
	var all []string
	for _, f := range m.Functions {
		all = append(all, f.Name)
		if slices.Contains(names, f.Name) {
			out = append(out, f)
		}
	}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, usagef("%s has no function %q; it has %s", m.path, n, strings.Join(all, ", "))
		}
	}
	return out, nil
}

// qualified is ns/name, or name in the default namespace.
func qualified(ns, name string) string {
	if ns == "" || ns == "default" {
		return name
	}
	return ns + "/" + name
}
