package gateway

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
)

// metrics are the gateway's Prometheus series, all named hearth_* and
// listed in docs/metrics.md; the async queue and the autoscaler register
// theirs on the same registry (own). /metrics serves registry: own and
// the process's other series (Deps.Metrics: NATS, S3, a local runner's).
//
// A call's series are looked up once per function and code and kept
// (fnSeries), so counting a call takes no allocation.
type metrics struct {
	registry       prometheus.Gatherer
	own            *prometheus.Registry
	calls          *prometheus.Registry // hearth_invocations_total alone, for OpenFaaS' invocation counts
	invocations    *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	queueWait      *prometheus.HistogramVec
	coldStarts     *prometheus.CounterVec
	initTime       *prometheus.HistogramVec
	decisions      *prometheus.CounterVec
	failovers      prometheus.Counter
	deploys        *prometheus.CounterVec
	deployWarms    *prometheus.CounterVec
	joinWarms      *prometheus.CounterVec
	recordsDropped prometheus.Counter
	authRefused    *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	auditErrors    prometheus.Counter
	logStreams     prometheus.Gauge

	byReason map[string]prometheus.Counter // decisions, made up front; read-only

	mu   sync.RWMutex
	byFn map[fnKey]*fnSeries
}

type fnKey struct{ namespace, function string }

// fnSeries are one function's series: the cold ones, and those of each
// status code it has answered with (copied on write, read without a lock).
type fnSeries struct {
	coldStarts prometheus.Counter
	initTime   prometheus.Observer
	mu         sync.Mutex // held to add a code
	codesPtr   atomic.Pointer[[]*codeSeries]
}

type codeSeries struct {
	code      int
	calls     [2]prometheus.Counter // by cold
	duration  prometheus.Observer
	queueWait prometheus.Observer
}

// Placement reasons beside the strategies' (scheduler.Decision.Reason):
// calls that found no runner with room, or none at all.
const (
	reasonOverloaded = "overloaded"
	reasonNoRunners  = "no_runners"
)

var decisionReasons = []string{"warm", "home", "p2c", "round-robin", "least-loaded", "any", reasonOverloaded, reasonNoRunners}

func newMetrics(more prometheus.Gatherer) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		own: reg,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_invocations_total",
			Help: "Invocations by function, HTTP status code and whether they started cold.",
		}, []string{"namespace", "function", "code", "cold"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_invocation_duration_seconds",
			Help:    "Time from the gateway receiving an invocation to its answer, by status code.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"namespace", "function", "code"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_invocation_queue_wait_seconds",
			Help:    "Time an invocation waited in the gateway for a runner with capacity, by status code.",
			Buckets: []float64{.00001, .0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"namespace", "function", "code"}),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_cold_starts_total",
			Help: "Invocations that had to fetch and compile their module first.",
		}, []string{"namespace", "function"}),
		initTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_init_duration_seconds",
			Help:    "Time spent fetching and compiling a module on a cold start.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"namespace", "function"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_scheduler_decisions_total",
			Help: "Placements by reason: warm, home, p2c, round-robin, least-loaded, any (no heartbeats yet), overloaded (no runner had room within the queue wait), no_runners.",
		}, []string{"reason"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_scheduler_failovers_total",
			Help: "Calls offered to another runner because the one chosen did not take them (gone or draining).",
		}),
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_deploys_total",
			Help: "Deploys by outcome.",
		}, []string{"outcome"}),
		deployWarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_deploy_warms_total",
			Help: "Warmings of a function version after a deploy or alias change, by outcome: warm, failed, no-runners, off (warm=false).",
		}, []string{"outcome"}),
		joinWarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runner_join_warms_total",
			Help: "Warmings on a runner that joined, of the active modules it is home for, before it takes calls, by outcome: warm, failed.",
		}, []string{"outcome"}),
		recordsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_records_dropped_total",
			Help: "Records of sync invocations not written because the writer fell behind.",
		}),
		authRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_auth_refused_total",
			Help: "Requests refused by the auth guard, by reason: unauthorized, forbidden, rate_limited (a key's limit).",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_function_rate_limited_total",
			Help: "Calls refused with 429 because the function's rate_limit was reached.",
		}, []string{"namespace", "function"}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_audit_errors_total",
			Help: "Audit entries that could not be written to the audit stream.",
		}),
		logStreams: newLogStreams(),
		byReason:   make(map[string]prometheus.Counter, len(decisionReasons)),
		byFn:       make(map[fnKey]*fnSeries),
	}
	for _, r := range decisionReasons {
		m.byReason[r] = m.decisions.WithLabelValues(r)
	}
	for _, outcome := range []string{"ok", "rejected"} {
		m.deploys.WithLabelValues(outcome)
	}
	for _, outcome := range []string{warmDone, warmFailed} {
		m.joinWarms.WithLabelValues(outcome)
	}
	for _, outcome := range []string{warmDone, warmFailed, warmNoRunners, warmOff} {
		m.deployWarms.WithLabelValues(outcome)
	}
	for _, reason := range []string{"unauthorized", "forbidden", "rate_limited"} {
		m.authRefused.WithLabelValues(reason)
	}
	reg.MustRegister(m.invocations, m.duration, m.queueWait, m.coldStarts, m.initTime, m.decisions, m.failovers,
		m.deploys, m.deployWarms, m.joinWarms, m.recordsDropped, m.authRefused, m.rateLimited, m.auditErrors, m.logStreams,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.calls = prometheus.NewRegistry()
	m.calls.MustRegister(m.invocations)
	m.registry = reg
	if more != nil {
		m.registry = prometheus.Gatherers{reg, more}
	}
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
		s = &fnSeries{coldStarts: m.coldStarts.WithLabelValues(ns, fn), initTime: m.initTime.WithLabelValues(ns, fn)}
		m.rateLimited.WithLabelValues(ns, fn) // listed at 0 beside the function's other series
		m.byFn[k] = s
	}
	return s
}

