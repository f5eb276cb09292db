package gateway

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
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
		return apierr.New(http.StatusRequestEntityTooLarge, apierr.PayloadTooLarge,
			"the request body is %d bytes; %s accepts at most %d (max_payload in its spec)", req.ContentLength, name, limit)
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, int64(limit))
	return nil
}

// namespace is the namespace a request addresses: ?namespace=, the
// Hearth-Namespace header, or "default".
func namespace(c echo.Context) (string, error) {
	ns := c.QueryParam("namespace")
	if ns == "" {
		ns = c.Request().Header.Get(headerNamespace)
	}
	if ns == "" {
		return registry.DefaultNamespace, nil
	}
	if err := registry.ValidateName("namespace", ns); err != nil {
		return "", apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s", err.Error())
	}
	return ns, nil
}

// target is the namespace and function name a request addresses.
func target(c echo.Context) (ns, name string, err error) {
	if ns, err = namespace(c); err != nil {
		return "", "", err
	}
	name = c.Param("name")
	if err := registry.ValidateName("function name", name); err != nil {
		return "", "", apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s", err.Error())
	}
	return ns, name, nil
}
