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
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/audit"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/gateway/heartbeat"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/gateway/transport"
	"github.com/hearthfn/hearth/gateway/triggers"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
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
	// LogsHeartbeat is how often a followed log stream (GET
	// /v1/functions/{name}/logs?follow=true) sends a comment line, so
	// proxies and clients see a live connection; default 15 s.
	LogsHeartbeat time.Duration

	// Autoscale names the keep-alive policy the autoscaler runs (fixed-K,
	// hybrid, predictive); "" turns it off. AutoscaleTick is its "minute";
	// default 1 min.
	Autoscale     string
	AutoscaleTick time.Duration
	// MinRunners and MaxRunners bound how many runners the autoscaler asks
	// Deps.Scaler for (MaxRunners 0: no cap).
	MinRunners, MaxRunners int

	NoTriggers  bool          // do not run NATS and cron triggers in this gateway
	TriggerTick time.Duration // how often triggers are reconciled and cron checked; default 1 s

	// Auth turns API keys on: every route but /healthz and /readyz then
	// needs one (gateway/auth). AdminKey is the bootstrap admin key
	// (HEARTH_ADMIN_KEY, or DATA/admin.key in dev); with Auth and no
	// AdminKey, keys must already exist in the bucket.
	Auth     bool
	AdminKey string
	// SecretsKey is the 32-byte key that seals secrets at rest
	// (HEARTH_SECRETS_KEY, or DATA/secrets.key in dev); every gateway must
	// have the same. Without it, setting secrets and calling functions
	// that have any fail with a message that says so.
	SecretsKey []byte
}

