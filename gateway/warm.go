package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// A deploy, a new version and an alias change warm one instance of what
// they make callable on its home runner (the scheduler's choice for the
// module), so that the first call is not a cold start (issue 16). The
// deploy waits for it when the module is small enough to compile in a
// moment (warmWaitMaxBytes), or when asked (?wait=warm); otherwise it
// answers at once and the instance is warmed right after.

// HeaderWarm says what became of the warming of a deploy or alias change:
// warm, pending (going on after the answer), failed, no-runners or off.
const HeaderWarm = "Hearth-Warm"

// The values of HeaderWarm (and the outcome label of
// hearth_deploy_warms_total).
const (
	warmDone      = "warm"
	warmPending   = "pending"
	warmFailed    = "failed"
	warmNoRunners = "no-runners"
	warmOff       = "off"
)

// warmWaitMaxBytes is the largest module a deploy waits to warm by
// default: a C module or a small Go one compiles in well under a second
// here; a 5 MB Go module takes seconds.
const warmWaitMaxBytes = 4 << 20

// warmTimeout bounds one warming, waited for or not.
const warmTimeout = time.Minute

// warmPlan is how a deploy or alias change warms: whether at all, and
// whether the answer waits.
type warmPlan struct {
	off  bool
	wait *bool // nil: by the module's size
}

// readWarmPlan reads ?warm=true|false and ?wait=warm|none.
func readWarmPlan(c echo.Context) (warmPlan, error) {
	var p warmPlan
	warm, err := boolParam(c, "warm")
	if err != nil {
		return p, err
	}
	if c.QueryParam("warm") != "" && !warm {
		p.off = true
	}
	switch w := c.QueryParam("wait"); w {
	case "":
	case "warm", "none":
		wait := w == "warm"
		if p.off && wait {
			return p, apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "wait=warm and warm=false contradict each other; leave one out")
		}
		p.wait = &wait
	default:
		return p, apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "wait is %q; use wait=warm (answer once an instance is warm) or wait=none (answer at once, warm right after)", w)
	}
	return p, nil
}

// warmVersions warms one instance of each version of fn and sets
// HeaderWarm: the outcome when the answer waits, else pending.
func (g *Gateway) warmVersions(c echo.Context, p warmPlan, fn *registry.Function, versions []int) {
	h := c.Response().Header()
	if p.off {
		h.Set(HeaderWarm, warmOff)
		g.metrics.deployWarms.WithLabelValues(warmOff).Inc()
		return
	}
	vs := make([]registry.Version, 0, len(versions))
	size := 0
	for _, n := range versions {
		if v, ok := fn.Version(n); ok {
			vs = append(vs, v)
			size = max(size, int(v.Size))
		}
	}
	wait := size <= warmWaitMaxBytes
	if p.wait != nil {
		wait = *p.wait
	}
	if !wait {
		h.Set(HeaderWarm, warmPending)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), warmTimeout)
			defer cancel()
			g.warmAll(ctx, fn, vs)
		}()
		return
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), warmTimeout)
	defer cancel()
	h.Set(HeaderWarm, g.warmAll(ctx, fn, vs))
}

// warmAll warms each version and returns the worst outcome.
func (g *Gateway) warmAll(ctx context.Context, fn *registry.Function, vs []registry.Version) string {
	outcome := warmDone
	for _, v := range vs {
		o := g.warm(ctx, fn, v)
		g.metrics.deployWarms.WithLabelValues(o).Inc()
		if o != warmDone {
			outcome = o
		}
	}
	return outcome
}

// warm asks the home runner of version v for one warm instance.
func (g *Gateway) warm(ctx context.Context, fn *registry.Function, v registry.Version) string {
	req, err := g.warmRequest(fn.Namespace, fn.Name, v)
	if err != nil {
		g.log.Warn("warm after deploy: the function cannot run", "namespace", fn.Namespace, "function", fn.Name, "version", v.Version, "error", err)
		return warmFailed
	}
	var runnerID string
	switch d, err := g.sched.Place(scheduler.Request{Digest: req.Digest}, nil); {
	case err == nil:
		runnerID = d.Runner.ID
	case g.local != nil: // no heartbeat yet: the runner of this process takes unplaced calls
		runnerID = g.local.R.ID()
	case errors.Is(err, scheduler.ErrNoRunners):
		return warmNoRunners
	default:
		g.log.Warn("warm after deploy: no placement", "namespace", fn.Namespace, "function", fn.Name, "version", v.Version, "error", err)
		return warmFailed
	}
	if err := g.prewarm(ctx, req, runnerID); err != nil {
		g.log.Warn("warm after deploy failed", "namespace", fn.Namespace, "function", fn.Name, "version", v.Version, "runner", runnerID, "error", err)
		return warmFailed
	}
	g.log.Debug("warmed after deploy", "namespace", fn.Namespace, "function", fn.Name, "version", v.Version, "runner", runnerID)
	return warmDone
}

// warmRequest is what a runner is sent to warm version v of the function:
// the request of a call, with the env a call would carry (its spec's env
// and granted secrets), so that the warm instance is the one a call uses.
func (g *Gateway) warmRequest(ns, name string, v registry.Version) (*wire.Request, error) {
	req := invocation.WithVersion(&wire.Request{Namespace: ns, Function: name}, v)
	env, err := g.callEnv(ns, v)
	if err != nil {
		return nil, err
	}
	req.Env = env
	return req, nil
}

// prewarm asks runner runnerID for one warm instance of req's module and
// waits for its answer.
func (g *Gateway) prewarm(ctx context.Context, req *wire.Request, runnerID string) error {
	data, err := json.Marshal(wire.Control{Op: wire.OpPrewarm, Request: req, Instances: 1})
	if err != nil {
		return err
	}
	msg, err := g.nc.RequestWithContext(ctx, wire.ControlSubject(runnerID), data)
	var reply wire.ControlReply
	if err == nil {
		err = json.Unmarshal(msg.Data, &reply)
	}
	if err == nil && reply.Error != "" {
		err = errors.New(reply.Error)
	}
	return err
}
