package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/console"
)

// consoleIndex answers GET /: the web console's page (gateway/console).
// Its assets hold no data, so they need no key (routes.go; decision 0012):
// the page asks for one when the API answers 401.
func (g *Gateway) consoleIndex(c echo.Context) error {
	console.Serve(c.Response(), c.Request(), console.Index())
	return nil
}

// consoleAsset answers GET /console/{path}: a script, style sheet or
// image of the console.
func (g *Gateway) consoleAsset(c echo.Context) error {
	a, ok := console.Lookup(c.Param("*"))
	if !ok {
		console.SetHeaders(c.Response().Header())
		return apierr.New(http.StatusNotFound, apierr.NotFound, "the console has no file %q", c.Param("*"))
	}
	console.Serve(c.Response(), c.Request(), a)
	return nil
}
