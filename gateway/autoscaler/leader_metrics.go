package autoscaler

import "github.com/prometheus/client_golang/prometheus"

// LeaderMetrics are the autoscaler's series: what it forecast, what came,
// and what it did about it (docs/metrics.md). A gateway registers them
// whether or not it takes part in autoscaling, so its /metrics lists the
// same series either way. The per-function gauges are set by the gateway
// holding the lease, and cleared by one that loses it.
type LeaderMetrics struct {
	prewarms       *prometheus.CounterVec
	retires        *prometheus.CounterVec
	commandErrors  *prometheus.CounterVec
	runnersWanted  prometheus.Gauge
	forecastCalls  prometheus.Gauge
	forecastMemory prometheus.Gauge
	leader         prometheus.Gauge
	forecast       *prometheus.GaugeVec
	actual         *prometheus.GaugeVec
	coldAvoided    *prometheus.CounterVec
	forecastMissed *prometheus.CounterVec
	forecastIdle   *prometheus.CounterVec
	desired        *prometheus.GaugeVec
	concurrency    *prometheus.GaugeVec
	minute         prometheus.Gauge
	minuteSeconds  *prometheus.GaugeVec
}

// NewLeaderMetrics makes the series and registers them on reg (nil: not
// registered).
func NewLeaderMetrics(reg prometheus.Registerer) *LeaderMetrics {
	fn := []string{"namespace", "function"}
	m := &LeaderMetrics{
		prewarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_prewarms_total",
			Help: "Instances started ahead of demand by the autoscaler.",
		}, fn),
		retires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_retires_total",
			Help: "Idle instances the autoscaler had runners close when a function's forecast turned cold.",
		}, fn),
		commandErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_command_errors_total",
			Help: "Prewarm and retire commands to runners that failed, by op.",
		}, []string{"op"}),
		runnersWanted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_runners_wanted",
			Help: "Runners the autoscaler last asked its scaler for.",
		}),
		forecastCalls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_forecast_concurrency",
			Help: "Calls in flight at once that runners are sized for: those running and the peak concurrency of functions the policy expects within a minute.",
		}),
		forecastMemory: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_forecast_memory_bytes",
			Help: "Memory of the instances that runners are sized for: one per call at once, one per function kept warm.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_leader",
			Help: "1 while this gateway holds the autoscaler's lease (runs the controller), else 0.",
		}),
		forecast: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_forecast_warm",
			Help: "1 when the autoscaler's policy expects calls of the function this minute (it is kept warm), else 0.",
		}, fn),
		actual: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_actual_invocations",
			Help: "Invocations of the function in the autoscaler's last closed minute (the actual beside the forecast).",
		}, fn),
		coldAvoided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_cold_starts_avoided_total",
			Help: "Minutes with invocations that the policy had forecast warm (prewarm hits).",
		}, fn),
		forecastMissed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_forecast_misses_total",
			Help: "Minutes with invocations that the policy had forecast cold (the calls could start cold).",
		}, fn),
		forecastIdle: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_forecast_idle_total",
			Help: "Minutes the policy had forecast warm that had no invocation (an instance kept warm for nothing).",
		}, fn),
		desired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_desired_instances",
			Help: "Instances of the function the reactive layer (KPA) wants now, from the concurrency it saw.",
		}, fn),
		concurrency: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_concurrency",
			Help: "Calls of the function in flight on all gateways at the autoscaler's last report (the actual beside desired_instances).",
		}, fn),
		minute: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_minute",
			Help: "The controller's minute in progress, counted from 1 when its history began (the t of the policy's Warm(t)); set by the leader, 0 elsewhere.",
		}),
		minuteSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_minute_seconds",
			Help: "The length of the policy's minute (--autoscale-minute) on a gateway that takes part in autoscaling, labelled with its policy; minutes begin at multiples of it since the Unix epoch.",
		}, []string{"policy"}),
	}
	for _, op := range []string{"prewarm", "retire"} {
		m.commandErrors.WithLabelValues(op)
	}
	if reg != nil {
		reg.MustRegister(m.prewarms, m.retires, m.commandErrors, m.runnersWanted, m.forecastCalls, m.forecastMemory, m.leader, m.forecast, m.actual,
			m.coldAvoided, m.forecastMissed, m.forecastIdle, m.desired, m.concurrency, m.minute, m.minuteSeconds)
	}
	return m
}

// lostLease clears what only the leader knows.
func (m *LeaderMetrics) lostLease() {
	m.leader.Set(0)
	m.minute.Set(0)
	m.forecast.Reset()
	m.actual.Reset()
	m.desired.Reset()
	m.concurrency.Reset()
	m.forecastCalls.Set(0)
	m.forecastMemory.Set(0)
}

// touch makes the counters of a function the controller follows, at 0
// until something happens, so that rates and alerts see them.
func (m *LeaderMetrics) touch(ns, fn string) {
	for _, c := range []*prometheus.CounterVec{m.prewarms, m.retires, m.coldAvoided, m.forecastMissed, m.forecastIdle} {
		c.WithLabelValues(ns, fn)
	}
}
