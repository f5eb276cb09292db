package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/registry"
)

// Error codes of the secrets routes.
const (
	codeSecretNotFound    apierr.Code = "secret_not_found"
	codeInvalidSecret     apierr.Code = "invalid_secret"
	codeSecretsNoKey      apierr.Code = "secrets_unavailable"
	codeSecretUnavailable apierr.Code = "secret_unavailable"
)

// secretBodyLimit bounds a PUT /v1/secrets body: a value of MaxValueBytes
// even if JSON escaped every byte (\u00XX), and the object around it.
const secretBodyLimit = 6*secrets.MaxValueBytes + 1024

// secretTarget is the namespace and secret name a request addresses.
func secretTarget(c echo.Context) (ns, name string, err error) {
	if ns, err = namespace(c); err != nil {
		return "", "", err
	}
	name = c.Param("name")
	if err := registry.ValidateName("secret", name); err != nil {
		return "", "", apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s", truncated(err.Error()))
	}
	return ns, name, nil
}

// putSecret answers PUT /v1/secrets/{name} {"value":"…"}: 201 when new,
// 200 when it replaced a value. The value is never answered or logged.
func (g *Gateway) putSecret(c echo.Context) error {
	ns, name, err := secretTarget(c)
	if err != nil {
		return err
	}
	var body struct {
		Value *string `json:"value"`
	}
	if err := decodeJSON(c, secretBodyLimit, `object {"value":"…"}`, codeInvalidSecret, &body); err != nil {
		return err
	}
	if body.Value == nil {
		return apierr.New(http.StatusBadRequest, codeInvalidSecret, `the body must be {"value":"…"}: value is missing`)
	}
	created, meta, err := g.secrets.Put(c.Request().Context(), ns, name, []byte(*body.Value))
	if err != nil {
		return secretError(err, ns, name)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/v1/secrets/"+name)
	}
	return c.JSON(status, meta)
}

// listSecrets answers GET /v1/secrets: names and dates, never values.
func (g *Gateway) listSecrets(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"secrets": g.secrets.List(ns)})
}

// getSecret answers GET /v1/secrets/{name}: the metadata.
func (g *Gateway) getSecret(c echo.Context) error {
	ns, name, err := secretTarget(c)
	if err != nil {
		return err
	}
	meta, ok := g.secrets.Get(ns, name)
	if !ok {
		return secretError(secrets.ErrNotFound, ns, name)
	}
	return c.JSON(http.StatusOK, meta)
}

// deleteSecret answers DELETE /v1/secrets/{name}. Functions granted it
// then fail with secret_unavailable until it is set again.
func (g *Gateway) deleteSecret(c echo.Context) error {
	ns, name, err := secretTarget(c)
	if err != nil {
		return err
	}
	if err := g.secrets.Delete(c.Request().Context(), ns, name); err != nil {
		return secretError(err, ns, name)
	}
	return c.NoContent(http.StatusNoContent)
}

// secretError maps the secrets package's errors; none carries a value.
func secretError(err error, ns, name string) error {
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &ve):
		return apierr.New(http.StatusBadRequest, apierr.Code(ve.Code), "%s", truncated(ve.Message))
	case errors.Is(err, secrets.ErrInvalidName):
		return apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s", truncated(err.Error()))
	case errors.Is(err, secrets.ErrEmpty):
		return apierr.New(http.StatusBadRequest, codeInvalidSecret, "%s", err.Error())
	case errors.Is(err, secrets.ErrTooLarge):
		return apierr.New(http.StatusRequestEntityTooLarge, apierr.PayloadTooLarge, "%s", err.Error())
	case errors.Is(err, secrets.ErrNotFound):
		return apierr.New(http.StatusNotFound, codeSecretNotFound, "no secret %q in namespace %q; list them with `hearth secret ls`", name, ns)
	case errors.Is(err, secrets.ErrNoKey):
		return apierr.New(http.StatusServiceUnavailable, codeSecretsNoKey, "%s", err.Error())
	}
	return err
}

// truncated shortens a message that quotes user input (a 300-character
// name) to a readable length.
func truncated(msg string) string {
	const max = 300
	if len(msg) <= max {
		return msg
	}
	return msg[:max] + "…"
}
