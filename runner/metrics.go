package runner

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearthfn/hearth/internal/wire"
)

// metrics are a runner's Prometheus series, named hearth_runner_* and
// labelled with the runner's id, on a registry of the runner's own
// (Runner.Metrics): served on its own listener by the runner role
// (Config.MetricsListen), and beside the gateway's by a gateway in the
// same process. Gauges are read when scraped; the counters of one call
// are looked up once per function and kept (series), so a call adds to
// them without allocating.
type metrics struct {
	registry *prometheus.Registry

	invocations *prometheus.CounterVec
	run         *prometheus.HistogramVec
	prewarmed   *prometheus.CounterVec
	retired     *prometheus.CounterVec
	natsErrors  *prometheus.CounterVec

	mu    sync.RWMutex
	byFn  map[fnKey]*fnSeries
	retir map[string]prometheus.Counter // by reason
}

type fnKey struct{ namespace, function string }

// fnSeries are one function's series; codes are made on first use.
type fnSeries struct {
	run   prometheus.Observer
	ok    [2]prometheus.Counter // by cold
	mu    sync.Mutex
	codes map[string]*[2]prometheus.Counter // error code → by cold
}

// Reasons an instance is retired.
const (
	retireIdle       = "idle"       // unused for IdleTTL
	retireAutoscaler = "autoscaler" // the autoscaler's retire command
)

func newMetrics(r *Runner) *metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"runner": r.cfg.ID}
	m := &metrics{
		registry: reg,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runner_invocations_total", ConstLabels: labels,
			Help: "Invocations this runner ran, by function, outcome code (ok or the runner's error code) and whether they started cold.",
		}, []string{"namespace", "function", "code", "cold"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hearth_runner_run_duration_seconds", ConstLabels: labels,
			Help:    "Time a function ran on this runner, without fetching and compiling its module.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"namespace", "function"}),
		prewarmed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runner_prewarmed_instances_total", ConstLabels: labels,
			Help: "Instances this runner started ahead of calls, at the autoscaler's command.",
		}, []string{"namespace", "function"}),
		retired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runner_retired_instances_total", ConstLabels: labels,
			Help: "Idle instances this runner closed, by reason: idle (unused for the idle TTL) or autoscaler (its retire command).",
		}, []string{"reason"}),
		natsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runner_nats_errors_total", ConstLabels: labels,
			Help: "Messages this runner could not send on NATS, by what they were: reply (an invocation's answer) or heartbeat.",
		}, []string{"op"}),
		byFn:  make(map[fnKey]*fnSeries),
		retir: make(map[string]prometheus.Counter),
	}
	for _, reason := range []string{retireIdle, retireAutoscaler} {
		m.retir[reason] = m.retired.WithLabelValues(reason)
	}
	for _, op := range []string{"reply", "heartbeat"} {
		m.natsErrors.WithLabelValues(op)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f)
	}
	reg.MustRegister(m.invocations, m.run, m.prewarmed, m.retired, m.natsErrors,
		gauge("hearth_runner_in_flight", "Invocations running on this runner now.", func() float64 {
			n, _ := r.inFlight()
			return float64(n)
		}),
		gauge("hearth_runner_capacity", "Invocations this runner runs at once (its concurrency).", func() float64 {
			return float64(r.cfg.Concurrency)
		}),
		gauge("hearth_runner_memory_bytes", "Linear memory held by this runner's idle warm instances.", func() float64 {
			_, mem := r.engine.Warm()
			return float64(mem)
		}),
		gauge("hearth_runner_modules", "Modules compiled and loaded on this runner (one per module and memory class).", func() float64 {
			warm, _ := r.engine.Warm()
			return float64(len(warm))
		}),
		gauge("hearth_runner_draining", "1 while this runner is draining (stopping: it takes no new work), else 0.", func() float64 {
			if r.draining.Load() {
				return 1
			}
			return 0
		}),
		&instancesCollector{r: r, desc: prometheus.NewDesc("hearth_runner_instances",
			"Reactor instances of a function on this runner, by state: idle (warm, ready for a call) or busy.",
			[]string{"namespace", "function", "state"}, labels)},
		newIdleTimeCollector(r, labels), // idletime.go
	)
	return m
}

// series returns the function's series, made on its first call.
func (m *metrics) series(ns, fn string) *fnSeries {
	k := fnKey{ns, fn}
	m.mu.RLock()
	s := m.byFn[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.byFn[k]; s == nil {
		s = &fnSeries{
			run: m.run.WithLabelValues(ns, fn),
			ok:  [2]prometheus.Counter{m.invocations.WithLabelValues(ns, fn, "ok", "false"), m.invocations.WithLabelValues(ns, fn, "ok", "true")},
		}
		m.prewarmed.WithLabelValues(ns, fn) // listed at 0 beside the function's other series
		m.byFn[k] = s
	}
	return s
}

// count counts one call's result.
func (m *metrics) count(req *wire.Request, res *Result) {
	s := m.series(req.Namespace, req.Function)
	cold := 0
	if res.Cold {
		cold = 1
	}
	if res.Err == nil {
		s.ok[cold].Inc()
		s.run.Observe(res.Run.Seconds())
		return
	}
	s.mu.Lock()
	c := s.codes[res.Err.Code]
	if c == nil {
		if s.codes == nil {
			s.codes = make(map[string]*[2]prometheus.Counter)
		}
		c = &[2]prometheus.Counter{
			m.invocations.WithLabelValues(req.Namespace, req.Function, res.Err.Code, "false"),
			m.invocations.WithLabelValues(req.Namespace, req.Function, res.Err.Code, "true"),
		}
		s.codes[res.Err.Code] = c
	}
	s.mu.Unlock()
	c[cold].Inc()
	if res.Run > 0 {
		s.run.Observe(res.Run.Seconds())
	}
}

func (m *metrics) retiredInstances(reason string, n int) {
	if n > 0 {
		m.retir[reason].Add(float64(n))
	}
}

// instancesCollector reports the engine's instances per function when
// scraped.
type instancesCollector struct {
	r    *Runner
	desc *prometheus.Desc
}

func (c *instancesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *instancesCollector) Collect(ch chan<- prometheus.Metric) {
	for _, fi := range c.r.engine.instances() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(fi.idle), fi.namespace, fi.function, "idle")
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(fi.busy), fi.namespace, fi.function, "busy")
	}
}
