// Package runner executes functions: it takes invocations from NATS, fetches
// modules from the object store by digest, compiles them with wazero (with a
// compilation cache on disk) and runs them in sandboxes with memory, time and
// output limits.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/wire"
)

// Runner serves invocations from NATS.
type Runner struct {
	cfg    Config
	nc     *nats.Conn
	engine *Engine
	log    *slog.Logger

	sem      chan struct{}
	inflight sync.WaitGroup
	sub      *nats.Subscription

	ownedCache wazero.CompilationCache // closed on Stop
}

// New makes a runner that takes work from nc and modules from source.
func New(cfg Config, nc *nats.Conn, source ModuleSource, log *slog.Logger) (*Runner, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	cache := cfg.CompilationCache
	ownCache := cache == nil && cfg.CacheDir != ""
	if ownCache {
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("runner: compilation cache in %s: %w", cfg.CacheDir, err)
		}
	}
	r := &Runner{
		cfg:    cfg,
		nc:     nc,
		engine: NewEngine(source, cache),
		log:    log.With("component", "runner", "runner", cfg.ID),
		sem:    make(chan struct{}, cfg.Concurrency),
	}
	if ownCache {
		r.ownedCache = cache
	}
	return r, nil
}

// ID is the runner's id.
func (r *Runner) ID() string { return r.cfg.ID }

// Start subscribes to invocations. Work runs until Stop.
func (r *Runner) Start() error {
	sub, err := r.nc.QueueSubscribe(wire.InvokeSubject, wire.RunnerQueue, r.dispatch)
	if err != nil {
		return fmt.Errorf("runner: subscribe: %w", err)
	}
	// The subscription must be known to the server before Start returns, so
	// that a gateway can send work right away.
	if err := r.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("runner: flush subscription: %w", err)
	}
	r.sub = sub
	r.log.Info("runner started", "concurrency", r.cfg.Concurrency, "cache_dir", r.cfg.CacheDir)
	return nil
}

// dispatch hands one message to a worker goroutine; when the runner is at
// its concurrency limit it blocks, so further messages wait in the
// subscription's pending buffer.
func (r *Runner) dispatch(msg *nats.Msg) {
	r.sem <- struct{}{}
	r.inflight.Add(1)
	go func() {
		defer func() { <-r.sem; r.inflight.Done() }()
		r.handle(msg)
	}()
}

func (r *Runner) handle(msg *nats.Msg) {
	req, body, err := wire.DecodeRequest(msg)
	if err != nil {
		r.reply(msg, &wire.Response{Error: &wire.Error{Code: wire.CodeBadRequest, Message: err.Error()}}, nil)
		return
	}
	res := r.engine.RunCommand(context.Background(), req, body, r.cfg.OutputLimit)
	resp := &wire.Response{
		Error:      res.Err,
		Stderr:     res.Stderr,
		Cold:       res.Cold,
		InitMicros: res.Init.Microseconds(),
		RunMicros:  res.Run.Microseconds(),
		Runner:     r.cfg.ID,
	}
	var output []byte
	if res.Err == nil {
		cgi := ParseCGI(res.Stdout)
		resp.Status, resp.Headers, output = cgi.Status, cgi.Headers, cgi.Body
	}
	log := r.log.With("function", req.Function, "invocation", req.InvocationID)
	if res.Err != nil {
		log.Info("invocation failed", "code", res.Err.Code, "error", res.Err.Message)
	} else {
		log.Debug("invocation done", "cold", res.Cold, "run", res.Run)
	}
	r.reply(msg, resp, output)
}

func (r *Runner) reply(msg *nats.Msg, resp *wire.Response, output []byte) {
	if msg.Reply == "" {
		return
	}
	out, err := wire.EncodeResponse(msg.Reply, resp, output)
	if err == nil {
		err = r.nc.PublishMsg(out)
	}
	if err != nil {
		r.log.Error("reply failed", "error", err)
	}
}

// Stop stops taking work, waits for in-flight invocations (or ctx), and
// releases the engine.
func (r *Runner) Stop(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if r.sub != nil {
			r.drainSubscription(ctx)
		}
		r.inflight.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn("stopping with invocations still running", "error", ctx.Err())
	}
	err := r.engine.Close(context.WithoutCancel(ctx))
	if r.ownedCache != nil {
		if cerr := r.ownedCache.Close(context.WithoutCancel(ctx)); err == nil {
			err = cerr
		}
	}
	return err
}

// drainSubscription stops new deliveries and lets the messages already
// buffered for this runner be handled, so no accepted work is dropped.
func (r *Runner) drainSubscription(ctx context.Context) {
	if err := r.sub.Drain(); err != nil {
		_ = r.sub.Unsubscribe()
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.sub.IsValid() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
