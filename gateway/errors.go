package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiError is an error with the JSON shape every Hearth API error has:
// {"error":{"code":"…","message":"…"}}.
type apiError struct {
	Status  int
	Code    string
	Message string
	Stderr  string // tail of a failed function's stderr, if any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Stderr  string `json:"stderr,omitempty"`
}

// handleError writes any error as the JSON error shape; echo calls it for
// errors returned by handlers and for its own (unknown route, wrong method).
func (g *Gateway) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = &apiError{Status: he.Code, Code: codeForStatus(he.Code), Message: fmt.Sprint(he.Message)}
		if he.Code == http.StatusNotFound {
			ae.Message = "no such route; see /v1/openapi.json for the API"
		}
	default:
		g.log.Error("internal error", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the gateway log has the details (request id " + c.Response().Header().Get(headerRequestID) + ")"}
	}
	body := errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Stderr: ae.Stderr}}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.Status)
		return
	}
	_ = c.JSON(ae.Status, body)
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}
