package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearthfn/hearth/internal/objstore"
)

// The process's platform series (docs/metrics.md): its NATS connection and
// its requests to the object store. They live on the stack's registry
// (Stack.Metrics), apart from the roles' own, and every role of the
// process serves them: the gateway beside its series on /metrics, the
// runner on its metrics listener. The registries share no name, so in
// `hearth dev`, where one /metrics serves them all, nothing collides; Go's
// and the process's series are registered once per endpoint.

// natsMetrics count what happens to the stack's NATS connection.
type natsMetrics struct {
	disconnects prometheus.Counter
	reconnects  prometheus.Counter
	errors      *prometheus.CounterVec
}

// NATS error kinds as hearth_nats_errors_total labels them.
const (
	natsSlowConsumer = "slow_consumer"
	natsPermission   = "permission"
	natsOther        = "other"
)

func newNATSMetrics(reg prometheus.Registerer) *natsMetrics {
	m := &natsMetrics{
		disconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_nats_disconnects_total",
			Help: "Times the process's NATS connection was lost.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_nats_reconnects_total",
			Help: "Times the process's NATS connection was made again after a loss.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_nats_errors_total",
			Help: "Asynchronous errors NATS reported to the process, by kind: slow_consumer (messages dropped), permission, other.",
		}, []string{"kind"}),
	}
	for _, k := range []string{natsSlowConsumer, natsPermission, natsOther} {
		m.errors.WithLabelValues(k)
	}
	reg.MustRegister(m.disconnects, m.reconnects, m.errors)
	return m
}

func (m *natsMetrics) asyncError(err error) {
	switch {
	case errors.Is(err, nats.ErrSlowConsumer):
		m.errors.WithLabelValues(natsSlowConsumer).Inc()
	case errors.Is(err, nats.ErrPermissionViolation):
		m.errors.WithLabelValues(natsPermission).Inc()
	default:
		m.errors.WithLabelValues(natsOther).Inc()
	}
}

// registerConnected adds the gauge of nc's state.
func registerConnected(reg prometheus.Registerer, nc *nats.Conn) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hearth_nats_connected",
		Help: "1 while the process is connected to NATS, else 0.",
	}, func() float64 {
		if nc.IsConnected() {
			return 1
		}
		return 0
	}))
}

// platformMetrics makes the stack's registry on first use, with the
// object store's series.
func (s *Stack) platformMetrics() *prometheus.Registry {
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
		s.s3Metrics = objstore.NewMetrics(s.Metrics)
		s.natsMetrics = newNATSMetrics(s.Metrics)
	}
	return s.Metrics
}

// processCollectors is a registry of Go's and the process's series, for an
// endpoint that has no gateway's (which has its own).
func processCollectors() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveMetrics serves g on http://addr/metrics until the stack closes,
// and returns the URL.
func (s *Stack) serveMetrics(addr string, g prometheus.Gatherer) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics: listen on %s: %w (is the port in use? use another metrics address)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.OnClose(func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
			err = serveErr
		}
		return err
	})
	url := "http://" + ln.Addr().String() + "/metrics"
	s.Log.Info("metrics listening", "url", url)
	return url, nil
}
