package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hearthfn/hearth/gateway/invocation"
)

// metrics are the gateway's Prometheus series, all named hearth_*; the
// async queue and the autoscaler register theirs on the same registry.
type metrics struct {
	registry       *prometheus.Registry
	invocations    *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	coldStarts     *prometheus.CounterVec
	initTime       *prometheus.HistogramVec
	deploys        *prometheus.CounterVec
	recordsDropped prometheus.Counter
	authRefused    *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	auditErrors    prometheus.Counter
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_invocations_total",
			Help: "Invocations by function, HTTP status code and whether they started cold.",
		}, []string{"namespace", "function", "code", "cold"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_invocation_duration_seconds",
			Help:    "Time from the gateway receiving an invocation to its answer.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"namespace", "function"}),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_cold_starts_total",
			Help: "Invocations that had to fetch and compile their module first.",
		}, []string{"namespace", "function"}),
		initTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_init_duration_seconds",
			Help:    "Time spent fetching and compiling a module on a cold start.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"namespace", "function"}),
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_deploys_total",
			Help: "Deploys by outcome.",
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
	}
	reg.MustRegister(m.invocations, m.duration, m.coldStarts, m.initTime, m.deploys, m.recordsDropped, m.authRefused, m.rateLimited, m.auditErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// count counts one finished execution.
func (m *metrics) count(inv *invocation.Invocation, out *invocation.Outcome) {
	cold := out.Cold()
	m.invocations.WithLabelValues(inv.Namespace, inv.Function, strconv.Itoa(out.Status), strconv.FormatBool(cold)).Inc()
	m.duration.WithLabelValues(inv.Namespace, inv.Function).Observe(time.Since(inv.Start).Seconds())
	if cold {
		m.coldStarts.WithLabelValues(inv.Namespace, inv.Function).Inc()
		m.initTime.WithLabelValues(inv.Namespace, inv.Function).Observe(float64(out.Resp.InitMicros) / 1e6)
	}
}
