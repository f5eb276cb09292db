package async

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the async series.
type Metrics struct {
	accepted   *prometheus.CounterVec
	duplicates prometheus.Counter
	finished   *prometheus.CounterVec
}

// NewMetrics makes the async series and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_accepted_total",
			Help: "Async invocations durably queued.",
		}, []string{"namespace", "function"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_async_duplicates_total",
			Help: "Async submissions dropped as duplicates (same Idempotency-Key or cron tick).",
		}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_finished_total",
			Help: "Async invocations finished, by final status (succeeded or dead).",
		}, []string{"namespace", "function", "status"}),
	}
	reg.MustRegister(m.accepted, m.duplicates, m.finished)
	return m
}
