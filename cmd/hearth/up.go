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

	"github.com/hearthfn/hearth/sdk/client"
)

// runUp deploys the functions of a hearth.yaml, like `faas-cli up` or
// `spin deploy`: every function is checked first (the manifest, the module
// files, then a dry run on the gateway), and only when all pass is each
// deployed, as a new version, in the manifest's order.
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("up", stderr, "[-f hearth.yaml] [NAME…] [flags]")
	var cf clientFlags
	cf.register(fs)
	file := fs.String("f", "hearth.yaml", "the manifest")
	dryRun := fs.Bool("dry-run", false, "check every function, deploy none")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no manifest at %s; write a hearth.yaml (docs/registry.md) or pass -f FILE", *file)
		}
		return fmt.Errorf("read manifest: %w", err)
	}
	m, err := readManifest(data, *file, filepath.Dir(*file))
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
		cl := cf.client()
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
	if *dryRun {
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
