package autoscaler

import "github.com/prometheus/client_golang/prometheus"

// LeaderMetrics are the autoscaler's series: what it forecast, what came,
// and what it did about it. A gateway registers them whether or not it
// takes part in autoscaling, so its /metrics lists the same series either
// way.
type LeaderMetrics struct {
	prewarms      *prometheus.CounterVec
	runnersWanted prometheus.Gauge
	forecast      *prometheus.GaugeVec
	actual        *prometheus.GaugeVec
	coldAvoided   *prometheus.CounterVec
}

// NewLeaderMetrics makes the series and registers them on reg (nil: not
// registered).
func NewLeaderMetrics(reg prometheus.Registerer) *LeaderMetrics {
	m := &LeaderMetrics{
		prewarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_prewarms_total",
			Help: "Instances started ahead of demand by the autoscaler.",
		}, []string{"namespace", "function"}),
		runnersWanted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_runners_wanted",
			Help: "Runners the autoscaler last asked its scaler for.",
		}),
		forecast: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_forecast_warm",
			Help: "1 when the autoscaler's policy expects calls of the function this minute (it is kept warm), else 0.",
		}, []string{"namespace", "function"}),
		actual: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hearth_autoscaler_actual_invocations",
			Help: "Invocations of the function in the autoscaler's last closed minute (the actual beside the forecast).",
		}, []string{"namespace", "function"}),
		coldAvoided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_autoscaler_cold_starts_avoided_total",
			Help: "Minutes with invocations that the policy had forecast warm (prewarm hits).",
		}, []string{"namespace", "function"}),
	}
	if reg != nil {
		reg.MustRegister(m.prewarms, m.runnersWanted, m.forecast, m.actual, m.coldAvoided)
	}
	return m
}
