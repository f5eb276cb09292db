package objstore

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations as the metrics label them.
const (
	opPut    = "put"
	opGet    = "get"
	opStat   = "stat"
	opDelete = "delete"
	opList   = "list"
	opBucket = "bucket" // EnsureBucket, Ping
)

var ops = []string{opPut, opGet, opStat, opDelete, opList, opBucket}

// Metrics count a process's requests to the object store: every request
// by operation, the ones that failed (a missing object is an answer, not
// a failure) and how long they took.
type Metrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	byOp     map[string]opSeries
}

type opSeries struct {
	requests, errors prometheus.Counter
	duration         prometheus.Observer
}

// NewMetrics makes the series and registers them on reg. Every operation
// is listed at 0 from the start, so that rates and alerts see it before
// its first failure.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_s3_requests_total",
			Help: "Requests to the object store by operation (put, get, stat, delete, list, bucket).",
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_s3_errors_total",
			Help: "Requests to the object store that failed, by operation; a missing object is not a failure.",
		}, []string{"op"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_s3_request_duration_seconds",
			Help:    "Time of one request to the object store, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
		byOp: make(map[string]opSeries, len(ops)),
	}
	for _, op := range ops {
		m.byOp[op] = opSeries{m.requests.WithLabelValues(op), m.errors.WithLabelValues(op), m.duration.WithLabelValues(op)}
	}
	reg.MustRegister(m.requests, m.errors, m.duration)
	return m
}

// observe counts one request of op that started at start and ended with
// *err, as the Store returns it (ErrNotFound is not a failure). Deferred
// with a pointer to the method's named error, it sees the final one.
func (m *Metrics) observe(op string, start time.Time, err *error) {
	if m == nil {
		return
	}
	s := m.byOp[op]
	s.requests.Inc()
	s.duration.Observe(time.Since(start).Seconds())
	if *err != nil && !errors.Is(*err, ErrNotFound) {
		s.errors.Inc()
	}
}
