package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/natsembed"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/runner"
)

// Stack is a set of running roles and the connections they share. Every
// part registers how to stop it; Close stops them in reverse order. The
// fields are set by the Start and Open methods that make each part.
type Stack struct {
	Log      *slog.Logger
	NC       *nats.Conn
	Store    *objstore.Store
	Registry *registry.Registry
	Gateway  *gateway.Gateway
	Runner   *runner.Runner
	Scaler   autoscaler.Scaler // runners the autoscaler may add (dev --autoscale, --provider)

	NATSServer *server.Server  // dev only
	S3Server   *embeds3.Server // dev only
	Conn       Conn            // where NATS and the object store are
	GatewayURL string          // http://host:port once the gateway listens
	AdminKey   string          // the bootstrap admin key, with auth on
	ServeErr   chan error      // the gateway's Serve result
	// Metrics holds the process's platform series, NATS and S3
	// (docs/metrics.md), served by every role beside its own; made by
	// Connect.
	Metrics *prometheus.Registry
	// RunnerMetricsURL is http://host:port/metrics of the runner's
	// metrics listener, once it listens (runner.Config.MetricsListen).
	RunnerMetricsURL string
	// Tracer, when set before the roles start, records and exports their
	// spans (--otlp-endpoint); nil makes trace ids only.
	Tracer *tracing.Tracer

	s3Metrics   *objstore.Metrics
	natsMetrics *natsMetrics
	closers     []func(context.Context) error
}

// New returns an empty stack that logs to log.
func New(log *slog.Logger) *Stack { return &Stack{Log: log} }

// OnClose registers f to run when the stack closes, before the parts
// registered earlier.
func (s *Stack) OnClose(f func(context.Context) error) { s.closers = append(s.closers, f) }

// Close stops every part, newest first, and returns the first error.
func (s *Stack) Close(ctx context.Context) error {
	var first error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](ctx); err != nil && first == nil {
			first = err
		}
	}
	s.closers = nil
	return first
}

// Conn says how a role reaches NATS and the object store.
type Conn struct {
	NATSURL  string
	NATSAuth natsauth.Config // credentials and TLS for NATS
	S3       objstore.Config
}

// Connect opens the NATS connection, with the credentials and TLS of
// cfg.NATSAuth, and the object store, creating the bucket if it is
// missing. A connection NATS refuses for its credentials or TLS is an
// error that says so; URLs in errors and logs have their secrets hidden.
func (s *Stack) Connect(ctx context.Context, cfg Conn, name string) error {
	authOpts, err := cfg.NATSAuth.Options(cfg.NATSURL)
	if err != nil {
		return err
	}
	s.platformMetrics()
	m := s.natsMetrics
	nc, err := nats.Connect(cfg.NATSURL, append(authOpts,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			m.disconnects.Inc()
			if err != nil {
				s.Log.Warn("NATS disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			m.reconnects.Inc()
			s.Log.Info("NATS reconnected", "url", natsauth.RedactURL(nc.ConnectedUrl()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			m.asyncError(err)
			s.Log.Warn("NATS error", "subject", subject, "error", err)
		}),
	)...)
	if err != nil {
		url := natsauth.RedactURL(cfg.NATSURL)
		if why := cfg.NATSAuth.Explain(err); why != nil {
			return fmt.Errorf("connect to NATS at %s: %w", url, why)
		}
		return fmt.Errorf("connect to NATS at %s: %w (is nats-server running? pass --nats)", url, err)
	}
	s.NC, s.Conn = nc, cfg
	registerConnected(s.Metrics, nc)
	s.OnClose(func(context.Context) error {
		if err := nc.Drain(); err != nil {
			nc.Close()
		}
		return nil
	})

	s3 := cfg.S3
	s3.Metrics = s.s3Metrics
	store, err := objstore.New(s3)
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return fmt.Errorf("object store at %s: %w (check --s3-endpoint and the credentials)", cfg.S3.Endpoint, err)
	}
	s.Store = store
	return nil
}

// openRegistry opens the function registry on the stack's connections.
func (s *Stack) OpenRegistry(ctx context.Context, cfg registry.Config) error {
	js, err := jetstream.New(s.NC)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	reg, err := registry.Open(ctx, cfg, js, s.Store, s.Log)
	if err != nil {
		return err
	}
	s.Registry = reg
	s.OnClose(reg.Close)
	return nil
}

// startGateway serves the HTTP API on listen.
func (s *Stack) StartGateway(ctx context.Context, cfg gateway.Config) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w (is another hearth running? use --listen)", cfg.Listen, err)
	}
	s.ServeErr = make(chan error, 1)
	gw, err := s.serveGateway(ctx, cfg, s.NC, ln, s.ServeErr)
	if err != nil {
		return err
	}
	s.Gateway = gw
	s.GatewayURL = "http://" + ln.Addr().String()
	return nil
}

