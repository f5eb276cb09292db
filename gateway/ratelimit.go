package gateway

import (
	"sync"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/registry"
)

// fnLimiters holds the token buckets of functions whose spec has a
// rate_limit, one per function on each gateway (docs/security.md: with N
// gateways behind a balancer a function gets up to N times its limit).
type fnLimiters struct {
	m sync.Map // namespace/name → *fnLimiter
}

type fnLimiter struct {
	mu    sync.Mutex
	limit registry.RateLimit // what the bucket was made for
	lim   *rate.Limiter
}

// limiter is the bucket for a function with limit rl, made or adjusted to
// the spec's current limit.
func (f *fnLimiters) limiter(ns, name string, rl *registry.RateLimit) *rate.Limiter {
	key := ns + "/" + name
	v, ok := f.m.Load(key)
	if !ok {
		v, _ = f.m.LoadOrStore(key, &fnLimiter{limit: *rl, lim: rate.NewLimiter(rate.Limit(rl.RPS), rl.Bucket())})
	}
	l := v.(*fnLimiter)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit != *rl { // a new version changed the limit: a fresh, full bucket
		l.limit = *rl
		l.lim = rate.NewLimiter(rate.Limit(rl.RPS), rl.Bucket())
	}
	return l.lim
}

// limitFunction refuses a call past its function's rate_limit with 429
// rate_limited and Retry-After.
func (g *Gateway) limitFunction(c echo.Context, ns, name string, rl *registry.RateLimit) error {
	if rl == nil {
		return nil
	}
	if err := auth.Limit(c, g.fnLimits.limiter(ns, name, rl), "function "+name); err != nil {
		g.metrics.rateLimited.WithLabelValues(ns, name).Inc()
		return err
	}
	return nil
}
