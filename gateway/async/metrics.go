package async

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the async series (docs/metrics.md). The depths of the
// streams and the dispatchers' consumer are read from JetStream when
// scraped, once the queue is open.
type Metrics struct {
	accepted    *prometheus.CounterVec
	duplicates  prometheus.Counter
	finished    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	replays     *prometheus.CounterVec
	wait        *prometheus.HistogramVec
	streams     *streamCollector
}

// Reasons an async invocation is given back to its stream.
const (
	retryFailed     = "failed"      // the attempt failed and another may succeed
	retryNoCapacity = "no_capacity" // no runner had room (or none is up): it did not run
)

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
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_retries_total",
			Help: "Async invocations given back to the queue for a later attempt, by reason: failed (the attempt failed) or no_capacity (no runner had room; no attempt used).",
		}, []string{"namespace", "function", "reason"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_dead_letters_total",
			Help: "Async invocations moved to the dead-letter queue (out of attempts, or not worth retrying).",
		}, []string{"namespace", "function"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_async_replays_total",
			Help: "Dead letters queued again by a replay.",
		}, []string{"namespace", "function"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_async_queue_wait_seconds",
			Help:    "Time from an async invocation being queued to the start of its first attempt.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"namespace", "function"}),
		streams: newStreamCollector(),
	}
	reg.MustRegister(m.accepted, m.duplicates, m.finished, m.retries, m.deadLetters, m.replays, m.wait, m.streams)
	return m
}

// streamCollector reads the async streams' and the dispatchers'
// consumer's state from JetStream when scraped.
type streamCollector struct {
	queue                       atomic.Pointer[Queue]
	depth, dlq, lag, ackPending *prometheus.Desc
	redelivered, errors         *prometheus.Desc
	failed                      atomic.Uint64
}

func newStreamCollector() *streamCollector {
	return &streamCollector{
		depth:       prometheus.NewDesc("hearth_async_queue_depth", "Async invocations in the HEARTH_ASYNC stream: queued, running or waiting for a retry.", nil, nil),
		dlq:         prometheus.NewDesc("hearth_async_dlq_depth", "Dead letters in the HEARTH_DLQ stream.", nil, nil),
		lag:         prometheus.NewDesc("hearth_async_consumer_lag", "Async invocations the dispatchers' JetStream consumer has not delivered yet (num_pending).", nil, nil),
		ackPending:  prometheus.NewDesc("hearth_async_consumer_ack_pending", "Async invocations delivered to a dispatcher and not yet settled: running or waiting for a retry.", nil, nil),
		redelivered: prometheus.NewDesc("hearth_async_consumer_redelivered", "Async invocations delivered more than once and not yet settled.", nil, nil),
		errors:      prometheus.NewDesc("hearth_async_stats_errors_total", "Scrapes that could not read the async streams' state from JetStream.", nil, nil),
	}
}

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.dlq, c.lag, c.ackPending, c.redelivered, c.errors} {
		ch <- d
	}
}

// statsTimeout bounds the JetStream requests of one scrape.
const statsTimeout = 2 * time.Second

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(c.failed.Load()))
	}()
	q := c.queue.Load()
	if q == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	if info, err := q.async.Info(ctx); err == nil {
		gauge(c.depth, info.State.Msgs)
	} else {
		c.failed.Add(1)
	}
	if info, err := q.dlq.Info(ctx); err == nil {
		gauge(c.dlq, info.State.Msgs)
	} else {
		c.failed.Add(1)
	}
	cons, err := q.async.Consumer(ctx, DispatcherConsumer)
	if err != nil {
		if !errors.Is(err, jetstream.ErrConsumerNotFound) { // no dispatcher has started yet
			c.failed.Add(1)
		}
		return
	}
	info, err := cons.Info(ctx)
	if err != nil {
		c.failed.Add(1)
		return
	}
	gauge(c.lag, info.NumPending)
	gauge(c.ackPending, uint64(info.NumAckPending))
	gauge(c.redelivered, uint64(info.NumRedelivered))
}
