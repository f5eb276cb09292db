package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/registry"
)

// aliasView is an alias as the API shows it; "latest" is listed too.
type aliasView struct {
	registry.Alias
	Implicit bool `json:"implicit,omitempty"` // latest: moves on every deploy
}

// aliasesOf lists latest and then the user aliases in name order.
func aliasesOf(fn *registry.Function) []aliasView {
	latest := fn.Latest()
	out := []aliasView{{Alias: registry.Alias{Name: registry.LatestAlias, Version: latest.Version, UpdatedAt: latest.CreatedAt}, Implicit: true}}
	for _, a := range fn.Aliases {
		out = append(out, aliasView{Alias: a})
	}
	return out
}

// listAliases answers GET /v1/functions/{name}/aliases.
func (g *Gateway) listAliases(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"aliases": aliasesOf(fn)})
}

// setAlias answers PUT /v1/functions/{name}/aliases/{alias} with a body
// {"version":3} or {"weights":{"3":90,"4":10}}: 201 for a new alias, 200
// for a moved one.
func (g *Gateway) setAlias(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	alias := c.Param("alias")
	raw, err := readLimited(c.Request().Body, 64<<10, "alias")
	if err != nil {
		return err
	}
	plan, err := readWarmPlan(c)
	if err != nil {
		return err
	}
	var t registry.AliasTarget
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || dec.More() {
		msg := "trailing data after the JSON object"
		if err != nil {
			msg = err.Error()
		}
		return apierr.New(http.StatusBadRequest, registry.CodeInvalidAlias,
			`the body must be {"version":N} or {"weights":{"N":PERCENT,…}}: %s`, msg)
	}
	a, created, err := g.registry.SetAlias(c.Request().Context(), ns, name, alias, t)
	if err != nil {
		return registryError(err, ns, name)
	}
	if fn, err := g.registry.Lookup(c.Request().Context(), ns, name); err == nil {
		g.warmVersions(c, plan, fn, a.Versions())
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/v1/functions/"+name+"/aliases/"+alias)
	}
	return c.JSON(status, aliasView{Alias: a})
}

// deleteAlias answers DELETE /v1/functions/{name}/aliases/{alias}.
func (g *Gateway) deleteAlias(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	if err := g.registry.DeleteAlias(c.Request().Context(), ns, name, c.Param("alias")); err != nil {
		return registryError(err, ns, name)
	}
	return c.NoContent(http.StatusNoContent)
}

// getAlias answers GET /v1/functions/{name}/aliases/{alias}.
func (g *Gateway) getAlias(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	for _, a := range aliasesOf(fn) {
		if a.Name == c.Param("alias") {
			return c.JSON(http.StatusOK, a)
		}
	}
	return registryError(registry.AliasNotFound(fn, c.Param("alias")), fn.Namespace, fn.Name)
}
