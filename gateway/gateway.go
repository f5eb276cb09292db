// Package gateway is Hearth's HTTP front door: the /v1 API (functions and
// invocations), the /fn passthrough, health and metrics. It holds no state
// of its own; several gateways can serve the same cluster.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// Response headers of the API contract (API.md).
const (
	headerRequestID    = "Hearth-Request-Id"
	headerInvocationID = "Hearth-Invocation-Id"
	headerColdStart    = "Hearth-Cold-Start"
	headerNamespace    = "Hearth-Namespace"
)

// Config configures a gateway.
type Config struct {
	Listen string // default 127.0.0.1:8080
	// MaxPayload is the largest invocation body accepted (413 above it);
	// default 32 MiB. Bodies above InlineLimit travel through the object
	// store (claim check).
	MaxPayload int
	// InlineLimit is the largest body or output sent inside a NATS message;
	// default the connection's max payload less room for headers.
	InlineLimit int
	// InvokeGrace is added to a function's timeout to bound how long the
	// gateway waits for a runner (fetch, compile, the NATS round trip).
	InvokeGrace time.Duration
	// Strategy names the placement strategy: hashing (default),
	// round-robin or least-loaded.
	Strategy string
	// QueueWait bounds how long a call waits for a runner with capacity
	// before a 429; default 1 s.
	QueueWait time.Duration
	// HeartbeatInterval is the runners' heartbeat period; default 1 s.
	HeartbeatInterval time.Duration
}

// DefaultMaxPayload is the default limit of an invocation body.
const DefaultMaxPayload = 32 << 20

// Storage is the object store: claim-checked payloads, results and logs.
type Storage interface {
	Ping(ctx context.Context) error
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// Deps are the gateway's connections.
type Deps struct {
	NATS     *nats.Conn
	Registry *registry.Registry
	Storage  Storage
	Log      *slog.Logger
}

// Gateway serves the HTTP API.
type Gateway struct {
	cfg      Config
	nc       *nats.Conn
	registry *registry.Registry
	store    Storage
	log      *slog.Logger
	metrics  *metrics
	sched    *scheduler.Scheduler
	echo     *echo.Echo
	server   *http.Server

	beats     *nats.Subscription
	stopSweep context.CancelFunc
	sweepDone chan struct{}
}

// New builds a gateway and starts following runner heartbeats.
func New(cfg Config, deps Deps) (*Gateway, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.InvokeGrace <= 0 {
		cfg.InvokeGrace = 5 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = wire.HeartbeatInterval
	}
	strategy, err := scheduler.StrategyByName(cfg.Strategy)
	if err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{
		cfg:      cfg,
		nc:       deps.NATS,
		registry: deps.Registry,
		store:    deps.Storage,
		log:      log.With("component", "gateway"),
		metrics:  newMetrics(),
		sched: scheduler.New(scheduler.NewTable(cfg.HeartbeatInterval), scheduler.Config{
			Strategy: strategy, QueueWait: cfg.QueueWait,
		}),
	}
	if err := g.followHeartbeats(); err != nil {
		return nil, err
	}
	g.echo = g.routes()
	return g, nil
}

func (g *Gateway) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = g.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: headerRequestID}))
	e.Use(middleware.Recover())

	e.GET("/healthz", g.healthz)
	e.GET("/readyz", g.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{})))

	v1 := e.Group("/v1")
	v1.PUT("/functions/:name", g.deployFunction)
	v1.GET("/functions", g.listFunctions)
	v1.GET("/functions/:name", g.getFunction)
	v1.DELETE("/functions/:name", g.deleteFunction)
	v1.POST("/functions/:name/invoke", g.invoke)
	v1.GET("/runners", g.listRunners)

	e.Any("/fn/:name", g.passthrough)
	e.Any("/fn/:name/*", g.passthrough)
	return e
}

// Handler is the gateway's HTTP handler, for tests and embedding.
func (g *Gateway) Handler() http.Handler { return g.echo }

// Serve accepts connections on ln until Shutdown.
func (g *Gateway) Serve(ln net.Listener) error {
	g.server = &http.Server{
		Handler:           g.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	g.log.Info("gateway listening", "addr", ln.Addr().String())
	if err := g.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// Shutdown stops accepting requests, waits for those in progress and stops
// following heartbeats.
func (g *Gateway) Shutdown(ctx context.Context) error {
	var err error
	if g.server != nil {
		err = g.server.Shutdown(ctx)
	}
	_ = g.beats.Unsubscribe()
	g.stopSweep()
	<-g.sweepDone
	return err
}

func (g *Gateway) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when NATS and the object store are reachable.
func (g *Gateway) readyz(c echo.Context) error {
	checks := map[string]string{"nats": "ok", "storage": "ok"}
	ready := true
	if !g.nc.IsConnected() {
		checks["nats"], ready = "not connected: "+g.nc.Status().String(), false
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := g.store.Ping(ctx); err != nil {
		checks["storage"], ready = err.Error(), false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"ready": ready, "checks": checks})
}
