package auth

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
)

// Where the namespace a route acts in comes from.
type Where uint8

const (
	// InRequest: ?namespace= or the Hearth-Namespace header (default
	// "default"): functions, their versions, aliases, triggers, secrets.
	InRequest Where = iota
	// InObject: the namespace of what the route addresses (an invocation
	// or a dead letter by id, a key); the handler checks it with
	// CheckNamespace once it has the object, or filters by the principal.
	InObject
	// Cluster: the route shows every namespace (the runner table,
	// /metrics): only a key of every namespace may use it.
	Cluster
)

// Rule is what a route asks of the key a request carries.
type Rule struct {
	Need  Need
	Where Where
	// Remember keeps the principal in the request's context for what runs
	// after the guard (the audit log of a change). InObject routes always
	// keep it; on the others it is left out, as setting it costs an
	// allocation on every call.
	Remember bool
}

// Guard is the middleware that checks every request before its handler.
type Guard struct {
	// Keys authenticates; nil turns auth off (hearth dev without --auth,
	// --insecure-no-auth): every request passes.
	Keys *Keys
	// Rule finds the rule of the route a request matched; false for a
	// request that matched no route (it goes on to the 404).
	Rule func(c echo.Context) (Rule, bool)
	// Namespace reads the namespace a request addresses (InRequest),
	// answering 400 for an invalid one.
	Namespace func(c echo.Context) (string, error)
	// Refused, when set, counts refusals by reason (unauthorized,
	// forbidden, rate_limited).
	Refused func(reason string)
}

// Middleware checks, in order: the key (401 unauthorized without a valid
// one), its rate limit (429 rate_limited), its scopes (403 forbidden) and
// its namespace (403 forbidden). A refused request reaches no handler, so
// it changes nothing and is passed to no function.
func (g *Guard) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if g.Keys == nil {
			return next(c)
		}
		rule, ok := g.Rule(c)
		if !ok || rule.Need.Open() {
			return next(c)
		}
		p, err := g.Keys.Authenticate(c.Request().Header.Get(echo.HeaderAuthorization))
		if err != nil {
			g.refused("unauthorized")
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="hearth"`)
			return apierr.New(http.StatusUnauthorized, apierr.Unauthorized, "%s", unauthorizedMessage(err))
		}
		if rule.Remember || rule.Where == InObject {
			c.Set(contextKey, p)
		}
		if p.limiter != nil {
			if err := Limit(c, p.limiter, "the key "+p.KeyID); err != nil {
				g.refused("rate_limited")
				return err
			}
		}
		if !p.Meets(rule.Need) {
			g.refused("forbidden")
			return apierr.New(http.StatusForbidden, apierr.Forbidden, "the key %s has scopes %s; %s %s needs %s",
				p.KeyID, joinScopes(p.set.scopes()), c.Request().Method, c.Path(), rule.Need)
		}
		switch rule.Where {
		case InRequest:
			ns, err := g.Namespace(c)
			if err != nil {
				return err
			}
			if !p.Covers(ns) {
				g.refused("forbidden")
				return forbiddenNamespace(p, ns)
			}
		case Cluster:
			if p.Namespace != AllNamespaces {
				g.refused("forbidden")
				return apierr.New(http.StatusForbidden, apierr.Forbidden, "%s shows every namespace; the key %s is bound to namespace %q (use a key of namespace \"*\")", c.Path(), p.KeyID, p.Namespace)
			}
		}
		return next(c)
	}
}

func (g *Guard) refused(reason string) {
	if g.Refused != nil {
		g.Refused(reason)
	}
}

func unauthorizedMessage(err error) string {
	switch {
	case errors.Is(err, ErrNoCredentials):
		return err.Error()
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrNotAKey), errors.Is(err, ErrUnknownKey):
		return err.Error() + "; create keys with `hearth key create` (hearth dev --auth writes its admin key to DATA/admin.key)"
	}
	return "the API key was not accepted"
}
