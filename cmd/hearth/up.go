package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

// newUpCmd deploys the functions of a hearth.yaml, like `faas-cli up` or
// `spin deploy`: each function with a build section is built first (as
// hearth build does), then every function is checked (the manifest, the
// module files, then a dry run on the gateway), and only when all pass is
// each deployed, as a new version, in the manifest's order. With --watch
// it then rebuilds and redeploys on every change of the sources.
func newUpCmd(a *app) *cobra.Command {
	var (
		cf       clientFlags
		file     string
		dryRun   bool
		noBuild  bool
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "up [-f hearth.yaml] [NAME…]",
		Short: "Build and deploy every function of a manifest (hearth.yaml)",
		Long: `Up builds the functions of a manifest (all of them or those named) that have a
build section, as hearth build does, then deploys them. Each is checked
first (the manifest, the module files, then a dry run on the gateway); only
when all pass is each deployed, as a new version, in the manifest's order.
docs/registry.md describes the manifest.

With --watch, up keeps running: when a file in the manifest's folder changes
(its build's watch patterns, else every file but .wasm, hidden ones,
node_modules and target), it waits for the changes to settle, rebuilds the
functions concerned and deploys those whose module changed. A failed build
or deploy is reported and the watch goes on; Ctrl-C ends it.`,
		Example: `  hearth up
  hearth up -f deploy/hearth.yaml greet
  hearth up --dry-run
  hearth up --watch`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch && dryRun {
				return usagef("--watch and --dry-run: a dry run deploys nothing to watch; give one")
			}
			if interval <= 0 {
				return usagef("--interval %s: give a positive duration, e.g. 300ms", interval)
			}
			cf.progress = true
			u := &upRun{cf: &cf, file: file, names: args, dryRun: dryRun, noBuild: noBuild, stdout: a.stdout, stderr: a.stderr}
			if watch {
				return u.watch(cmd.Context(), interval)
			}
			return u.once(cmd.Context())
		},
	}
	clientCmd(a, cmd, &cf, false)
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "hearth.yaml", "the manifest")
	fs.BoolVar(&dryRun, "dry-run", false, "build and check every function, deploy none")
	fs.BoolVar(&noBuild, "no-build", false, "deploy the modules as they are, without building")
	fs.BoolVarP(&watch, "watch", "w", false, "after deploying, rebuild and redeploy on every change of the sources")
	fs.DurationVar(&interval, "interval", 300*time.Millisecond, "with --watch, how often the files are looked at")
	fs.SetNormalizeFunc(renamedFlags(map[string]string{"f": "file"}))
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	return cmd
}

// upRun is one hearth up.
type upRun struct {
	cf      *clientFlags
	file    string
	names   []string
	dryRun  bool
	noBuild bool
	stdout  io.Writer
	stderr  io.Writer
}

// once builds and deploys the selected functions.
func (u *upRun) once(ctx context.Context) error {
	m, fns, err := u.load()
	if err != nil {
		return err
	}
	if !u.noBuild {
		if _, err := buildFunctions(ctx, m, withBuild(fns), u.stdout, u.stderr); err != nil {
			return err
		}
	}
	_, err = u.deploy(ctx, m, fns)
	return err
}

// load reads the manifest and selects the functions named.
func (u *upRun) load() (*manifest, []manifestFunction, error) {
	m, err := loadManifest(u.file)
	if err != nil {
		return nil, nil, err
	}
	fns, err := m.selected(u.names)
	if err != nil {
		return nil, nil, err
	}
	return m, fns, nil
}

// withBuild are the functions of fns that have a build section.
func withBuild(fns []manifestFunction) []manifestFunction {
	var out []manifestFunction
	for _, f := range fns {
		if f.Build != nil {
			out = append(out, f)
		}
	}
	return out
}

// deploy checks every function of fns on the gateway, then deploys each,
// and returns the digests deployed, by function.
func (u *upRun) deploy(ctx context.Context, m *manifest, fns []manifestFunction) (map[string]string, error) {
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
			return nil, fmt.Errorf("%s:%d: function %s: read module: %w", m.path, f.line, f.Name, err)
		}
		cl, err := u.cf.client()
		if err != nil {
			return nil, err
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
				return nil, u.cf.explain(err)
			}
			problems = append(problems, fmt.Sprintf("%s:%d: function %s: %v", m.path, j.fn.line, j.fn.Name, u.cf.explain(err)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing was deployed:\n%s", strings.Join(problems, "\n"))
	}
	if u.dryRun {
		for _, j := range jobs {
			fmt.Fprintf(u.stdout, "ok %s\n", qualified(j.ns, j.fn.Name))
		}
		return nil, nil
	}

	digests := make(map[string]string, len(jobs))
	for i, j := range jobs {
		d, err := j.client.Deploy(ctx, j.fn.Name, j.module, &j.fn.Spec)
		if err != nil {
			var left []string
			for _, rest := range jobs[i:] {
				left = append(left, rest.fn.Name)
			}
			return digests, fmt.Errorf("deploy %s: %w\nnot deployed: %s", j.fn.Name, u.cf.explain(err), strings.Join(left, ", "))
		}
		digests[j.fn.Name] = d.Digest
		fmt.Fprintf(u.stdout, "deployed %s version %d (%s, %s)\n", qualified(d.Namespace, d.Name), d.Version, d.ABI, shortDigest(d.Digest))
	}
	return digests, nil
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
