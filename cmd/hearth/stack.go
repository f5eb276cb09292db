package main

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
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler/provider"
	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/natsembed"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/runner"
)

// stack is a set of running roles and the connections they share. Every
// part registers how to stop it; Close stops them in reverse order.
type stack struct {
	log      *slog.Logger
	nc       *nats.Conn
	store    *objstore.Store
	registry *registry.Registry
	gateway  *gateway.Gateway
	runner   *runner.Runner
	provider provider.Provider // runners the autoscaler may add (dev --autoscale)

	natsServer *server.Server  // dev only
	s3Server   *embeds3.Server // dev only
	conn       connConfig      // where NATS and the object store are
	gatewayURL string          // http://host:port once the gateway listens
	serveErr   chan error      // the gateway's Serve result
	closers    []func(context.Context) error
}

func (s *stack) onClose(f func(context.Context) error) { s.closers = append(s.closers, f) }

// Close stops every part, newest first, and returns the first error.
func (s *stack) Close(ctx context.Context) error {
	var first error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](ctx); err != nil && first == nil {
			first = err
		}
	}
	s.closers = nil
	return first
}

// connConfig says how a role reaches NATS and the object store.
type connConfig struct {
	NATSURL string
	S3      objstore.Config
}

// connect opens the NATS connection and the object store, creating the
// bucket if it is missing.
func (s *stack) connect(ctx context.Context, cfg connConfig, name string) error {
	nc, err := nats.Connect(cfg.NATSURL,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("NATS disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { s.log.Info("NATS reconnected", "url", nc.ConnectedUrl()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			s.log.Warn("NATS error", "subject", subject, "error", err)
		}),
	)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w (is nats-server running? pass --nats)", cfg.NATSURL, err)
	}
	s.nc, s.conn = nc, cfg
	s.onClose(func(context.Context) error {
		if err := nc.Drain(); err != nil {
			nc.Close()
		}
		return nil
	})

	store, err := objstore.New(cfg.S3)
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return fmt.Errorf("object store at %s: %w (check --s3-endpoint and the credentials)", cfg.S3.Endpoint, err)
	}
	s.store = store
	return nil
}

// openRegistry opens the function registry on the stack's connections.
func (s *stack) openRegistry(ctx context.Context, cfg registry.Config) error {
	js, err := jetstream.New(s.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	reg, err := registry.Open(ctx, cfg, js, s.store, s.log)
	if err != nil {
		return err
	}
	s.registry = reg
	s.onClose(reg.Close)
	return nil
}

// startGateway serves the HTTP API on listen.
func (s *stack) startGateway(ctx context.Context, cfg gateway.Config) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w (is another hearth running? use --listen)", cfg.Listen, err)
	}
	s.serveErr = make(chan error, 1)
	gw, err := s.serveGateway(ctx, cfg, s.nc, ln, s.serveErr)
	if err != nil {
		return err
	}
	s.gateway = gw
	s.gatewayURL = "http://" + ln.Addr().String()
	return nil
}

// startExtraGateway starts another gateway on the stack's registry and
// store, with a NATS connection of its own as a gateway in another process
// has, on a random loopback port, and returns its URL; it stops with the
// stack. The stack's runner is its local runner unless cfg.NoLocal.
func (s *stack) startExtraGateway(ctx context.Context, cfg gateway.Config) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	nc, err := nats.Connect(s.nc.ConnectedUrl(), nats.Name("hearth-extra-gateway"))
	if err != nil {
		ln.Close()
		return "", err
	}
	s.onClose(func(context.Context) error { nc.Close(); return nil })
	if _, err := s.serveGateway(ctx, cfg, nc, ln, make(chan error, 1)); err != nil {
		return "", err
	}
	return "http://" + ln.Addr().String(), nil
}

// serveGateway makes a gateway on nc and the stack's registry, store,
// provider and runner (its local runner: calls placed on it skip NATS),
// serves it on ln, sending Serve's result to served, and stops it with the
// stack. It closes ln when it fails.
func (s *stack) serveGateway(ctx context.Context, cfg gateway.Config, nc *nats.Conn, ln net.Listener, served chan error) (*gateway.Gateway, error) {
	deps := gateway.Deps{NATS: nc, Registry: s.registry, Storage: s.store, Log: s.log, Provider: s.provider}
	if s.runner != nil {
		deps.Local = s.runner
	}
	gw, err := gateway.New(ctx, cfg, deps)
	if err != nil {
		ln.Close()
		return nil, err
	}
	go func() { served <- gw.Serve(ln) }()
	s.onClose(func(ctx context.Context) error {
		err := gw.Shutdown(ctx)
		if serveErr := <-served; serveErr != nil && err == nil {
			err = serveErr
		}
		return err
	})
	return gw, nil
}

