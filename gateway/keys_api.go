package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/auth"
)

const (
	codeInvalidKey  apierr.Code = "invalid_key"
	codeKeyNotFound apierr.Code = "key_not_found"
	codeAuthOff     apierr.Code = "auth_disabled"
)

// newKeyResponse answers POST /v1/keys: the key's metadata and, this once,
// the key.
type newKeyResponse struct {
	auth.Key
	Token string `json:"key"`
}

// keysOn answers 409 when the gateway runs without auth: keys could be
// made but would not be checked, which would mislead.
func (g *Gateway) keysOn() error {
	if g.keys == nil {
		return apierr.New(http.StatusConflict, codeAuthOff, "this gateway runs without auth, so keys would not be checked; start it with --auth (hearth dev) or without --insecure-no-auth (hearth gateway)")
	}
	return nil
}

// createKey answers POST /v1/keys.
func (g *Gateway) createKey(c echo.Context) error {
	if err := g.keysOn(); err != nil {
		return err
	}
	var req auth.KeyRequest
	if err := decodeJSON(c, 16<<10, `key request {"name","scopes":[…],"namespace","rate_limit":{"rps","burst"}}`, codeInvalidKey, &req); err != nil {
		return err
	}
	key, token, err := g.keys.Create(c.Request().Context(), req, auth.From(c))
	var ie *auth.InputError
	switch {
	case errors.As(err, &ie):
		return apierr.New(http.StatusBadRequest, codeInvalidKey, "%s", ie.Msg)
	case errors.Is(err, auth.ErrNotCovered):
		return apierr.New(http.StatusForbidden, apierr.Forbidden, "%s", err.Error())
	case err != nil:
		return err
	}
	setAudit(c, key.Namespace, key.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/v1/keys/"+key.ID)
	return c.JSON(http.StatusCreated, newKeyResponse{Key: key, Token: token})
}

// listKeys answers GET /v1/keys: every key the caller may see, never a key
// itself.
func (g *Gateway) listKeys(c echo.Context) error {
	if err := g.keysOn(); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": g.keys.List(auth.From(c))})
}

// deleteKey answers DELETE /v1/keys/{id}: the key is refused on this
// gateway at once and on every other within moments (a KV watch).
func (g *Gateway) deleteKey(c echo.Context) error {
	if err := g.keysOn(); err != nil {
		return err
	}
	id := c.Param("id")
	if !auth.ValidID(id) {
		return apierr.New(http.StatusNotFound, codeKeyNotFound, "no key %q: key ids are 16 characters of a-z and 2-7; list them with `hearth key ls`", truncated(id))
	}
	key, err := g.keys.Delete(c.Request().Context(), id, auth.From(c))
	if errors.Is(err, auth.ErrNotFound) {
		return apierr.New(http.StatusNotFound, codeKeyNotFound, "no key %q; list them with `hearth key ls`", id)
	}
	if err != nil {
		return err
	}
	setAudit(c, key.Namespace, key.ID)
	return c.NoContent(http.StatusNoContent)
}
