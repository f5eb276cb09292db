package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/audit"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/registry"
)

// Where a handler leaves what the audit entry of its change names, when
// the route does not say it (a new key's id and namespace).
const (
	auditNamespaceKey = "hearth.audit.namespace"
	auditTargetKey    = "hearth.audit.target"
	auditSkipKey      = "hearth.audit.skip" // a dry run changed nothing
)

func setAudit(c echo.Context, ns, target string) {
	c.Set(auditNamespaceKey, ns)
	c.Set(auditTargetKey, target)
}

// auditChanges appends an entry to the audit log for every request to a
// route that changes something (route.action), after it was answered or
// refused: who (the key id), what (action, namespace, target), when, and
// the outcome — success, denied (401, 403) or failed. It runs outside the
// auth guard, so refused attempts are recorded too. A failed append is
// logged and counted; it does not undo the change.
func (g *Gateway) auditChanges(find func(echo.Context) (route, bool)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, ok := find(c)
			if !ok || r.action == "" {
				return next(c)
			}
			err := next(c)
			if c.Get(auditSkipKey) != nil {
				return err
			}
			e := audit.Entry{
				Time: time.Now().UTC(), KeyID: auth.KeyID(c), Action: r.action,
				Outcome: outcomeOf(statusOf(c, err)),
			}
			e.Namespace, _ = c.Get(auditNamespaceKey).(string)
			if e.Namespace == "" {
				e.Namespace, _ = namespace(c) // "" when it is not a valid name
			}
			e.Target, _ = c.Get(auditTargetKey).(string)
			if e.Target == "" {
				e.Target = auditTarget(c, r.action)
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
			defer cancel()
			if aerr := g.audit.Append(ctx, e); aerr != nil {
				g.metrics.auditErrors.Inc()
				g.log.Error("audit entry not written", "action", e.Action, "namespace", e.Namespace, "target", e.Target, "outcome", e.Outcome, "error", aerr)
			}
			return err
		}
	}
}

// auditTarget names what a change addresses, from the route's parameters.
func auditTarget(c echo.Context, action string) string {
	name := c.Param("name")
	if registry.ValidateName("name", name) != nil {
		name = "" // not a valid name: do not copy arbitrary input into the log
	}
	switch action {
	case audit.AliasSet, audit.AliasDelete:
		if a := c.Param("alias"); registry.ValidateName("alias", a) == nil {
			return name + ":" + a
		}
	case audit.TriggerDelete:
		if n, err := strconv.Atoi(c.Param("n")); err == nil {
			return name + "/triggers/" + strconv.Itoa(n)
		}
	case audit.KeyDelete:
		if id := c.Param("id"); auth.ValidID(id) {
			return id
		}
		return ""
	case audit.KeyCreate:
		return ""
	case audit.DLQReplay:
		if id := c.Param("id"); records.ValidID(id) {
			return id
		}
		return ""
	}
	return name
}

// statusOf is the status a request was, or will be, answered with.
func statusOf(c echo.Context, err error) int {
	if err == nil {
		return c.Response().Status
	}
	var ae *apierr.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae.Status
	case errors.As(err, &he):
		return he.Code
	}
	return http.StatusInternalServerError
}

func outcomeOf(status int) string {
	switch {
	case status < 400:
		return audit.Success
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return audit.Denied // no key, not this key, or past the key's rate limit
	}
	return audit.Failed
}

// replayNamespace records the namespace of a replayed dead letter, known
// only once it is read, for its audit entry.
func replayNamespace(c echo.Context, ns string) { c.Set(auditNamespaceKey, ns) }

// listAudit answers GET /v1/audit?limit=N&action=A&namespace=NS: entries
// newest first. A key bound to one namespace sees only that namespace's.
func (g *Gateway) listAudit(c echo.Context) error {
	q := audit.Query{Action: c.QueryParam("action"), Namespace: c.QueryParam("namespace")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > audit.MaxLimit {
			return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "limit must be a number from 1 to %d, not %q", audit.MaxLimit, truncated(s))
		}
		q.Limit = n
	}
	if q.Action != "" && !audit.ValidAction(q.Action) {
		return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "action %q is not an audited action (function.deploy, function.delete, alias.set, alias.delete, trigger.add, trigger.delete, secret.put, secret.delete, key.create, key.delete, dlq.replay)", truncated(q.Action))
	}
	if q.Namespace != "" && q.Namespace != auth.AllNamespaces {
		if err := registry.ValidateName("namespace", q.Namespace); err != nil {
			return apierr.New(http.StatusBadRequest, registry.CodeInvalidName, "%s", truncated(err.Error()))
		}
	}
	if p := auth.From(c); p != nil && p.Namespace != auth.AllNamespaces {
		if q.Namespace != "" && q.Namespace != p.Namespace {
			return apierr.New(http.StatusForbidden, apierr.Forbidden, "the key %s is bound to namespace %q and cannot read the audit log of %q", p.KeyID, p.Namespace, q.Namespace)
		}
		q.Namespace = p.Namespace
	}
	entries, err := g.audit.List(c.Request().Context(), q)
	if errors.Is(err, audit.ErrInvalid) {
		return apierr.New(http.StatusBadRequest, apierr.InvalidParameter, "%s", err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}
