package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearthfn/hearth/gateway/audit"
	"github.com/hearthfn/hearth/gateway/auth"
)

// Response headers of the API contract (API.md).
const (
	headerRequestID = "Hearth-Request-Id"
	headerNamespace = "Hearth-Namespace"
)

// route is one route of the API: what answers it, what it asks of the
// caller's key (gateway/auth), and the audit action it is recorded as
// when it changes something ("" for reads and calls).
type route struct {
	method, path string
	handler      echo.HandlerFunc
	rule         auth.Rule
	action       string
}

// Shorthands of the routes' rules (API.md, "Keys, namespaces, secrets,
// audit").
var (
	open       = auth.Rule{Need: auth.NeedNone}
	readNS     = auth.Rule{Need: auth.NeedRead, Where: auth.InRequest}
	deployNS   = auth.Rule{Need: auth.NeedDeploy, Where: auth.InRequest}
	invokeNS   = auth.Rule{Need: auth.NeedInvoke, Where: auth.InRequest}
	recordsNS  = auth.Rule{Need: auth.NeedRecords, Where: auth.InRequest}
	recordsObj = auth.Rule{Need: auth.NeedRecords, Where: auth.InObject}
	invokeObj  = auth.Rule{Need: auth.NeedInvoke, Where: auth.InObject}
	readAll    = auth.Rule{Need: auth.NeedRead, Where: auth.Cluster}
	admin      = auth.Rule{Need: auth.NeedAdmin, Where: auth.InObject}
	// anyKey: any valid key, whatever its scopes (NeedRecords is met by
	// every scope) and namespace (the handler addresses none): what
	// describes the API rather than the state of a namespace.
	anyKey = auth.Rule{Need: auth.NeedRecords, Where: auth.InObject}
)

// anyMethod registers a route for every method (the /fn/ passthrough).
const anyMethod = "ANY"

// routeTable is the API: every route, its handler and its rule. Routes
// are added only here, so none escapes the auth middleware, and the auth
// test walks this list.
func (g *Gateway) routeTable() []route {
	return []route{
		{"GET", "/healthz", g.healthz, open, ""},
		{"GET", "/readyz", g.readyz, open, ""},
		{"GET", "/metrics", echo.WrapHandler(promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{})), readAll, ""},

		{"PUT", "/v1/functions/:name", g.deployFunction, deployNS, audit.FunctionDeploy},
		{"GET", "/v1/functions", g.listFunctions, readNS, ""},
		{"GET", "/v1/functions/:name", g.getFunction, readNS, ""},
		{"DELETE", "/v1/functions/:name", g.deleteFunction, deployNS, audit.FunctionDelete},
		{"POST", "/v1/functions/:name/invoke", g.invoke, invokeNS, ""}, // invoke.go: the invocation core
		{"GET", "/v1/functions/:name/versions", g.listVersions, readNS, ""},
		{"GET", "/v1/functions/:name/versions/:version", g.getVersion, readNS, ""},
		{"GET", "/v1/functions/:name/aliases", g.listAliases, readNS, ""},
		{"GET", "/v1/functions/:name/aliases/:alias", g.getAlias, readNS, ""},
		{"PUT", "/v1/functions/:name/aliases/:alias", g.setAlias, deployNS, audit.AliasSet},
		{"DELETE", "/v1/functions/:name/aliases/:alias", g.deleteAlias, deployNS, audit.AliasDelete},
		{"GET", "/v1/functions/:name/invocations", g.listInvocations, recordsNS, ""},
		{"GET", "/v1/functions/:name/logs", g.functionLogs, recordsNS, ""}, // logstream.go
		{"GET", "/v1/functions/:name/triggers", g.listTriggers, readNS, ""},
		{"POST", "/v1/functions/:name/triggers", g.addTrigger, deployNS, audit.TriggerAdd},
		{"DELETE", "/v1/functions/:name/triggers/:n", g.deleteTrigger, deployNS, audit.TriggerDelete},
		{"GET", "/v1/runners", g.listRunners, readAll, ""},
		{"GET", "/v1/autoscaler", g.getAutoscaler, readNS, ""}, // autoscaler_api.go

		{"GET", "/v1/invocations/:id", g.getInvocation, recordsObj, ""},
		{"GET", "/v1/invocations/:id/result", g.getResult, recordsObj, ""},
		{"GET", "/v1/invocations/:id/logs", g.getLogs, recordsObj, ""},
		{"GET", "/v1/dlq", g.listDLQ, recordsNS, ""},
		{"POST", "/v1/dlq/:id/replay", g.replayDLQ, invokeObj, audit.DLQReplay},

		{"GET", "/v1/secrets", g.listSecrets, readNS, ""},
		{"GET", "/v1/secrets/:name", g.getSecret, readNS, ""},
		{"PUT", "/v1/secrets/:name", g.putSecret, deployNS, audit.SecretPut},
		{"DELETE", "/v1/secrets/:name", g.deleteSecret, deployNS, audit.SecretDelete},

		{"POST", "/v1/keys", g.createKey, admin, audit.KeyCreate},
		{"GET", "/v1/keys", g.listKeys, admin, ""},
		{"DELETE", "/v1/keys/:id", g.deleteKey, admin, audit.KeyDelete},
		{"GET", "/v1/audit", g.listAudit, admin, ""},

		{anyMethod, "/fn/:name", g.passthrough, invokeNS, ""},
		{anyMethod, "/fn/:name/*", g.passthrough, invokeNS, ""},

		{"GET", "/v1/openapi.json", g.openAPIDocument, anyKey, ""}, // openapi.go

		// The web console (console.go): its page and assets hold no data
		// (every figure comes from the API, with the user's key), so they
		// need none (decision 0012).
		{"GET", "/", g.consoleIndex, open, ""},
		{"GET", "/console/*", g.consoleAsset, open, ""},

		// OpenFaaS compatibility (openfaas.go), under the rules of the
		// routes they mirror; /function/ and /async-function/ take their
		// namespace from NAME.NAMESPACE too (requestNamespace).
		{anyMethod, "/function/:name", g.faasInvoke, invokeNS, ""},
		{anyMethod, "/function/:name/*", g.faasInvoke, invokeNS, ""},
		{"POST", "/async-function/:name", g.faasAsync, invokeNS, ""},
		{"POST", "/async-function/:name/*", g.faasAsync, invokeNS, ""},
		{"GET", "/system/functions", g.faasListFunctions, readNS, ""},
		{"POST", "/system/functions", g.faasNoDeploy, deployNS, ""},
		{"PUT", "/system/functions", g.faasNoDeploy, deployNS, ""},
		{"DELETE", "/system/functions", g.faasNoDeploy, deployNS, ""},
		{"GET", "/system/function/:name", g.faasGetFunction, readNS, ""},
		{"GET", "/system/info", g.faasInfo, anyKey, ""},
	}
}

