package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hearthfn/hearth/internal/fnbuild"
	"github.com/hearthfn/hearth/registry"
)

// watch is hearth up --watch: a first build and deploy, then a poll of the
// manifest's folder every interval; a change is built and deployed once
// the files have stopped changing for one interval (an editor's save, a
// git checkout), so that a burst of writes makes one rebuild. Failures
// are reported and the watch goes on, until ctx ends (Ctrl-C).
func (u *upRun) watch(ctx context.Context, interval time.Duration) error {
	m, fns, err := u.load()
	if err != nil {
		return err
	}
	deployed := map[string]string{} // function → digest of the module deployed
	u.round(ctx, m, fns, deployed)
	snap, err := scanSources(m, fns)
	if err != nil {
		return err
	}
	fmt.Fprintf(u.stdout, "watching %d files in %s for changes (Ctrl-C to stop)\n", len(snap), displayDir(m.dir))

	tick := time.NewTicker(interval)
	defer tick.Stop()
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			return true
		}
	}
	for wait() {
		now, err := scanSources(m, fns)
		if err != nil {
			fmt.Fprintf(u.stderr, "hearth up: %v\n", err)
			continue
		}
		changed := fnbuild.Changed(snap, now)
		if len(changed) == 0 {
			continue
		}
		for { // settle
			if !wait() {
				break
			}
			next, err := scanSources(m, fns)
			if err != nil {
				break
			}
			more := fnbuild.Changed(now, next)
			if len(more) == 0 {
				break
			}
			changed = union(changed, more)
			now = next
		}
		if ctx.Err() != nil {
			break
		}
		snap = now
		fmt.Fprintf(u.stdout, "changed: %s\n", summarize(changed))
		if slices.Contains(changed, filepath.Base(u.file)) {
			if m2, fns2, err := u.load(); err != nil {
				fmt.Fprintf(u.stderr, "hearth up: %v (keeping the manifest as it was)\n", err)
			} else {
				m, fns = m2, fns2
				u.round(ctx, m, fns, deployed) // the manifest may change any function
				continue
			}
		}
		u.round(ctx, m, affected(fns, changed), deployed)
	}
	fmt.Fprintln(u.stdout, "stopped watching")
	return nil
}

// round builds fns and deploys those whose module is not the one deployed
// last, reporting failures without stopping.
func (u *upRun) round(ctx context.Context, m *manifest, fns []manifestFunction, deployed map[string]string) {
	var todo []manifestFunction
	for _, f := range fns {
		if f.Build != nil && !u.noBuild {
			if _, err := buildOne(ctx, m, f, u.stdout, u.stderr); err != nil {
				if ctx.Err() == nil {
					fmt.Fprintf(u.stderr, "hearth up: %v\n", err)
				}
				continue
			}
		}
		module, err := os.ReadFile(f.Module)
		if err != nil {
			fmt.Fprintf(u.stderr, "hearth up: function %s: read module: %v\n", f.Name, err)
			continue
		}
		if deployed[f.Name] == registry.DigestOf(module) {
			fmt.Fprintf(u.stdout, "%s: the module is the one deployed; nothing to deploy\n", f.Name)
			continue
		}
		todo = append(todo, f)
	}
	if len(todo) == 0 || ctx.Err() != nil {
		return
	}
	digests, err := u.deploy(ctx, m, todo)
	for name, d := range digests {
		deployed[name] = d
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(u.stderr, "hearth up: %v\n", err)
	}
}

// scanSources polls the files the functions' builds read: their watch
// patterns, or every file of the manifest's folder when one of them has
// none; never the modules themselves.
func scanSources(m *manifest, fns []manifestFunction) (fnbuild.Snapshot, error) {
	var patterns, modules []string
	all := false
	for _, f := range fns {
		modules = append(modules, f.Module)
		switch {
		case f.Build == nil: // nothing to rebuild
		case len(f.Build.Watch) == 0:
			all = true
		default:
			patterns = append(patterns, f.Build.Watch...)
		}
	}
	if all {
		patterns = nil
	} else {
		patterns = append(patterns, filepath.Base(m.path)) // the manifest itself
	}
	return fnbuild.Scan(m.dir, patterns, modules)
}

// affected are the functions of fns that a change of the files changed
// concerns: those with a build whose watch patterns match one, and those
// with a build without patterns. A function without a build has nothing
// to rebuild (a change of the manifest redeploys it).
func affected(fns []manifestFunction, changed []string) []manifestFunction {
	var out []manifestFunction
	for _, f := range fns {
		if f.Build == nil {
			continue
		}
		if len(f.Build.Watch) == 0 {
			out = append(out, f)
			continue
		}
		if slices.ContainsFunc(changed, func(c string) bool { return fnbuild.Matches(c, f.Build.Watch) }) {
			out = append(out, f)
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// summarize names up to three files.
func summarize(files []string) string {
	if len(files) <= 3 {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:3], ", "), len(files)-3)
}

// displayDir is dir as the user would write it: "." for the working one.
func displayDir(dir string) string {
	if p := displayPath(dir); p != "" {
		return p
	}
	return "."
}
