package gateway

// The doors for OpenFaaS users: the routes of OpenFaaS's gateway that
// faas-cli, its connectors and scripts call, answered by Hearth's own
// invocation core (docs/api.md, "OpenFaaS compatibility";
// docs/decisions/0011-openfaas.md). They add no behaviour:
// /function/ is /fn/, /async-function/ is an async invoke, /system/
// reads the registry, each under the auth rule of the Hearth route it
// mirrors.

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// Headers of OpenFaaS's gateway.
const (
	headerCallID      = "X-Call-Id"      // the call's id on every answer: Hearth-Invocation-Id
	headerCallbackURL = "X-Callback-Url" // where an async call's result is POSTed
	headerCallbackAPI = "Hearth-Callback-Url"
)

// faasProvider is the provider name /system/info reports.
const faasProvider = "hearth"

// isFaasInvoke reports whether a route pattern is one of the OpenFaaS
// invocation routes, whose function name may carry its namespace.
func isFaasInvoke(path string) bool {
	return strings.HasPrefix(path, "/function/") || strings.HasPrefix(path, "/async-function/")
}

// requestNamespace is the namespace a request addresses, as the auth
// guard checks it: namespace (?namespace=, Hearth-Namespace, "default"),
// except on the OpenFaaS invocation routes, where NAME.NAMESPACE names it.
func requestNamespace(c echo.Context) (string, error) {
	if isFaasInvoke(c.Path()) {
		ns, _, err := faasTarget(c)
		return ns, err
	}
	return namespace(c)
}

// faasTarget splits the :name of an OpenFaaS invocation route into the
// namespace and the function reference, as OpenFaaS does: at the last dot,
// NAME.NAMESPACE (Hearth's names have no dots, so the split is never in
// doubt); without a dot, the namespace is the request's (?namespace=,
// Hearth-Namespace, "default"). A suffix that names another namespace than
// ?namespace= or Hearth-Namespace is refused rather than guessed.
func faasTarget(c echo.Context) (ns, ref string, err error) {
	ref = c.Param("name")
	i := strings.LastIndexByte(ref, '.')
	if i < 0 {
		ns, err = namespace(c)
		return ns, ref, err
	}
	ref, ns = ref[:i], ref[i+1:]
	if err := registry.ValidateName("namespace", ns); err != nil {
		return "", "", apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s (the function %q is NAME.NAMESPACE)", truncated(err.Error()), truncated(c.Param("name")))
	}
	for _, other := range []string{c.QueryParam("namespace"), c.Request().Header.Get(headerNamespace)} {
		if other != "" && other != ns {
			return "", "", apierr.New(http.StatusBadRequest, apierr.InvalidParameter,
				"the function %q names namespace %q and the request names %q (?namespace= or Hearth-Namespace); name one", truncated(c.Param("name")), ns, truncated(other))
		}
	}
	return ns, ref, nil
}

// faasPrepare readies an OpenFaaS invocation for the invocation core:
// the route's NAME.NAMESPACE becomes the name and namespace resolve reads,
// and every answer carries X-Call-Id, the invocation's id.
func faasPrepare(c echo.Context) error {
	ns, ref, err := faasTarget(c)
	if err != nil {
		return err
	}
	// resolve reads the :name parameter and the request's namespace; the
	// guard has checked the key against ns already (requestNamespace).
	if ref != c.Param("name") {
		values := []string{ref}
		if len(c.ParamNames()) > 1 {
			values = append(values, c.Param("*"))
		}
		c.SetParamValues(values...)
		c.Request().Header.Set(headerNamespace, ns)
	}
	res := c.Response()
	res.Before(func() {
		if id := res.Header().Get(invocation.HeaderID); id != "" {
			res.Header().Set(headerCallID, id)
		}
	})
	return nil
}

// faasInvoke answers ANY /function/{name}[/{path}]: as /fn/, a call whose
// method, path, query and headers reach the function.
func (g *Gateway) faasInvoke(c echo.Context) error {
	if err := faasPrepare(c); err != nil {
		return err
	}
	return g.passthrough(c)
}

// faasAsync answers POST /async-function/{name}[/{path}]: an async call,
// 202 once durably queued, its result POSTed to X-Callback-Url when given.
func (g *Gateway) faasAsync(c echo.Context) error {
	if err := faasPrepare(c); err != nil {
		return err
	}
	h := c.Request().Header
	if cb := h.Get(headerCallbackURL); cb != "" {
		if async.CheckCallbackURL(cb) != nil {
			return apierr.New(http.StatusBadRequest, apierr.InvalidCallbackURL, "%s %q is not an absolute http(s) URL", headerCallbackURL, truncated(cb))
		}
		if other := h.Get(headerCallbackAPI); other != "" && other != cb {
			return apierr.New(http.StatusBadRequest, apierr.InvalidCallbackURL, "%s and %s name different URLs; send one", headerCallbackURL, headerCallbackAPI)
		}
		h.Set(headerCallbackAPI, cb) // what accept reads
	}
	inv, err := g.prepare(c, "/"+c.Param("*"))
	if err != nil {
		return err
	}
	return g.accept(c, inv, "async")
}

// faasNoDeploy answers POST, PUT and DELETE /system/functions: OpenFaaS
// deploys container images there; Hearth deploys WebAssembly modules
// through its own route, so the request is refused, never half-done.
func (g *Gateway) faasNoDeploy(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderAllow, http.MethodGet)
	what := "deploy or update"
	if c.Request().Method == http.MethodDelete {
		what = "delete"
	}
	return apierr.New(http.StatusMethodNotAllowed, apierr.MethodNotAllowed,
		"Hearth does not %s functions through the OpenFaaS API (it runs WebAssembly modules, not container images): deploy with PUT /v1/functions/{name} (`hearth deploy NAME FILE.wasm`), delete with DELETE /v1/functions/{name} (`hearth rm NAME`)", what)
}

