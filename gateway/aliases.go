package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/registry"
)

// headerFunctionVersion tells which version ran a call (like Lambda's
// X-Amz-Executed-Version), useful behind a weighted alias.
const headerFunctionVersion = "Hearth-Function-Version"

// resolve finds what an invocation runs. The :name route parameter is
// NAME (the newest version), NAME@VERSION or NAME:ALIAS; a weighted alias
// picks a version at random by weight for each call. It sets the
// Hearth-Function-Version header and applies the version's max_payload.
func (g *Gateway) resolve(c echo.Context) (ns string, fn *registry.Function, v registry.Version, err error) {
	if ns, err = namespace(c); err != nil {
		return "", nil, registry.Version{}, err
	}
	raw := c.Param("name")
	if s, uerr := url.PathUnescape(raw); uerr == nil {
		raw = s // a client may have escaped the : or @
	}
	ref, err := registry.ParseRef(raw)
	if err != nil {
		return "", nil, registry.Version{}, registryError(err, ns, raw)
	}
	fn, v, err = g.registry.ResolveRef(c.Request().Context(), ns, ref)
	if err != nil {
		return "", nil, registry.Version{}, registryError(err, ns, ref.Name)
	}
	c.Response().Header().Set(headerFunctionVersion, strconv.Itoa(v.Version))
	if err := limitBody(c, fn.Name, v.Spec.MaxPayload); err != nil {
		return "", nil, registry.Version{}, err
	}
	return ns, fn, v, nil
}

// limitBody applies a function's max_payload (0: only the gateway's limit):
// a declared length above it is refused at once, and a body of unknown
// length is cut off at it (readLimited answers 413).
func limitBody(c echo.Context, name string, limit int) error {
	if limit <= 0 {
		return nil
	}
	req := c.Request()
	if req.ContentLength > int64(limit) {
		return newError(http.StatusRequestEntityTooLarge, "payload_too_large",
			"the request body is %d bytes; %s accepts at most %d (max_payload in its spec)", req.ContentLength, name, limit)
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, int64(limit))
	return nil
}

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
	var t registry.AliasTarget
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || dec.More() {
		msg := "trailing data after the JSON object"
		if err != nil {
			msg = err.Error()
		}
		return newError(http.StatusBadRequest, registry.CodeInvalidAlias,
			`the body must be {"version":N} or {"weights":{"N":PERCENT,…}}: %s`, msg)
	}
	a, created, err := g.registry.SetAlias(c.Request().Context(), ns, name, alias, t)
	if err != nil {
		return registryError(err, ns, name)
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