// startRunner starts a runner that takes work from NATS.
func (s *stack) startRunner(cfg runner.Config) error {
	r, err := runner.New(cfg, s.nc, s.store, s.log)
	if err != nil {
		return err
	}
	if err := r.Start(); err != nil {
		return err
	}
	s.runner = r
	s.onClose(r.Stop)
	return nil
}

// devConfig configures `hearth dev`.
type devConfig struct {
	DataDir    string
	Listen     string // gateway
	NATSListen string // host:port of the embedded NATS; port 0 = random
	S3Listen   string // host:port of the embedded S3; port 0 = random
	Log        *slog.Logger
	Gateway    gateway.Config // gateway settings; Listen is taken from above
	Runner     runner.Config  // runner settings; the compilation cache is dev's own
	// Provider, when set, makes the provider through which the autoscaler
	// adds runners, given where NATS and S3 are.
	Provider func(natsURL string, s3 objstore.Config) provider.Provider
}

// startDev starts the whole platform in this process: embedded NATS and
// S3 keeping their data under DataDir, a gateway, one runner, and the
// example functions deployed.
func startDev(ctx context.Context, cfg devConfig) (_ *stack, err error) {
	s := &stack{log: cfg.Log}
	defer func() {
		if err != nil {
			_ = s.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	host, port, err := splitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, usagef("--nats-listen %q: %v", cfg.NATSListen, err)
	}
	ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(cfg.DataDir, "nats"), Host: host, Port: port, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	s.natsServer = ns
	s.onClose(func(context.Context) error { ns.Shutdown(); ns.WaitForShutdown(); return nil })

	access, secret, err := embeds3.LoadOrCreateCredentials(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s3, err := embeds3.Start(embeds3.Config{Dir: filepath.Join(cfg.DataDir, "s3"), Addr: cfg.S3Listen, AccessKey: access, SecretKey: secret, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	s.s3Server = s3
	s.onClose(s3.Close)

	conn := connConfig{NATSURL: ns.ClientURL(), S3: objstore.Config{Endpoint: s3.Endpoint(), AccessKey: access, SecretKey: secret}}
	if err := s.connect(ctx, conn, "hearth-dev"); err != nil {
		return nil, err
	}
	// One compilation cache on disk for the validator and the runner: a
	// module compiled at deploy is not compiled again on its first call.
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(cfg.DataDir, "cache"))
	if err != nil {
		return nil, fmt.Errorf("compilation cache: %w", err)
	}
	s.onClose(cache.Close)
	if err := s.openRegistry(ctx, registry.Config{Runtime: runner.RuntimeConfig(cache, 0)}); err != nil {
		return nil, err
	}
	runnerCfg := cfg.Runner
	runnerCfg.CompilationCache = cache
	if err := s.startRunner(runnerCfg); err != nil {
		return nil, err
	}
	// The examples are deployed before the gateway listens, so that once
	// it answers they can be called.
	if err := s.deployExamples(ctx); err != nil {
		return nil, err
	}
	gwCfg := cfg.Gateway
	gwCfg.Listen = cfg.Listen
	if cfg.Provider != nil {
		s.provider = cfg.Provider(conn.NATSURL, conn.S3)
		if c, ok := s.provider.(interface{ Close() error }); ok {
			s.onClose(func(context.Context) error { return c.Close() })
		}
	}
	if err := s.startGateway(ctx, gwCfg); err != nil {
		return nil, err
	}
	return s, nil
}

// deployExamples deploys the built-in examples, unless the same module is
// already the function's latest version (a restart on the same data).
func (s *stack) deployExamples(ctx context.Context) error {
	for _, ex := range functions.Examples() {
		fn, err := s.registry.Get(ctx, registry.DefaultNamespace, ex.Name)
		if err == nil && fn.Latest().Digest == registry.DigestOf(ex.Wasm) {
			continue
		}
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
		if _, _, err := s.registry.Deploy(ctx, registry.DeployRequest{Name: ex.Name, Module: ex.Wasm}); err != nil {
			return fmt.Errorf("deploy example %s: %w", ex.Name, err)
		}
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
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