// code returns the function's series of a status code, made on first use.
func (m *metrics) code(s *fnSeries, ns, fn string, code int) *codeSeries {
	for _, c := range s.loadCodes() {
		if c.code == code {
			return c
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := s.loadCodes()
	for _, c := range codes {
		if c.code == code {
			return c
		}
	}
	text := strconv.Itoa(code)
	c := &codeSeries{
		code:      code,
		calls:     [2]prometheus.Counter{m.invocations.WithLabelValues(ns, fn, text, "false"), m.invocations.WithLabelValues(ns, fn, text, "true")},
		duration:  m.duration.WithLabelValues(ns, fn, text),
		queueWait: m.queueWait.WithLabelValues(ns, fn, text),
	}
	next := append(append(make([]*codeSeries, 0, len(codes)+1), codes...), c)
	s.storeCodes(next)
	return c
}

// count counts one finished execution.
func (m *metrics) count(inv *invocation.Invocation, out *invocation.Outcome) {
	s := m.series(inv.Namespace, inv.Function)
	c := m.code(s, inv.Namespace, inv.Function, out.Status)
	cold := out.Cold()
	if cold {
		c.calls[1].Inc()
		s.coldStarts.Inc()
		s.initTime.Observe(float64(out.Resp.InitMicros) / 1e6)
	} else {
		c.calls[0].Inc()
	}
	c.duration.Observe(out.Total.Seconds())
	c.queueWait.Observe(out.Waited.Seconds())
}

// placed counts a placement decision, or a placement that failed with err.
func (m *metrics) placed(reason string) {
	if c, ok := m.byReason[reason]; ok {
		c.Inc()
		return
	}
	m.decisions.WithLabelValues(reason).Inc() // a strategy added since
}

// schedulerCollector reports the scheduler's view of the runners, read
// from its table when scraped.
type schedulerCollector struct {
	sched                                *scheduler.Scheduler
	runners, capacity, inFlight, waiting *prometheus.Desc
	lost                                 *prometheus.Desc
}

func newSchedulerCollector(sched *scheduler.Scheduler) *schedulerCollector {
	return &schedulerCollector{
		sched:    sched,
		runners:  prometheus.NewDesc("hearth_scheduler_runners", "Runners in the gateway's table (live heartbeats), by state: ready or draining.", []string{"state"}, nil),
		capacity: prometheus.NewDesc("hearth_scheduler_capacity", "Calls the runners in the table run at once, in all.", nil, nil),
		inFlight: prometheus.NewDesc("hearth_scheduler_in_flight", "Calls in flight on the runners in the table, as the gateway counts them.", nil, nil),
		waiting:  prometheus.NewDesc("hearth_scheduler_waiting", "Calls of this gateway waiting for a runner with capacity.", nil, nil),
		lost:     prometheus.NewDesc("hearth_scheduler_runners_lost_total", "Runners dropped from the table, by reason: missed_heartbeats, or refused (a call was not taken).", []string{"reason"}, nil),
	}
}

func (c *schedulerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runners, c.capacity, c.inFlight, c.waiting, c.lost} {
		ch <- d
	}
}

func (c *schedulerCollector) Collect(ch chan<- prometheus.Metric) {
	table := c.sched.Table()
	states := map[string]int{"ready": 0, "draining": 0}
	capacity, inFlight := 0, 0
	for _, info := range table.Infos() {
		states[info.State]++
		capacity += info.Capacity
		inFlight += info.InFlight
	}
	for state, n := range states {
		ch <- prometheus.MustNewConstMetric(c.runners, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(capacity))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(inFlight))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(c.sched.Waiting()))
	missed, refused := table.Lost()
	ch <- prometheus.MustNewConstMetric(c.lost, prometheus.CounterValue, float64(missed), "missed_heartbeats")
	ch <- prometheus.MustNewConstMetric(c.lost, prometheus.CounterValue, float64(refused), "refused")
}

func (s *fnSeries) loadCodes() []*codeSeries {
	if p := s.codesPtr.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *fnSeries) storeCodes(codes []*codeSeries) { s.codesPtr.Store(&codes) }
