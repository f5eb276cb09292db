package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the gateway's Prometheus series, all named hearth_*.
type metrics struct {
	registry    *prometheus.Registry
	invocations *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	coldStarts  *prometheus.CounterVec
	initTime    *prometheus.HistogramVec
	deploys     *prometheus.CounterVec

	asyncAccepted   *prometheus.CounterVec
	asyncDuplicates prometheus.Counter
	asyncDone       *prometheus.CounterVec
	recordsDropped  prometheus.Counter
	prewarms        *prometheus.CounterVec
	runnersWanted   prometheus.Gauge
	forecast        *prometheus.GaugeVec
	actual          *prometheus.GaugeVec
	coldAvoided     *prometheus.CounterVec
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
		asyncAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_accepted_total",
			Help: "Async invocations durably queued.",
		}, []string{"namespace", "function"}),
		asyncDuplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_async_duplicates_total",
			Help: "Async submissions dropped as duplicates (same Idempotency-Key or cron tick).",
		}),
		asyncDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_finished_total",
			Help: "Async invocations finished, by final status (succeeded or dead).",
		}, []string{"namespace", "function", "status"}),
		recordsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_records_dropped_total",
			Help: "Records of sync invocations not written because the writer fell behind.",
		}),
	}
	m.prewarms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hearth_autoscaler_prewarms_total",
		Help: "Instances started ahead of demand by the autoscaler.",
	}, []string{"namespace", "function"})
	m.runnersWanted = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hearth_autoscaler_runners_wanted",
		Help: "Runners the autoscaler last asked its provider for.",
	})
	m.forecast = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hearth_autoscaler_forecast_warm",
		Help: "1 when the autoscaler's policy expects calls of the function this minute (it is kept warm), else 0.",
	}, []string{"namespace", "function"})
	m.actual = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hearth_autoscaler_actual_invocations",
		Help: "Invocations of the function in the autoscaler's last closed minute (the actual beside the forecast).",
	}, []string{"namespace", "function"})
	m.coldAvoided = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hearth_autoscaler_cold_starts_avoided_total",
		Help: "Minutes with invocations that the policy had forecast warm (prewarm hits).",
	}, []string{"namespace", "function"})
	reg.MustRegister(m.asyncAccepted, m.asyncDuplicates, m.asyncDone, m.recordsDropped, m.prewarms, m.runnersWanted,
		m.forecast, m.actual, m.coldAvoided)
	reg.MustRegister(m.invocations, m.duration, m.coldStarts, m.initTime, m.deploys,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
