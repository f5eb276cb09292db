package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/gateway/autoscaler/provider"
	"github.com/hearthfn/hearth/internal/kubeprovider"
	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/runner"
)

// shutdownTimeout bounds how long a role waits for in-flight work on exit.
const shutdownTimeout = 30 * time.Second

// logFlags are the logging and tracing flags every server role has.
type logFlags struct{ level, format, otlp, pprof string }

func (l *logFlags) register(fs *pflag.FlagSet) {
	l.registerLogs(fs)
	fs.StringVar(&l.otlp, "otlp-endpoint", envOr("HEARTH_OTLP_ENDPOINT", ""), "export OpenTelemetry spans over OTLP/HTTP to this collector: host:port or an http(s) URL (default off; env HEARTH_OTLP_ENDPOINT)")
}

// registerLogs registers the flags of logFlags but --otlp-endpoint: what
// a role without spans (hearth nats) takes.
func (l *logFlags) registerLogs(fs *pflag.FlagSet) {
	fs.StringVar(&l.level, "log-level", envOr("HEARTH_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env HEARTH_LOG_LEVEL)")
	fs.StringVar(&l.format, "log-format", envOr("HEARTH_LOG_FORMAT", "text"), "log format: text or json (env HEARTH_LOG_FORMAT)")
	fs.StringVar(&l.pprof, "pprof-listen", envOr("HEARTH_PPROF_LISTEN", ""), "serve Go's profiles (net/http/pprof) at http://ADDR/debug/pprof/, e.g. 127.0.0.1:6060; keep it on loopback (default off; env HEARTH_PPROF_LISTEN)")
}

// tracer is the role's span exporter with --otlp-endpoint, nil without;
// a bad endpoint is a usage error. Its stop, which sends the spans still
// buffered, is for the role to call once it has stopped.
func (l *logFlags) tracer(ctx context.Context, service string) (*tracing.Tracer, func(), error) {
	if l.otlp == "" {
		return nil, func() {}, nil
	}
	if _, err := tracing.Endpoint(l.otlp); err != nil {
		return nil, nil, usagef("--otlp-endpoint: %v", err)
	}
	t, err := tracing.NewOTLP(ctx, l.otlp, service, readVersion().Version)
	if err != nil {
		return nil, nil, err
	}
	return t, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = t.Shutdown(ctx)
	}, nil
}

// start makes what every server role runs with: its logger, its pprof
// server with --pprof-listen, and, for a role with spans (service not
// empty), its tracer with --otlp-endpoint. stop, for the role to defer,
// stops the pprof server and sends the spans still buffered.
func (l *logFlags) start(ctx context.Context, stderr io.Writer, service string) (log *slog.Logger, tracer *tracing.Tracer, stop func(), err error) {
	log, err = newLogger(stderr, l.level, l.format)
	if err != nil {
		return nil, nil, nil, err
	}
	stopPprof, err := servePprof(l.pprof, log)
	if err != nil {
		return nil, nil, nil, err
	}
	stopTracer := func() {}
	if service != "" {
		if tracer, stopTracer, err = l.tracer(ctx, service); err != nil {
			stopPprof()
			return nil, nil, nil, err
		}
	}
	return log, tracer, func() { stopTracer(); stopPprof() }, nil
}

