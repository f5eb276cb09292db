package gateway

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/registry"
)

// A runner that joins a cluster in service becomes, under the hashing
// strategy, the home of some modules: the calls of those that no runner
// has an idle instance of would start cold there. So before the runner
// takes calls (scheduler.Table.OnJoin holds it back) this gateway warms on
// it one instance of each active module it is home for: the modules some
// other runner has warm now, found in the registry by digest (issue 16).
// Other strategies have no home; their new runners are admitted at once.

// joinWarmTimeout bounds how long a joined runner is held back: warming
// that takes longer goes on, but the runner takes calls meanwhile.
const joinWarmTimeout = 10 * time.Second

// warmJoiner is the table's OnJoin.
func (g *Gateway) warmJoiner(r *scheduler.Runner, admit func()) {
	defer admit()
	h, ok := g.sched.Strategy().(*scheduler.Hashing)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(g.streams, joinWarmTimeout)
	defer cancel()
	var runners []*scheduler.Runner
	active := map[string]bool{}
	for _, o := range g.sched.Table().Runners() {
		if o == r || (!o.Joining() && o.Ready()) {
			runners = append(runners, o)
		}
		if o != r {
			for _, w := range o.Warm() {
				active[w.Digest] = true
			}
		}
	}
	var warmed, failed int
	for _, fv := range versionsByDigest(g.registry.Cached(), active) {
		if h.Home(fv.v.DigestHex(), runners) != r {
			continue
		}
		req, err := g.warmRequest(fv.fn.Namespace, fv.fn.Name, fv.v)
		if err == nil {
			err = g.prewarm(ctx, req, r.ID)
		}
		if err != nil {
			failed++
			g.metrics.joinWarms.WithLabelValues(warmFailed).Inc()
			g.log.Warn("warming a joined runner failed", "runner", r.ID, "namespace", fv.fn.Namespace, "function", fv.fn.Name, "version", fv.v.Version, "error", err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		warmed++
		g.metrics.joinWarms.WithLabelValues(warmDone).Inc()
	}
	g.log.Info("runner joined", "runner", r.ID, "warmed", warmed, "failed", failed)
}

type fnVersion struct {
	fn *registry.Function
	v  registry.Version
}

// versionsByDigest picks, for each digest in want, one function version
// that runs it (the newest), in a stable order.
func versionsByDigest(fns []*registry.Function, want map[string]bool) []fnVersion {
	byDigest := map[string]fnVersion{}
	for _, fn := range fns {
		for _, v := range fn.Versions {
			d := v.DigestHex() // as runners report it
			if !want[d] {
				continue
			}
			if old, ok := byDigest[d]; !ok || v.Version > old.v.Version {
				byDigest[d] = fnVersion{fn, v}
			}
		}
	}
	out := make([]fnVersion, 0, len(byDigest))
	for _, fv := range byDigest {
		out = append(out, fv)
	}
	slices.SortFunc(out, func(a, b fnVersion) int { return strings.Compare(a.v.Digest, b.v.Digest) })
	return out
}
