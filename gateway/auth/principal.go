package auth

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/hearthfn/hearth/gateway/apierr"
)

// Principal is who a request acts as: the key it carries.
type Principal struct {
	KeyID     string
	Namespace string // a namespace, or AllNamespaces
	set       scopeSet
	limiter   *rate.Limiter // nil: no rate limit
}

// Scopes lists the principal's scopes.
func (p *Principal) Scopes() []Scope { return p.set.scopes() }

// Meets reports whether the principal's scopes meet n.
func (p *Principal) Meets(n Need) bool { return n.Open() || p.set&n.any != 0 }

// Covers reports whether the principal may act in namespace ns.
func (p *Principal) Covers(ns string) bool {
	return p.Namespace == AllNamespaces || p.Namespace == ns
}

// contextKey is where the middleware leaves the principal in an echo
// context.
const contextKey = "hearth.principal"

// From returns the principal of a request, or nil when auth is off (or
// the route is open).
func From(c echo.Context) *Principal {
	p, _ := c.Get(contextKey).(*Principal)
	return p
}

// KeyID is the id of the key a request carries, "" without one.
func KeyID(c echo.Context) string {
	if p := From(c); p != nil {
		return p.KeyID
	}
	return ""
}

// CheckNamespace refuses (403) a request whose key does not cover ns: for
// the routes whose namespace is that of the object they address (an
// invocation by id), known only once the handler has found it.
func CheckNamespace(c echo.Context, ns string) error {
	p := From(c)
	if p == nil || p.Covers(ns) {
		return nil
	}
	return forbiddenNamespace(p, ns)
}

func forbiddenNamespace(p *Principal, ns string) error {
	return apierr.New(http.StatusForbidden, apierr.Forbidden, "the key %s is bound to namespace %q and cannot act in namespace %q", p.KeyID, p.Namespace, ns)
}

// Limit takes a token from lim for a request; when there is none it
// refuses with 429 rate_limited and Retry-After (whole seconds, at least
// 1) and takes nothing. what says whose limit it is, for the message.
func Limit(c echo.Context, lim *rate.Limiter, what string) error {
	now := time.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return rateLimited(c, time.Second, what)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return rateLimited(c, d, what)
	}
	return nil
}

func rateLimited(c echo.Context, wait time.Duration, what string) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return apierr.New(http.StatusTooManyRequests, apierr.RateLimited, "%s is past its rate limit; retry after %d s", what, secs)
}