func newDevCmd(a *app) *cobra.Command {
	var (
		cfg        stack.DevConfig
		lf         logFlags
		af         authFlags
		natsPublic bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole platform on this machine (embedded NATS and S3)",
		Long: `Dev runs the whole platform in one process: an embedded NATS server, an
embedded S3-compatible server, a gateway and a runner, with its data in
--data, and deploys the example functions. It is open (no API keys) unless
started with --auth.`,
		Example: `  hearth dev
  hearth dev --auth --listen 127.0.0.1:9090
  hearth dev --autoscale predictive --max-runners 4`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAutoscaleMinute(cmd.Flags(), cfg.Gateway); err != nil {
				return err
			}
			return runDev(cmd.Context(), cfg, lf, af, natsPublic, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.DataDir, "data", envOr("HEARTH_DATA", "./.hearth"), "data directory for NATS, S3 objects and caches (env HEARTH_DATA)")
	fs.StringVar(&cfg.Listen, "listen", envOr("HEARTH_LISTEN", "127.0.0.1:8080"), "gateway listen address (env HEARTH_LISTEN)")
	fs.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:0", "embedded NATS listen address (port 0 = random)")
	fs.StringVar(&cfg.S3Listen, "s3-listen", "127.0.0.1:0", "embedded S3 listen address (port 0 = random)")
	fs.StringVar(&cfg.Gateway.Autoscale, "autoscale", "", "run the autoscaler with this keep-alive policy: predictive, hybrid or fixed-K (default off)")
	fs.IntVar(&cfg.Gateway.MaxRunners, "max-runners", 2, "with --autoscale: the most runner processes (hearth runner) the autoscaler starts beside the built-in runner")
	registerAutoscaleMinute(fs, &cfg.Gateway.AutoscaleTick)
	fs.BoolVar(&natsPublic, "nats-listen-public", false, "allow --nats-listen on an address other than loopback (the embedded NATS has no credentials)")
	af.registerDev(fs)
	lf.register(fs)
	return cmd
}

func runDev(ctx context.Context, cfg stack.DevConfig, lf logFlags, af authFlags, natsPublic bool, stdout, stderr io.Writer) error {
	if err := af.apply(&cfg.Gateway, true); err != nil {
		return err
	}
	log, tracer, stop, err := lf.start(ctx, stderr, "hearth-dev")
	if err != nil {
		return err
	}
	defer stop()
	cfg.Log, cfg.Tracer = log, tracer
	host, _, err := stack.SplitHostPort(cfg.NATSListen)
	if err != nil {
		return usagef("--nats-listen %q: %v", cfg.NATSListen, err)
	}
	if !natsPublic && !isLoopback(net.JoinHostPort(host, "0")) && host != "" {
		return usagef("--nats-listen %q is not a loopback address; the embedded NATS has no credentials, so anyone who reaches it could read and change everything. Pass --nats-listen-public to do it anyway", cfg.NATSListen)
	}
	if cfg.Gateway.Autoscale != "" && cfg.Gateway.MaxRunners > 0 {
		cfg.Scaler = devRunners(cfg.DataDir, log)
	}
	s, err := stack.StartDev(ctx, cfg)
	if err != nil {
		return err
	}
	authLine, curlAuth, cliAuth := "off (hearth dev --auth requires API keys)", "", ""
	if cfg.Gateway.Auth {
		authLine = "on; admin key in " + adminKeyFile(cfg.DataDir)
		if os.Getenv("HEARTH_ADMIN_KEY") != "" {
			authLine = "on; admin key from HEARTH_ADMIN_KEY"
		}
		curlAuth = ` -H "Authorization: Bearer $HEARTH_API_KEY"`
		cliAuth = "  export HEARTH_API_KEY=$(cat " + adminKeyFile(cfg.DataDir) + ")\n"
	}
	fmt.Fprintf(stdout, `Hearth is running.
  gateway   %[1]s
  metrics   %[1]s/metrics
  NATS      %[2]s
  S3        http://%[3]s (bucket %[4]s, credentials in %[5]s/s3-credentials.json)
  data      %[5]s
  auth      %[6]s

Try:
%[8]s  curl%[7]s -d Hearth %[1]s/v1/functions/hello/invoke
  go run ./cmd/hearth invoke --gateway %[1]s echo --data hi

Press Ctrl-C to stop.
`, s.GatewayURL, s.NATSServer.ClientURL(), s.S3Server.Endpoint(), s.Store.Bucket(), cfg.DataDir, authLine, curlAuth, cliAuth)
	return waitAndClose(ctx, s)
}

// waitAndClose serves until ctx ends or the gateway fails, then stops.
func waitAndClose(ctx context.Context, s *stack.Stack) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.ServeErr:
		s.ServeErr <- nil // Close reads it again
	}
	s.Log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := s.Close(ctx); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