// startExtraGateway starts another gateway on the stack's registry and
// store, with a NATS connection of its own as a gateway in another process
// has, on a random loopback port, and returns its URL; it stops with the
// stack. The stack's runner is its local runner unless cfg.NoLocal.
func (s *Stack) StartExtraGateway(ctx context.Context, cfg gateway.Config) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	authOpts, err := s.Conn.NATSAuth.Options(s.NC.ConnectedUrl())
	if err != nil {
		ln.Close()
		return "", err
	}
	nc, err := nats.Connect(s.NC.ConnectedUrl(), append(authOpts, nats.Name("hearth-extra-gateway"))...)
	if err != nil {
		ln.Close()
		return "", err
	}
	s.OnClose(func(context.Context) error { nc.Close(); return nil })
	if _, err := s.serveGateway(ctx, cfg, nc, ln, make(chan error, 1)); err != nil {
		return "", err
	}
	return "http://" + ln.Addr().String(), nil
}

// serveGateway makes a gateway on nc and the stack's registry, store,
// provider and runner (its local runner: calls placed on it skip NATS),
// serves it on ln, sending Serve's result to served, and stops it with the
// stack. It closes ln when it fails.
func (s *Stack) serveGateway(ctx context.Context, cfg gateway.Config, nc *nats.Conn, ln net.Listener, served chan error) (*gateway.Gateway, error) {
	deps := gateway.Deps{NATS: nc, Registry: s.Registry, Storage: s.Store, Log: s.Log, Scaler: s.Scaler, Tracer: s.Tracer}
	more := prometheus.Gatherers{s.platformMetrics()}
	if s.Runner != nil {
		deps.Local = s.Runner
		more = append(more, s.Runner.Metrics())
	}
	deps.Metrics = more
	gw, err := gateway.New(ctx, cfg, deps)
	if err != nil {
		ln.Close()
		return nil, err
	}
	go func() { served <- gw.Serve(ln) }()
	s.OnClose(func(ctx context.Context) error {
		err := gw.Shutdown(ctx)
		if serveErr := <-served; serveErr != nil && err == nil {
			err = serveErr
		}
		return err
	})
	return gw, nil
}

// StartRunner starts a runner that takes work from NATS and, with
// cfg.MetricsListen, serves its metrics there (with the process's
// platform, Go and process series), until the runner has stopped.
func (s *Stack) StartRunner(cfg runner.Config) error {
	if cfg.Tracer == nil {
		cfg.Tracer = s.Tracer
	}
	r, err := runner.New(cfg, s.NC, s.Store, s.Log)
	if err != nil {
		return err
	}
	if cfg.MetricsListen != "" {
		// Registered before the runner's stop, so it closes after it: a
		// draining runner can still be watched.
		url, err := s.serveMetrics(cfg.MetricsListen, prometheus.Gatherers{r.Metrics(), s.platformMetrics(), processCollectors()})
		if err != nil {
			return err
		}
		s.RunnerMetricsURL = url
	}
	if err := r.Start(); err != nil {
		return err
	}
	s.Runner = r
	s.OnClose(r.Stop)
	return nil
}

// UseScaler makes sc the autoscaler's way to add and remove runners for
// the gateways the stack starts from now on; a scaler with a Close method
// (the process provider) is closed with the stack.
func (s *Stack) UseScaler(sc autoscaler.Scaler) {
	s.Scaler = sc
	if c, ok := sc.(interface{ Close() error }); ok {
		s.OnClose(func(context.Context) error { return c.Close() })
	}
}

// StartGatewayRole starts a gateway on the cluster's NATS and S3; with
// local, also a runner in this process, started first so that the gateway
// hands calls placed on it over directly (decision 0006).
func (s *Stack) StartGatewayRole(ctx context.Context, conn Conn, cfg gateway.Config, local *runner.Config) error {
	if err := s.Connect(ctx, conn, "hearth-gateway"); err != nil {
		return err
	}
	if err := s.OpenRegistry(ctx, registry.Config{Replicas: cfg.Replicas}); err != nil {
		return err
	}
	if local != nil {
		if err := s.StartRunner(*local); err != nil {
			return err
		}
	}
	return s.StartGateway(ctx, cfg)
}