// withDefaults fills unset fields: the one place the gateway's defaults
// are written.
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
	// The async settings (Dispatchers … CallbackAttempts) get theirs in
	// gateway/async (Config.withDefaults), the one place they are written.
	if c.Retention <= 0 {
		c.Retention = 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.LogsHeartbeat <= 0 {
		c.LogsHeartbeat = 15 * time.Second
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
const DefaultMaxPayload = limits.DefaultPayloadBytes

// Storage is the object store: modules, claim-checked payloads, results
// and logs.
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
	// Scaler, when set, adds and removes runners for the autoscaler.
	Scaler autoscaler.Scaler
	// Local, when set, is a runner in this process: calls placed on it
	// skip NATS (unless Config.NoLocal).
	Local transport.Runner
	// Metrics, when set, gathers the process's other series, served on
	// /metrics beside the gateway's: NATS, S3 and a local runner's
	// (internal/stack). Their names must differ from the gateway's.
	Metrics prometheus.Gatherer
	// Tracer, when it exports (tracing.NewOTLP), records a span for each
	// request and async attempt; nil makes trace ids only.
	Tracer *tracing.Tracer
}

// service is a part of the gateway that runs in the background.
type service interface {
	Stop(ctx context.Context) error
}

// Gateway serves the HTTP API.
type Gateway struct {
	cfg      Config
	nc       *nats.Conn
	registry *registry.Registry
	store    Storage
	log      *slog.Logger
	tracer   *tracing.Tracer
	id       string // this gateway's id in its calls to runners
	metrics  *metrics
	sched    *scheduler.Scheduler

	// How calls reach runners: local, when a runner shares this process,
	// and NATS for every other.
	local    *transport.Local
	nats     *transport.NATS
	unplaced atomic.Int64 // calls in flight sent to any runner (no heartbeats yet)

	keys     *auth.Keys // nil: auth is off
	secrets  *secrets.Store
	audit    *audit.Log
	fnLimits fnLimiters // rate limits of functions (spec rate_limit)

	records *records.Store
	outputs *records.Outputs
	writer  *records.Writer // records of sync calls
	queue   *async.Queue
	leader  *autoscaler.Leader // nil unless Config.Autoscale

	echo     *echo.Echo
	server   *http.Server
	services []service // started in this order, stopped in the reverse
	stopOnce sync.Once
	stopErr  error

	// streams ends when Shutdown begins: followed log streams never go
	// idle, so they end themselves for the server to shut down.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New builds a gateway and starts its background services: the record
// writer, the heartbeat follower, and unless told not to, the async
// dispatcher, the triggers and the autoscaler. Serve (or Handler) then
// takes requests; Shutdown stops it all.
func New(ctx context.Context, cfg Config, deps Deps) (_ *Gateway, err error) {
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
		log:      log.With("component", "gateway"),
		tracer:   deps.Tracer,
		metrics:  newMetrics(deps.Metrics),
		sched: scheduler.New(scheduler.NewTable(cfg.HeartbeatInterval), scheduler.Config{
			Strategy: strategy, QueueWait: cfg.QueueWait,
		}),
		id: nuid.Next(),
	}
	g.sched.Table().SetGateway(g.id)
	// Runners that join the cluster warm before they take calls.
	g.sched.Table().OnJoin = g.warmJoiner
	g.metrics.own.MustRegister(newSchedulerCollector(g.sched))
	g.nats = transport.NewNATS(deps.NATS, deps.Storage, cfg.InlineLimit, g.log)
	if deps.Local != nil && !cfg.NoLocal {
		g.local = &transport.Local{R: deps.Local}
	}
	defer func() {
		if err != nil {
			_ = g.stopServices(context.WithoutCancel(ctx))
		}
	}()
	if err := g.open(ctx, deps); err != nil {
		return nil, err
	}
	g.echo = g.routes()
	g.server = &http.Server{
		Handler:           g.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	g.streams, g.stopStreams = context.WithCancel(context.Background())
	g.server.RegisterOnShutdown(g.stopStreams)
	return g, nil
}

// open opens the stores and starts the services, each registered to be
// stopped in the reverse order: producers of records and calls stop before
// what they write to.
func (g *Gateway) open(ctx context.Context, deps Deps) error {
	cfg := g.cfg
	js, err := jetstream.New(g.nc)
	if err != nil {
		return fmt.Errorf("gateway: JetStream: %w", err)
	}
	if g.audit, err = audit.Open(ctx, js, cfg.Replicas, audit.WithLog(g.log)); err != nil {
		return err
	}
	if g.secrets, err = secrets.Open(ctx, js, cfg.SecretsKey, cfg.Replicas, secrets.WithLog(g.log)); err != nil {
		return err
	}
	g.services = append(g.services, closer(g.secrets.Close))
	if cfg.Auth {
		if g.keys, err = auth.OpenKeys(ctx, js, cfg.AdminKey, cfg.Replicas, g.log); err != nil {
			return err
		}
		g.services = append(g.services, closer(g.keys.Close))
		if !g.keys.HasBootstrap() && g.keys.Len() == 0 {
			return errors.New("gateway: auth is on but no key exists: set HEARTH_ADMIN_KEY to a bootstrap admin key (openssl rand -base64 32), or run with --insecure-no-auth to accept every request")
		}
	}
	if g.records, err = records.OpenStore(ctx, js, cfg.Retention, cfg.Replicas, records.WithLog(g.log)); err != nil {
		return err
	}
	if g.outputs, err = records.OpenOutputs(ctx, js, g.store, cfg.Retention, cfg.Replicas, records.WithLog(g.log)); err != nil {
		return err
	}
	g.writer = records.NewWriter(g.nc, js, g.outputs, g.log, g.metrics.recordsDropped.Inc)
	g.writer.Start()
	g.services = append(g.services, g.writer)

	follower := heartbeat.New(g.nc, g.sched, cfg.HeartbeatInterval, g.log)
	if err := follower.Start(); err != nil {
		return err
	}
	g.services = append(g.services, follower)

	g.queue, err = async.Open(ctx, async.Config{
		Dispatchers: cfg.Dispatchers, MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, RetryCap: cfg.RetryCap,
		AckWait: cfg.AckWait, CallbackAttempts: cfg.CallbackAttempts, Replicas: cfg.Replicas,
	}, async.Deps{
		JS: js, Store: g.store, Records: g.records, Outputs: g.outputs, Functions: g.registry, Executor: g,
		InlineLimit: g.nats.InlineLimit, Metrics: async.NewMetrics(g.metrics.own), Log: g.log, Tracer: g.tracer,
	})
	if err != nil {
		return err
	}
	if !cfg.NoDispatcher {
		if err := g.queue.StartDispatcher(ctx); err != nil {
			return err
		}
		g.services = append(g.services, g.queue)
	}

	if !cfg.NoTriggers {
		m := triggers.NewManager(g.nc, js, triggerInvoker{g}, g.triggerBindings, g.log, triggers.Config{Tick: cfg.TriggerTick, Replicas: cfg.Replicas})
		m.Start()
		g.services = append(g.services, m)
	}

	leaderMetrics := autoscaler.NewLeaderMetrics(g.metrics.own)
	if cfg.Autoscale != "" {
		g.leader, err = autoscaler.StartLeader(ctx, autoscaler.LeaderConfig{
			Policy: cfg.Autoscale, Tick: cfg.AutoscaleTick, MinRunners: cfg.MinRunners, MaxRunners: cfg.MaxRunners, Replicas: cfg.Replicas,
			FixedRunners: fixedRunners(deps.Local),
		}, autoscaler.LeaderDeps{
			NATS: g.nc, JS: js, Functions: g.registry, Scheduler: g.sched, Scaler: deps.Scaler,
			Unplaced: func() int { return int(g.unplaced.Load()) }, Metrics: leaderMetrics, Log: g.log, WarmRequest: g.warmRequest,
		})
		if err != nil {
			return err
		}
		g.services = append(g.services, g.leader)
	}
	return nil
}

// closer is a service stopped by a function without a context.
type closer func()

func (f closer) Stop(context.Context) error { f(); return nil }

// AuthOn reports whether requests need API keys.
func (g *Gateway) AuthOn() bool { return g.keys != nil }

// Handler is the gateway's HTTP handler, for tests and embedding.
func (g *Gateway) Handler() http.Handler { return g.echo }

// Serve accepts connections on ln until Shutdown (at once, if Shutdown
// came first).
func (g *Gateway) Serve(ln net.Listener) error {
	g.log.Info("gateway listening", "addr", ln.Addr().String())
	if err := g.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// Shutdown stops accepting requests, waits for those in progress until ctx
// ends, then stops the services newest first: the autoscaler, the
// triggers and the dispatcher (letting their calls finish), the heartbeat
// follower, and last the record writer, which drops what reaches it after.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.stopStreams() // also when Handler served the requests, not Serve
	err := g.server.Shutdown(ctx)
	g.stopOnce.Do(func() { g.stopErr = g.stopServices(ctx) })
	return errors.Join(err, g.stopErr)
}

func (g *Gateway) stopServices(ctx context.Context) error {
	var errs []error
	for i := len(g.services) - 1; i >= 0; i-- {
		errs = append(errs, g.services[i].Stop(ctx))
	}
	g.services = nil
	return errors.Join(errs...)
}

// fixedRunners is how many runners the autoscaler's Scaler does not
// manage: the one in this process, if any.
func fixedRunners(local transport.Runner) int {
	if local != nil {
		return 1
	}
	return 0
}