func newGatewayCmd(a *app) *cobra.Command {
	var (
		cf         connFlags
		lf         logFlags
		cfg        gateway.Config
		pf         providerFlags
		af         authFlags
		withRunner bool
		rcfg       runner.Config
	)
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the HTTP gateway against an external NATS and S3",
		Long: `Gateway serves the HTTP API against an external NATS (with JetStream) and an
S3-compatible store. It requires API keys (the bootstrap admin key in
HEARTH_ADMIN_KEY) unless started with --insecure-no-auth; HEARTH_SECRETS_KEY
or --secrets-key-file seals secrets and must be the same on every gateway.`,
		Example: `  hearth gateway --nats nats://127.0.0.1:4222 --s3-endpoint http://127.0.0.1:9000 --listen 0.0.0.0:8080
  hearth gateway --with-runner --insecure-no-auth --s3-endpoint http://127.0.0.1:9000
  hearth gateway --autoscale predictive --provider kubernetes --k8s-deployment hearth-runner`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateAutoscaleMinute(cmd.Flags(), cfg); err != nil {
				return err
			}
			var local *runner.Config
			if withRunner {
				local = &rcfg
			}
			return runGateway(cmd.Context(), cf, lf, cfg, pf, af, local, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	lf.register(fs)
	fs.StringVar(&cfg.Listen, "listen", envOr("HEARTH_LISTEN", "127.0.0.1:8080"), "listen address (env HEARTH_LISTEN)")
	fs.StringVar(&cfg.Strategy, "placement", envOr("HEARTH_PLACEMENT", "hashing"), "placement strategy: hashing, round-robin or least-loaded")
	fs.DurationVar(&cfg.QueueWait, "queue-wait", time.Second, "longest wait for a runner with capacity before answering 429")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", 3, "attempts of an async invocation before it is dead-lettered")
	fs.DurationVar(&cfg.Retention, "retention", 24*time.Hour, "how long invocation records, results and logs are kept")
	fs.IntVar(&cfg.Replicas, "replicas", 1, "JetStream replicas of Hearth's streams and buckets (3 in a NATS cluster)")
	fs.BoolVar(&cfg.NoDispatcher, "no-dispatcher", false, "do not run async invocations in this gateway")
	fs.BoolVar(&cfg.NoTriggers, "no-triggers", false, "do not run NATS and cron triggers in this gateway")
	fs.StringVar(&cfg.Autoscale, "autoscale", "", "take part in autoscaling with this keep-alive policy: predictive, hybrid or fixed-K (default off)")
	fs.IntVar(&cfg.MinRunners, "min-runners", 0, "with --provider: the fewest runners the autoscaler keeps")
	fs.IntVar(&cfg.MaxRunners, "max-runners", 0, "with --provider: the most runners the autoscaler asks for (0: no cap)")
	registerAutoscaleMinute(fs, &cfg.AutoscaleTick)
	pf.register(fs)
	af.registerGateway(fs)
	fs.BoolVar(&withRunner, "with-runner", false, "also run a runner in this process; calls placed on it skip NATS")
	fs.StringVar(&rcfg.CacheDir, "runner-cache-dir", envOr("HEARTH_CACHE_DIR", "./.hearth/cache"), "with --with-runner: the runner's compilation cache directory")
	fs.IntVar(&rcfg.Concurrency, "runner-concurrency", 0, "with --with-runner: invocations the runner runs at once (default 16 per CPU)")
	return cmd
}

func runGateway(ctx context.Context, cf connFlags, lf logFlags, cfg gateway.Config, pf providerFlags, af authFlags, local *runner.Config, stdout, stderr io.Writer) error {
	if err := cf.validate(); err != nil {
		return err
	}
	if err := pf.validate(cfg); err != nil {
		return err
	}
	if err := af.apply(&cfg, false); err != nil {
		return err
	}
	log, tracer, stop, err := lf.start(ctx, stderr, "hearth-gateway")
	if err != nil {
		return err
	}
	defer stop()
	af.warn(log, cfg, cfg.Listen)
	s := stack.New(log)
	s.Tracer = tracer
	scaler, err := pf.scaler(cf.cfg, log)
	if err != nil {
		return err
	}
	if scaler != nil {
		s.UseScaler(scaler)
	}
	if err := s.StartGatewayRole(ctx, cf.cfg, cfg, local); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return err
	}
	fmt.Fprintf(stdout, "Hearth gateway listening on %s\n", s.GatewayURL)
	if s.Runner != nil {
		fmt.Fprintf(stdout, "Hearth runner %s in the same process\n", s.Runner.ID())
	}
	return waitAndClose(ctx, s)
}