// faasFunction is a function as OpenFaaS's /system/functions lists it
// (faas-provider's FunctionStatus), filled from Hearth's registry, the
// runner table and this gateway's invocation counter.
type faasFunction struct {
	Name      string            `json:"name"`
	Image     string            `json:"image"` // the module's digest, sha256:…
	Namespace string            `json:"namespace"`
	EnvVars   map[string]string `json:"envVars,omitempty"`
	Secrets   []string          `json:"secrets,omitempty"`
	Labels    map[string]string `json:"labels"`
	// Annotations carry what OpenFaaS has no field for: hearth/version,
	// hearth/abi and, when set, hearth/description.
	Annotations map[string]string `json:"annotations"`
	Limits      *faasResources    `json:"limits,omitempty"`
	// InvocationCount is the calls of the function this gateway has
	// answered since it started (hearth_invocations_total).
	InvocationCount float64 `json:"invocationCount"`
	// Replicas is the function's warm instances on the runners now (idle
	// and busy; 0 when scaled to zero).
	Replicas int `json:"replicas"`
	// AvailableReplicas is the runners ready to run it: a runner starts an
	// instance on the first call in milliseconds, so a function is
	// callable whenever this is above 0, warm or not.
	AvailableReplicas int       `json:"availableReplicas"`
	CreatedAt         time.Time `json:"createdAt"`
}

// faasResources is an OpenFaaS resource limit, in Kubernetes quantities.
type faasResources struct {
	Memory string `json:"memory,omitempty"`
}

// faasListFunctions answers GET /system/functions?namespace=NS: a JSON
// array, as OpenFaaS has it.
func (g *Gateway) faasListFunctions(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	fns, err := g.registry.List(c.Request().Context(), ns)
	if err != nil {
		return err
	}
	counts, runners := g.invocationCounts(), g.sched.Table().Infos()
	out := make([]faasFunction, 0, len(fns))
	for _, fn := range fns {
		out = append(out, faasStatus(fn, counts, runners))
	}
	return c.JSON(http.StatusOK, out)
}

// faasGetFunction answers GET /system/function/{name}?namespace=NS.
func (g *Gateway) faasGetFunction(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, faasStatus(fn, g.invocationCounts(), g.sched.Table().Infos()))
}

func faasStatus(fn *registry.Function, counts map[[2]string]float64, runners []scheduler.Info) faasFunction {
	latest := fn.Latest()
	spec := latest.Spec
	labels := spec.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	annotations := map[string]string{"hearth/version": strconv.Itoa(latest.Version), "hearth/abi": latest.ABI}
	if spec.Description != "" {
		annotations["hearth/description"] = spec.Description
	}
	digests := make(map[string]bool, len(fn.Versions))
	for _, v := range fn.Versions {
		digests[v.DigestHex()] = true
	}
	replicas, available := 0, 0
	for _, r := range runners {
		if r.State == wire.StateReady {
			available++
		}
		for _, w := range r.Warm {
			if digests[w.Digest] || digests[strings.TrimPrefix(w.Digest, "sha256:")] {
				replicas += w.Idle + w.Busy
			}
		}
	}
	f := faasFunction{
		Name: fn.Name, Image: latest.Digest, Namespace: fn.Namespace,
		EnvVars: spec.Env, Secrets: spec.Secrets, Labels: labels, Annotations: annotations,
		InvocationCount: counts[[2]string{fn.Namespace, fn.Name}],
		Replicas:        replicas, AvailableReplicas: available, CreatedAt: fn.CreatedAt,
	}
	if spec.MemoryMB > 0 {
		f.Limits = &faasResources{Memory: fmt.Sprintf("%dMi", spec.MemoryMB)}
	}
	return f
}

// invocationCounts sums hearth_invocations_total by namespace and
// function, every code and cold or not.
func (g *Gateway) invocationCounts() map[[2]string]float64 {
	out := map[[2]string]float64{}
	families, err := g.metrics.calls.Gather() // not the JetStream and runner gauges of /metrics
	if err != nil {
		return out
	}
	for _, f := range families {
		if f.GetName() != "hearth_invocations_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var key [2]string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "namespace":
					key[0] = l.GetValue()
				case "function":
					key[1] = l.GetValue()
				}
			}
			out[key] += m.GetCounter().GetValue()
		}
	}
	return out
}

// faasInfo is OpenFaaS's /system/info: the provider and the gateway's
// version (both Hearth's), and the machine's architecture.
type faasInfo struct {
	Provider faasProviderInfo `json:"provider"`
	Version  faasVersion      `json:"version"`
	Arch     string           `json:"arch"`
}

type faasProviderInfo struct {
	Provider      string      `json:"provider"`
	Version       faasVersion `json:"version"`
	Orchestration string      `json:"orchestration"`
}

type faasVersion struct {
	SHA     string `json:"sha"`
	Release string `json:"release"`
}

// faasInfo answers GET /system/info.
func (g *Gateway) faasInfo(c echo.Context) error {
	v := buildVersion()
	return c.JSON(http.StatusOK, faasInfo{
		Provider: faasProviderInfo{Provider: faasProvider, Version: v, Orchestration: faasProvider},
		Version:  v,
		Arch:     runtime.GOARCH,
	})
}

// buildVersion is the release and commit of this binary, from its build
// information ("dev" and "" when it has none, as under go test).
func buildVersion() faasVersion {
	v := faasVersion{Release: "dev"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v.Release = mv
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v.SHA = s.Value
		}
	}
	return v
}