// StartRunnerRole starts a runner on the cluster's NATS and S3.
func (s *Stack) StartRunnerRole(ctx context.Context, conn Conn, cfg runner.Config) error {
	if err := s.Connect(ctx, conn, "hearth-runner"); err != nil {
		return err
	}
	return s.StartRunner(cfg)
}

// DevConfig configures `hearth dev`.
type DevConfig struct {
	DataDir    string
	Listen     string // gateway
	NATSListen string // host:port of the embedded NATS; port 0 = random
	S3Listen   string // host:port of the embedded S3; port 0 = random
	Log        *slog.Logger
	Gateway    gateway.Config // gateway settings; Listen is taken from above
	Runner     runner.Config  // runner settings; the compilation cache is dev's own
	// Scaler, when set, makes the scaler through which the autoscaler
	// adds runners, given where NATS and S3 are.
	Scaler func(natsURL string, s3 objstore.Config) autoscaler.Scaler
	// Tracer, when set, records and exports the gateway's and the
	// runner's spans.
	Tracer *tracing.Tracer
}

// StartDev starts the whole platform in this process: embedded NATS and
// S3 keeping their data under DataDir, a gateway, one runner, and the
// example functions deployed.
func StartDev(ctx context.Context, cfg DevConfig) (_ *Stack, err error) {
	s := &Stack{Log: cfg.Log, Tracer: cfg.Tracer}
	defer func() {
		if err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	host, port, err := SplitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, fmt.Errorf("NATS listen address %q: %w", cfg.NATSListen, err)
	}
	ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(cfg.DataDir, "nats"), Host: host, Port: port, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	s.NATSServer = ns
	s.OnClose(func(context.Context) error { ns.Shutdown(); ns.WaitForShutdown(); return nil })

	access, secret, err := embeds3.LoadOrCreateCredentials(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s3, err := embeds3.Start(embeds3.Config{Dir: filepath.Join(cfg.DataDir, "s3"), Addr: cfg.S3Listen, AccessKey: access, SecretKey: secret, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	s.S3Server = s3
	s.OnClose(s3.Close)

	conn := Conn{NATSURL: ns.ClientURL(), S3: objstore.Config{Endpoint: s3.Endpoint(), AccessKey: access, SecretKey: secret}}
	if err := s.Connect(ctx, conn, "hearth-dev"); err != nil {
		return nil, err
	}
	// One compilation cache on disk for the validator and the runner: a
	// module compiled at deploy is not compiled again on its first call.
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(cfg.DataDir, "cache"))
	if err != nil {
		return nil, fmt.Errorf("compilation cache: %w", err)
	}
	s.OnClose(cache.Close)
	if err := s.OpenRegistry(ctx, registry.Config{Runtime: runner.RuntimeConfig(cache, 0)}); err != nil {
		return nil, err
	}
	runnerCfg := cfg.Runner
	runnerCfg.CompilationCache = cache
	if err := s.StartRunner(runnerCfg); err != nil {
		return nil, err
	}
	// The examples are deployed before the gateway listens, so that once
	// it answers they can be called.
	if err := s.deployExamples(ctx); err != nil {
		return nil, err
	}
	gwCfg := cfg.Gateway
	gwCfg.Listen = cfg.Listen
	if err := devKeys(cfg.DataDir, &gwCfg); err != nil {
		return nil, err
	}
	s.AdminKey = gwCfg.AdminKey
	if cfg.Scaler != nil {
		s.UseScaler(cfg.Scaler(conn.NATSURL, conn.S3))
	}
	if err := s.StartGateway(ctx, gwCfg); err != nil {
		return nil, err
	}
	return s, nil
}

// deployExamples deploys the built-in examples, unless the same module is
// already the function's latest version (a restart on the same data).
func (s *Stack) deployExamples(ctx context.Context) error {
	for _, ex := range functions.Examples() {
		fn, err := s.Registry.Get(ctx, registry.DefaultNamespace, ex.Name)
		if err == nil && fn.Latest().Digest == registry.DigestOf(ex.Wasm) {
			continue
		}
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
		if _, _, err := s.Registry.Deploy(ctx, registry.DeployRequest{Name: ex.Name, Module: ex.Wasm}); err != nil {
			return fmt.Errorf("deploy example %s: %w", ex.Name, err)
		}
	}
	return nil
}

// SplitHostPort splits host:port and resolves a named port.
func SplitHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return "", 0, err
	}
	return host, port, nil
}