func newRunnerCmd(a *app) *cobra.Command {
	var (
		cf  connFlags
		lf  logFlags
		cfg runner.Config
	)
	cmd := &cobra.Command{
		Use:   "runner",
		Short: "Run a runner against an external NATS and S3",
		Long: `Runner takes invocations from NATS and runs them in wazero, with the modules
from the S3-compatible store and a compilation cache on disk. On SIGTERM it
stops taking work and finishes what it runs.`,
		Example: `  hearth runner --nats nats://127.0.0.1:4222 --s3-endpoint http://127.0.0.1:9000
  hearth runner --concurrency 32 --cache-dir /var/cache/hearth --nats-creds runner.creds`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunner(cmd.Context(), cf, lf, cfg, a.stdout, a.stderr)
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	lf.register(fs)
	fs.StringVar(&cfg.ID, "id", envOr("HEARTH_RUNNER_ID", ""), "runner id (default hostname-pid)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", envOr("HEARTH_CACHE_DIR", "./.hearth/cache"), "compilation cache directory")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, "invocations run at once (default 16 per CPU)")
	fs.BoolVar(&cfg.NoTieredStart, "no-tiered-start", false, "compile a module before its first call instead of starting it on the interpreter meanwhile")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", envOr("HEARTH_METRICS_LISTEN", ""), "serve the runner's Prometheus metrics at http://ADDR/metrics, e.g. 0.0.0.0:9090 (port 0 picks one; default off; env HEARTH_METRICS_LISTEN)")
	return cmd
}

func runRunner(ctx context.Context, cf connFlags, lf logFlags, cfg runner.Config, stdout, stderr io.Writer) error {
	if err := cf.validate(); err != nil {
		return err
	}
	log, tracer, stop, err := lf.start(ctx, stderr, "hearth-runner")
	if err != nil {
		return err
	}
	defer stop()
	s := stack.New(log)
	s.Tracer = tracer
	if err := s.StartRunnerRole(ctx, cf.cfg, cfg); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return err
	}
	fmt.Fprintf(stdout, "Hearth runner %s taking work from %s\n", s.Runner.ID(), natsauth.RedactURL(cf.cfg.NATSURL))
	if s.RunnerMetricsURL != "" {
		fmt.Fprintf(stdout, "metrics at %s\n", s.RunnerMetricsURL)
	}
	<-ctx.Done()
	log.Info("draining")
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	return s.Close(closeCtx)
}

// devRunners makes the process provider of `hearth dev --autoscale`: extra
// `hearth runner` processes of this very binary, on the dev NATS and S3.
func devRunners(dataDir string, log *slog.Logger) func(string, objstore.Config) autoscaler.Scaler {
	return func(natsURL string, s3 objstore.Config) autoscaler.Scaler {
		return processRunners(natsURL, natsauth.Config{}, objstore.Config{Endpoint: "http://" + s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket},
			filepath.Join(dataDir, "runner-cache"), log)
	}
}

// processRunners is a provider of `hearth runner` processes of this very
// binary on NATS, with auth's credentials and TLS, and S3 (an endpoint
// URL); secrets reach them in the environment (childConn).
func processRunners(natsURL string, auth natsauth.Config, s3 objstore.Config, cacheDir string, log *slog.Logger) autoscaler.Scaler {
	self, err := os.Executable()
	if err != nil {
		log.Warn("cannot find this binary; the autoscaler will not add runners", "error", err)
		return provider.Static(0)
	}
	connArgs, env := childConn(natsURL, auth, s3)
	args := append(append([]string{"runner"}, connArgs...), "--cache-dir", cacheDir)
	return provider.NewProcess(provider.ProcessConfig{
		Binary: self,
		Args:   args,
		Env:    env,
		Log:    log,
	})
}

