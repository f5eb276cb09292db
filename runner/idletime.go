package runner

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The runner's own account of the warm instances it holds without work:
// each pool sums, over its idle instances, the time each was idle
// (pool.idleNanos), updated under the pool's lock whenever the idle list
// changes, so that the sum is exact rather than sampled. It is exported as
// hearth_runner_idle_instance_seconds_total per function; the difference
// of two readings divided by the time between them is the mean number of
// idle instances meanwhile, and in instance-minutes it is the memory kept
// warm that the autoscaling benchmark calls wasted when no call came
// (hearth replay reads it back, internal/replay).

// accountIdleLocked adds the idle instances' time up to now; p.mu is held.
func (p *pool) accountIdleLocked(now time.Time) {
	if !p.idleAt.IsZero() && now.After(p.idleAt) {
		p.idleNanos += int64(len(p.idle)) * int64(now.Sub(p.idleAt))
	}
	if now.After(p.idleAt) {
		p.idleAt = now
	}
}

// idleSeconds is the idle instances' time summed over them, up to now.
func (p *pool) idleSeconds(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accountIdleLocked(now)
	return float64(p.idleNanos) / float64(time.Second)
}

// idleTime sums the pools' idle time per function, all versions.
func (e *Engine) idleTime(now time.Time) map[fnKey]float64 {
	out := map[fnKey]float64{}
	for _, p := range e.poolList() {
		out[fnKey{p.key.namespace, p.key.function}] += p.idleSeconds(now)
	}
	return out
}

// idleTimeCollector reports the engine's idle instance-seconds per
// function when scraped. Pools are never removed, so the sums only grow.
type idleTimeCollector struct {
	r    *Runner
	desc *prometheus.Desc
}

func newIdleTimeCollector(r *Runner, labels prometheus.Labels) *idleTimeCollector {
	return &idleTimeCollector{r: r, desc: prometheus.NewDesc("hearth_runner_idle_instance_seconds_total",
		"Time this runner held idle (warm, unused) reactor instances of a function, summed over the instances: one second per idle instance per second.",
		[]string{"namespace", "function"}, labels)}
}

func (c *idleTimeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *idleTimeCollector) Collect(ch chan<- prometheus.Metric) {
	for k, s := range c.r.engine.idleTime(time.Now()) {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, s, k.namespace, k.function)
	}
}
