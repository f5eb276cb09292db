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
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearthfn/hearth/gateway/autoscaler/provider"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/triggers"
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
	// NoLocal sends calls to a runner in this process (Deps.Local) through
	// NATS like any other, as when the two run apart; for measurements.
	NoLocal bool

	// Async invocations.
	NoDispatcher     bool          // do not run async invocations in this gateway
	Dispatchers      int           // async invocations run at once; default 256
	MaxAttempts      int           // attempts of an async invocation; default 3
	RetryBase        time.Duration // first retry delay, doubling; default 1 s
	RetryCap         time.Duration // longest retry delay; default 60 s
	AckWait          time.Duration // redelivery after a dispatcher stops answering; default 30 s
	CallbackAttempts int           // deliveries of a callback; default 3
	Retention        time.Duration // invocation records kept; default 24 h
	Replicas         int           // JetStream replicas of streams and buckets; default 1

	// Autoscale names the keep-alive policy the autoscaler runs (fixed-K,
	// hybrid, predictive); "" turns it off. AutoscaleTick is its "minute";
	// default 1 min.
	Autoscale     string
	AutoscaleTick time.Duration
	// MinRunners and MaxRunners bound how many runners the autoscaler asks
	// Deps.Provider for (MaxRunners 0: no cap).
	MinRunners, MaxRunners int

	NoTriggers  bool          // do not run NATS and cron triggers in this gateway
	TriggerTick time.Duration // how often triggers are reconciled and cron checked; default 1 s
}

// withDefaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.InvokeGrace <= 0 {
		c.InvokeGrace = 5 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = wire.HeartbeatInterval
	}
	if c.Dispatchers <= 0 {
		c.Dispatchers = 256
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryCap <= 0 {
		c.RetryCap = time.Minute
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.CallbackAttempts <= 0 {
		c.CallbackAttempts = 3
	}
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.AutoscaleTick <= 0 {
		c.AutoscaleTick = time.Minute
	}
	if c.TriggerTick <= 0 {
		c.TriggerTick = time.Second
	}
	return c
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
	// Provider, when set, adds and removes runners for the autoscaler.
	Provider provider.Provider
	// Local, when set, is a runner in this process: calls placed on it
	// skip NATS (unless Config.NoLocal).
	Local LocalRunner
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
	local    LocalRunner  // a runner in this process; nil if none
	id       string       // this gateway's id in its calls to runners
	unplaced atomic.Int64 // calls in flight sent to any runner (no heartbeats yet)
	server   *http.Server

	js             jetstream.JetStream
	records        *records
	outputs        *outputs
	async          jetstream.Stream // accepted async invocations, until they run
	dlq            jetstream.Stream
	dispatch       *dispatcher
	callbackClient *http.Client
	recordQueue    chan pendingRecord
	recordsDone    chan struct{}

	stopOnce     sync.Once
	autoscale    *autoscale
	provider     provider.Provider
	triggers     *triggers.Manager
	stopTriggers context.CancelFunc
	triggersDone chan struct{}

	beats     *nats.Subscription
	stopSweep context.CancelFunc
	sweepDone chan struct{}
}

// New builds a gateway: it opens the async streams and the invocation
// records, starts following runner heartbeats and, unless told not to, the
// async dispatcher.
func New(ctx context.Context, cfg Config, deps Deps) (*Gateway, error) {
	cfg = cfg.withDefaults()
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
		provider: deps.Provider,
		log:      log.With("component", "gateway"),
		metrics:  newMetrics(),
		sched: scheduler.New(scheduler.NewTable(cfg.HeartbeatInterval), scheduler.Config{
			Strategy: strategy, QueueWait: cfg.QueueWait,
		}),
		id: nuid.Next(),
	}
	g.sched.Table().SetGateway(g.id)
	if !cfg.NoLocal {
		g.local = deps.Local
	}
	js, err := jetstream.New(deps.NATS)
	if err != nil {
		return nil, fmt.Errorf("gateway: JetStream: %w", err)
	}
	g.js = js
	g.callbackClient = &http.Client{Timeout: 10 * time.Second}
	if g.records, err = openRecords(ctx, js, cfg.Retention, cfg.Replicas); err != nil {
		return nil, err
	}
	if g.outputs, err = openOutputs(ctx, js, deps.Storage, cfg.Retention, cfg.Replicas); err != nil {
		return nil, err
	}
	if g.async, g.dlq, err = openStreams(ctx, js, cfg.Replicas); err != nil {
		return nil, err
	}
	if err := g.followHeartbeats(); err != nil {
		return nil, err
	}
	g.recordQueue, g.recordsDone = make(chan pendingRecord, 4096), make(chan struct{})
	go g.writeRecords()
	if !cfg.NoDispatcher {
		if err := g.startDispatcher(ctx); err != nil {
			g.stopBackground()
			return nil, err
		}
	}
	if !cfg.NoTriggers {
		g.startTriggers()
	}
	if cfg.Autoscale != "" {
		if err := g.startAutoscaler(ctx); err != nil {
			g.stopOnce.Do(g.stopBackground)
			return nil, err
		}
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
	v1.GET("/functions/:name/versions", g.listVersions)
	v1.GET("/functions/:name/versions/:version", g.getVersion)
	v1.GET("/functions/:name/aliases", g.listAliases)
	v1.GET("/functions/:name/aliases/:alias", g.getAlias)
	v1.PUT("/functions/:name/aliases/:alias", g.setAlias)
	v1.DELETE("/functions/:name/aliases/:alias", g.deleteAlias)
	v1.GET("/runners", g.listRunners)
	v1.GET("/functions/:name/invocations", g.listInvocations)
	v1.GET("/functions/:name/triggers", g.listTriggers)
	v1.POST("/functions/:name/triggers", g.addTrigger)
	v1.DELETE("/functions/:name/triggers/:n", g.deleteTrigger)
	v1.GET("/invocations/:id", g.getInvocation)
	v1.GET("/invocations/:id/result", g.getResult)
	v1.GET("/invocations/:id/logs", g.getLogs)
	v1.GET("/dlq", g.listDLQ)
	v1.POST("/dlq/:id/replay", g.replayDLQ)

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
	g.stopOnce.Do(g.stopBackground)
	return err
}

// stopBackground stops the dispatcher (letting running invocations
// finish), the heartbeat follower and the record writer.
func (g *Gateway) stopBackground() {
	if g.autoscale != nil {
		g.autoscale.close()
	}
	if g.triggers != nil {
		g.stopTriggers()
		<-g.triggersDone
	}
	if g.dispatch != nil {
		g.dispatch.stop()
	}
	_ = g.beats.Unsubscribe()
	g.stopSweep()
	<-g.sweepDone
	close(g.recordQueue)
	<-g.recordsDone
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
