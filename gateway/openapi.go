package gateway

import (
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/openapi"
)

// The OpenAPI document is the same for every gateway of a build: it is
// made from the route table once, on its first request.
var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
	openAPIErr  error
)

// OpenAPI is the gateway's OpenAPI document (gateway/openapi), as GET
// /v1/openapi.json serves it.
func (g *Gateway) OpenAPI() ([]byte, error) {
	openAPIOnce.Do(func() {
		var routes []openapi.Route
		for _, r := range g.Routes() {
			routes = append(routes, openapi.Route{Method: r.Method, Path: r.Path, Need: r.Need, Where: r.Where, Action: r.Action})
		}
		openAPIDoc, openAPIErr = openapi.Document(routes)
	})
	return openAPIDoc, openAPIErr
}

// openAPIDocument answers GET /v1/openapi.json.
func (g *Gateway) openAPIDocument(c echo.Context) error {
	doc, err := g.OpenAPI()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}