// providerFlags say what adds and removes runners for the gateway's
// autoscaler: nothing (the default), runner processes of this binary on
// this machine, or a Kubernetes Deployment.
type providerFlags struct {
	name                            string
	deployment, namespace, kubeconf string
	cacheDir                        string
}

func (p *providerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.name, "provider", envOr("HEARTH_PROVIDER", ""), "with --autoscale: what adds and removes runners: process (hearth runner processes on this machine) or kubernetes (env HEARTH_PROVIDER; default none)")
	fs.StringVar(&p.deployment, "k8s-deployment", envOr("HEARTH_K8S_DEPLOYMENT", ""), "with --provider kubernetes: the runner Deployment to scale (env HEARTH_K8S_DEPLOYMENT)")
	fs.StringVar(&p.namespace, "k8s-namespace", envOr("HEARTH_K8S_NAMESPACE", ""), "with --provider kubernetes: the Deployment's namespace (env HEARTH_K8S_NAMESPACE; default: default)")
	fs.StringVar(&p.kubeconf, "kubeconfig", envOr("KUBECONFIG", ""), "with --provider kubernetes outside a cluster: the kubeconfig file (env KUBECONFIG)")
	fs.StringVar(&p.cacheDir, "provider-cache-dir", "./.hearth/runner-cache", "with --provider process: the started runners' compilation cache")
}

// validate refuses a provider that nothing would use or that is not known.
func (p *providerFlags) validate(cfg gateway.Config) error {
	switch p.name {
	case "":
		if p.deployment != "" {
			return usagef("--k8s-deployment needs --provider kubernetes")
		}
		return nil
	case "process", "kubernetes":
	default:
		return usagef("--provider %q: use process or kubernetes", p.name)
	}
	if cfg.Autoscale == "" {
		return usagef("--provider %s needs --autoscale POLICY: the autoscaler is what asks the provider for runners", p.name)
	}
	if p.name == "kubernetes" && p.deployment == "" {
		return usagef("--provider kubernetes needs --k8s-deployment NAME, the Deployment of runners to scale")
	}
	if cfg.MaxRunners > 0 && cfg.MinRunners > cfg.MaxRunners {
		return usagef("--min-runners %d is above --max-runners %d", cfg.MinRunners, cfg.MaxRunners)
	}
	return nil
}

// scaler makes the provider; nil when none is asked for.
func (p *providerFlags) scaler(conn stack.Conn, log *slog.Logger) (autoscaler.Scaler, error) {
	switch p.name {
	case "kubernetes":
		return kubeprovider.New(kubeprovider.Config{Deployment: p.deployment, Namespace: p.namespace, Kubeconfig: p.kubeconf})
	case "process":
		return processRunners(conn.NATSURL, conn.NATSAuth, conn.S3, p.cacheDir, log), nil
	}
	return nil, nil
}

// registerAutoscaleMinute is --autoscale-minute, the length of the
// autoscaler's minute (gateway.Config.AutoscaleTick).
func registerAutoscaleMinute(fs *pflag.FlagSet, tick *time.Duration) {
	fs.DurationVar(tick, "autoscale-minute", time.Minute, "with --autoscale: the length of the policy's minute; shorter to replay a trace in compressed time (hearth replay --minute 1s against --autoscale-minute 1s)")
}

// validateAutoscaleMinute refuses an --autoscale-minute that nothing would
// use or that is too short for the leader to act in.
func validateAutoscaleMinute(fs *pflag.FlagSet, cfg gateway.Config) error {
	if !fs.Changed("autoscale-minute") {
		return nil
	}
	if cfg.Autoscale == "" {
		return usagef("--autoscale-minute needs --autoscale POLICY: it is the length of the autoscaler's minute")
	}
	if cfg.AutoscaleTick < autoscaler.MinTick {
		return usagef("--autoscale-minute %v: it must be at least %v, e.g. 1s or 1m", cfg.AutoscaleTick, autoscaler.MinTick)
	}
	return nil
}

// adminKeyFile is where hearth dev --auth keeps its bootstrap admin key.
func adminKeyFile(dataDir string) string { return filepath.Join(dataDir, stack.AdminKeyFile) }
