package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Response headers of the API contract (API.md).
const (
	headerRequestID = "Hearth-Request-Id"
	headerNamespace = "Hearth-Namespace"
)

// routes is the API: every route and the handler that answers it.
func (g *Gateway) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: headerRequestID}))
	e.Use(middleware.Recover())

	e.GET("/healthz", g.healthz)
	e.GET("/readyz", g.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{})))

	v1 := e.Group("/v1")
	v1.PUT("/functions/:name", g.deployFunction)
	v1.GET("/functions", g.listFunctions)
	v1.GET("/functions/:name", g.getFunction)
	v1.DELETE("/functions/:name", g.deleteFunction)
	v1.POST("/functions/:name/invoke", g.invoke) // invoke.go: the invocation core
	v1.GET("/functions/:name/versions", g.listVersions)
	v1.GET("/functions/:name/versions/:version", g.getVersion)
	v1.GET("/functions/:name/aliases", g.listAliases)
	v1.GET("/functions/:name/aliases/:alias", g.getAlias)
	v1.PUT("/functions/:name/aliases/:alias", g.setAlias)
	v1.DELETE("/functions/:name/aliases/:alias", g.deleteAlias)
	v1.GET("/runners", g.listRunners)
	v1.GET("/functions/:name/invocations", g.listInvocations)
	v1.GET("/functions/:name/triggers", g.listTriggers)
	v1.POST("/functions/:name/triggers", g.addTrigger)
	v1.DELETE("/functions/:name/triggers/:n", g.deleteTrigger)
	v1.GET("/invocations/:id", g.getInvocation)
	v1.GET("/invocations/:id/result", g.getResult)
	v1.GET("/invocations/:id/logs", g.getLogs)
	v1.GET("/dlq", g.listDLQ)
	v1.POST("/dlq/:id/replay", g.replayDLQ)

	e.Any("/fn/:name", g.passthrough)
	e.Any("/fn/:name/*", g.passthrough)
	return e
}

func (g *Gateway) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when NATS and the object store are reachable.
func (g *Gateway) readyz(c echo.Context) error {
	checks := map[string]string{"nats": "ok", "storage": "ok"}
	ready := true
	if !g.nc.IsConnected() {
		checks["nats"], ready = "not connected: "+g.nc.Status().String(), false
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := g.store.Ping(ctx); err != nil {
		checks["storage"], ready = err.Error(), false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"ready": ready, "checks": checks})
}

// listRunners answers GET /v1/runners: the runner table.
func (g *Gateway) listRunners(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"runners": g.sched.Table().Infos(), "strategy": g.sched.Strategy().Name()})
}
