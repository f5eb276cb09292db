package gateway

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/registry"
)

// versionView is a version as the API shows it, with the aliases that
// name it (a weighted alias names each of its versions).
type versionView struct {
	registry.Version
	Aliases []string `json:"aliases,omitempty"`
}

func versionsOf(fn *registry.Function) []versionView {
	out := make([]versionView, len(fn.Versions))
	index := make(map[int]int, len(fn.Versions))
	for i, v := range fn.Versions {
		out[i] = versionView{Version: v}
		index[v.Version] = i
	}
	for _, a := range aliasesOf(fn) {
		for _, n := range a.Versions() {
			if i, ok := index[n]; ok {
				out[i].Aliases = append(out[i].Aliases, a.Name)
			}
		}
	}
	return out
}

// listVersions answers GET /v1/functions/{name}/versions, oldest first.
func (g *Gateway) listVersions(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": versionsOf(fn)})
}

// getVersion answers GET /v1/functions/{name}/versions/{n}.
func (g *Gateway) getVersion(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "version %q is not a version number; versions are numbered from 1", c.Param("version"))
	}
	fn, err := g.registry.Get(c.Request().Context(), ns, name)
	if err != nil {
		return registryError(err, ns, name)
	}
	for _, v := range versionsOf(fn) {
		if v.Version.Version == n {
			return c.JSON(http.StatusOK, v)
		}
	}
	return registryError(registry.VersionNotFound(fn, n), ns, name)
}