// RouteInfo describes a route of the API: its method ("ANY" for every
// one), its path pattern, the scope it needs ("none", "read", "read or
// invoke", "invoke", "deploy", "admin"), where its namespace comes from,
// and the audit action of a change.
type RouteInfo struct {
	Method, Path, Need string
	Where              auth.Where
	Action             string
}

// Routes lists the API's routes as routeTable has them.
func (g *Gateway) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range g.routeTable() {
		out = append(out, RouteInfo{Method: r.method, Path: r.path, Need: r.rule.Need.String(), Where: r.rule.Where, Action: r.action})
	}
	return out
}

// routes builds the router: request ids, trace context, panic recovery, the audit record
// of changes, the auth guard, then the handlers of routeTable.
func (g *Gateway) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: headerRequestID}))
	e.Use(g.traceRequests) // tracing.go
	e.Use(middleware.Recover())

	table := g.routeTable()
	byPath := make(map[string]map[string]route, len(table))
	for _, r := range table {
		r.rule.Remember = r.action != "" // the audit entry names the key
		if byPath[r.path] == nil {
			byPath[r.path] = make(map[string]route)
		}
		byPath[r.path][r.method] = r
	}
	find := func(c echo.Context) (route, bool) {
		methods, ok := byPath[c.Path()]
		if !ok {
			return route{}, false
		}
		if r, ok := methods[c.Request().Method]; ok {
			return r, true
		}
		r, ok := methods[anyMethod]
		return r, ok
	}
	e.Use(g.auditChanges(find))
	guard := &auth.Guard{
		Keys:      g.keys,
		Rule:      func(c echo.Context) (auth.Rule, bool) { r, ok := find(c); return r.rule, ok },
		Namespace: requestNamespace, // namespace, or NAME.NAMESPACE on OpenFaaS's routes
		Refused:   func(reason string) { g.metrics.authRefused.WithLabelValues(reason).Inc() },
	}
	e.Use(guard.Middleware)

	for _, r := range table {
		if r.method == anyMethod {
			e.Any(r.path, r.handler)
		} else {
			e.Add(r.method, r.path, r.handler)
		}
	}
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
