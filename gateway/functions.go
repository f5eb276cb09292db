package gateway

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/registry"
)

// deployResponse answers a deploy (API.md).
type deployResponse struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	ABI       string    `json:"abi"`
	CreatedAt time.Time `json:"created_at"`
	// DryRun is set when the deploy was only checked (?dry_run=true);
	// Version is then 0 and nothing was stored.
	DryRun bool `json:"dry_run,omitempty"`
}

// functionSummary is one entry of the function list.
type functionSummary struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	ABI       string    `json:"abi"`
	UpdatedAt time.Time `json:"updated_at"`
}

// functionDetail is a function with its current spec, every version and
// its aliases.
type functionDetail struct {
	functionSummary
	Spec      registry.Spec `json:"spec"`
	Versions  []versionView `json:"versions"`
	Aliases   []aliasView   `json:"aliases"`
	CreatedAt time.Time     `json:"created_at"`
}

func summarize(fn *registry.Function) functionSummary {
	v := fn.Latest()
	return functionSummary{Name: fn.Name, Namespace: fn.Namespace, Version: v.Version, Digest: v.Digest, ABI: v.ABI, UpdatedAt: fn.UpdatedAt}
}

func (g *Gateway) deployFunction(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	module, spec, err := g.readDeploy(c)
	if err != nil {
		g.metrics.deploys.WithLabelValues("rejected").Inc()
		return err
	}
	dryRun, err := boolParam(c, "dry_run")
	if err != nil {
		return err
	}
	plan, err := readWarmPlan(c)
	if err != nil {
		return err
	}
	if err := spec.Validate(); err != nil { // before the secrets' existence: a bad name is not "missing"
		g.metrics.deploys.WithLabelValues("rejected").Inc()
		return registryError(err, ns, name)
	}
	if missing := g.secrets.Missing(ns, spec.Secrets); len(missing) > 0 {
		g.metrics.deploys.WithLabelValues("rejected").Inc()
		return apierr.New(http.StatusBadRequest, registry.CodeInvalidSpec,
			"the spec grants secrets that do not exist in namespace %q: %s; set them first with `hearth secret set NAME`", ns, strings.Join(missing, ", "))
	}
	if dryRun {
		c.Set(auditSkipKey, true)
	}
	fn, version, err := g.registry.Deploy(c.Request().Context(), registry.DeployRequest{
		Namespace: ns, Name: name, Module: module, Spec: spec, DryRun: dryRun,
	})
	if err != nil {
		g.metrics.deploys.WithLabelValues("rejected").Inc()
		return registryError(err, ns, name)
	}
	if dryRun {
		return c.JSON(http.StatusOK, deployResponse{
			Name: fn.Name, Namespace: fn.Namespace, Digest: version.Digest, ABI: version.ABI, DryRun: true,
		})
	}
	g.metrics.deploys.WithLabelValues("ok").Inc()
	g.warmVersions(c, plan, fn, []int{version.Version})
	c.Response().Header().Set(echo.HeaderLocation, "/v1/functions/"+fn.Name)
	return c.JSON(http.StatusCreated, deployResponse{
		Name: fn.Name, Namespace: fn.Namespace, Version: version.Version,
		Digest: version.Digest, ABI: version.ABI, CreatedAt: version.CreatedAt,
	})
}

// readDeploy reads the module and spec of a deploy: a raw wasm body, or
// multipart/form-data with parts "module" and "spec" (JSON).
func (g *Gateway) readDeploy(c echo.Context) ([]byte, registry.Spec, error) {
	var spec registry.Spec
	limit := int64(g.registry.MaxModuleBytes())
	req := c.Request()
	mediaType, params, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch mediaType {
	case "", "application/wasm", "application/octet-stream":
		module, err := readLimited(req.Body, limit, "module")
		return module, spec, err
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, spec, apierr.New(http.StatusBadRequest, apierr.BadRequest, "multipart/form-data without a boundary")
		}
	default:
		return nil, spec, apierr.New(http.StatusUnsupportedMediaType, apierr.UnsupportedMediaType,
			"Content-Type %q is not accepted; send the module as application/wasm, or multipart/form-data with parts \"module\" and \"spec\"", mediaType)
	}

	reader, err := req.MultipartReader()
	if err != nil {
		return nil, spec, apierr.New(http.StatusBadRequest, apierr.BadRequest, "read multipart body: %v", err)
	}
	var module []byte
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, spec, apierr.New(http.StatusBadRequest, apierr.BadRequest, "read multipart body: %v", err)
		}
		switch part.FormName() {
		case "module":
			if module, err = readLimited(part, limit, "module"); err != nil {
				return nil, spec, err
			}
		case "spec":
			raw, err := readLimited(part, limits.MaxSpecBytes, "spec")
			if err != nil {
				return nil, spec, err
			}
			if spec, err = decodeSpec(raw); err != nil {
				return nil, spec, err
			}
		default:
			return nil, spec, apierr.New(http.StatusBadRequest, apierr.BadRequest, "unexpected multipart part %q; send \"module\" and optionally \"spec\"", part.FormName())
		}
	}
	if module == nil {
		return nil, spec, apierr.New(http.StatusBadRequest, registry.CodeInvalidModule, "the multipart body has no \"module\" part")
	}
	return module, spec, nil
}

// decodeSpec parses a spec document strictly: unknown fields are errors, so
// a typo does not silently deploy with defaults.
func decodeSpec(raw []byte) (registry.Spec, error) {
	spec, err := registry.DecodeSpec(raw)
	if err != nil {
		return spec, registryError(err, "", "")
	}
	return spec, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (bool, error) {
	s := c.QueryParam(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "%s must be true or false, not %q", name, s)
	}
	return b, nil
}

// function reads the function a request addresses, as API errors.
func (g *Gateway) function(c echo.Context) (*registry.Function, error) {
	ns, name, err := target(c)
	if err != nil {
		return nil, err
	}
	fn, err := g.registry.Get(c.Request().Context(), ns, name)
	if err != nil {
		return nil, registryError(err, ns, name)
	}
	return fn, nil
}

// listFunctions answers GET /v1/functions with pagination by name:
// ?limit= (default 100, at most 1000) and ?page= (the next_page of the
// previous answer).
func (g *Gateway) listFunctions(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	limit := 100
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "limit must be a number from 1 to 1000, not %q", s)
		}
		limit = n
	}
	after := c.QueryParam("page")
	fns, err := g.registry.List(c.Request().Context(), ns)
	if err != nil {
		return err
	}
	out := struct {
		Functions []functionSummary `json:"functions"`
		NextPage  string            `json:"next_page"`
	}{Functions: []functionSummary{}}
	for _, fn := range fns {
		if fn.Name <= after {
			continue
		}
		if len(out.Functions) == limit {
			out.NextPage = out.Functions[limit-1].Name
			break
		}
		out.Functions = append(out.Functions, summarize(fn))
	}
	return c.JSON(http.StatusOK, out)
}

func (g *Gateway) getFunction(c echo.Context) error {
	fn, err := g.function(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, functionDetail{
		functionSummary: summarize(fn),
		Spec:            fn.Latest().Spec,
		Versions:        versionsOf(fn),
		Aliases:         aliasesOf(fn),
		CreatedAt:       fn.CreatedAt,
	})
}

func (g *Gateway) deleteFunction(c echo.Context) error {
	ns, name, err := target(c)
	if err != nil {
		return err
	}
	if err := g.registry.Delete(c.Request().Context(), ns, name); err != nil {
		return registryError(err, ns, name)
	}
	return c.NoContent(http.StatusNoContent)
}
