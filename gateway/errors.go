package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/registry"
)

// handleError writes any error as the JSON error shape; echo calls it for
// errors returned by handlers and for its own (unknown route, wrong method).
func (g *Gateway) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apierr.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = &apierr.Error{Status: he.Code, Code: apierr.ForStatus(he.Code), Message: fmt.Sprint(he.Message)}
		if he.Code == http.StatusNotFound {
			ae.Message = fmt.Sprintf("no such route: %s %s; GET /v1/openapi.json describes every route (and docs/api.md)", c.Request().Method, c.Request().URL.Path)
		}
	default:
		g.log.Error("internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", c.Response().Header().Get(headerRequestID), "error", err)
		ae = &apierr.Error{Status: http.StatusInternalServerError, Code: apierr.Internal, Message: "internal error; the gateway log has the details (request id " + c.Response().Header().Get(headerRequestID) + ")"}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.Status)
		return
	}
	_ = c.JSON(ae.Status, apierr.Body{Error: *ae.Detail()})
}

// registryError maps registry errors to API errors.
func registryError(err error, ns, name string) error {
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &ve):
		status := http.StatusBadRequest
		if ve.Code == registry.CodeModuleTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return apierr.New(status, apierr.Code(ve.Code), "%s", ve.Message)
	case errors.Is(err, registry.ErrNotFound):
		return notFound(ns, name)
	case errors.Is(err, registry.ErrVersionNotFound):
		return apierr.New(http.StatusNotFound, apierr.VersionNotFound, "%s; list them with `hearth versions %s`", err.Error(), name)
	case errors.Is(err, registry.ErrAliasNotFound):
		return apierr.New(http.StatusNotFound, apierr.AliasNotFound, "%s; set one with `hearth alias set %s ALIAS VERSION`", err.Error(), name)
	}
	return err
}

func notFound(ns, name string) error {
	return apierr.New(http.StatusNotFound, apierr.FunctionNotFound,
		"no function %q in namespace %q; deploy it with `hearth deploy %s FILE.wasm` or list functions with `hearth ls`", name, ns, name)
}
