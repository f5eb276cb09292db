package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/registry"
)

// Triggers belong to a function version's spec. Adding or removing one
// through the API deploys a new version with the same module and the
// changed spec, so versions stay immutable and a rollback (moving an
// alias or redeploying) brings the old triggers back with the old spec.

// listTriggers answers GET /v1/functions/{name}/triggers: the triggers of
// the latest version, numbered from 1.
func (g *Gateway) listTriggers(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, triggersAnswer(fn.Latest()))
}

func triggersAnswer(v registry.Version) map[string]any {
	triggers := v.Spec.Triggers
	if triggers == nil {
		triggers = []registry.Trigger{}
	}
	return map[string]any{"version": v.Version, "triggers": triggers}
}

// addTrigger answers POST /v1/functions/{name}/triggers with a trigger as
// JSON: 201 with the new version and its triggers.
func (g *Gateway) addTrigger(c echo.Context) error {
	raw, err := readLimited(c.Request().Body, 64<<10, "trigger")
	if err != nil {
		return err
	}
	var t registry.Trigger
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return apierr.New(http.StatusBadRequest, apierr.InvalidTrigger, "the body is not a trigger: %v; send {\"type\":\"nats\",\"subject\":\"…\"} or {\"type\":\"cron\",\"schedule\":\"…\"}", err)
	}
	return g.changeTriggers(c, func(ts []registry.Trigger) ([]registry.Trigger, error) { return append(ts, t), nil })
}

// deleteTrigger answers DELETE /v1/functions/{name}/triggers/{n}.
func (g *Gateway) deleteTrigger(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "trigger number %q: use the number `hearth trigger ls` shows, from 1", c.Param("n"))
	}
	return g.changeTriggers(c, func(ts []registry.Trigger) ([]registry.Trigger, error) {
		if n > len(ts) {
			return nil, apierr.New(http.StatusNotFound, apierr.TriggerNotFound, "the function has %d triggers; there is no number %d", len(ts), n)
		}
		return append(append([]registry.Trigger{}, ts[:n-1]...), ts[n:]...), nil
	})
}

// changeTriggers deploys the latest version again with changed triggers.
func (g *Gateway) changeTriggers(c echo.Context, change func([]registry.Trigger) ([]registry.Trigger, error)) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	fn, err := g.registry.Get(ctx, ns, name)
	if err != nil {
		return registryError(err, ns, name)
	}
	latest := fn.Latest()
	spec := latest.Spec
	if spec.Triggers, err = change(append([]registry.Trigger(nil), spec.Triggers...)); err != nil {
		return err
	}
	module, err := g.store.Get(ctx, objstore.ModuleKey(latest.DigestHex()))
	if err != nil {
		return err
	}
	deployed, v, err := g.registry.Deploy(ctx, registry.DeployRequest{Namespace: ns, Name: name, Module: module, Spec: spec})
	if err != nil {
		return registryError(err, ns, name)
	}
	// The new version is warmed as a deploy's is: its first call (a
	// trigger's, often) is not a cold start.
	g.warmVersions(c, warmPlan{}, deployed, []int{v.Version})
	return c.JSON(http.StatusCreated, triggersAnswer(v))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
