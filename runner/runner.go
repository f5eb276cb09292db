// Package runner executes functions: it takes invocations from NATS, fetches
// modules from the object store by digest, compiles them with wazero (with a
// compilation cache on disk, shared between runners through S3) and runs
// them in sandboxes with memory, time and output limits — a fresh instance
// per call for WASI commands, pooled warm instances for reactors.
package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/wire"
)

// Runner serves invocations from NATS and reports itself in heartbeats.
type Runner struct {
	cfg    Config
	nc     *nats.Conn
	store  Store
	engine *Engine
	log    *slog.Logger

	sem      chan struct{}
	inflight sync.WaitGroup
	running  atomic.Int64
	draining atomic.Bool
	subs     []*nats.Subscription

	stopLoops context.CancelFunc
	loopsDone sync.WaitGroup

	ownedCache wazero.CompilationCache // closed on Stop
}

// Store is the object store a runner uses: modules by digest, compiled code
// shared with other runners, and payloads too large for a NATS message
// (claim checks). *objstore.Store is one.
type Store interface {
	SharedStore
}

// New makes a runner that takes work from nc and modules, shared compiled
// code (when cfg.CacheDir is set) and large payloads from store.
func New(cfg Config, nc *nats.Conn, store Store, log *slog.Logger) (*Runner, error) {
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
		store:  store,
		engine: NewEngine(StoreSource(store), cache),
		log:    log.With("component", "runner", "runner", cfg.ID),
		sem:    make(chan struct{}, cfg.Concurrency),
	}
	if ownCache {
		r.ownedCache = cache
	}
	if cfg.CacheDir != "" {
		r.engine.shared = newSharedCache(store, cfg.CacheDir, r.log)
	}
	return r, nil
}

// ID is the runner's id.
func (r *Runner) ID() string { return r.cfg.ID }

// Engine is the runner's wazero engine; the autoscaler's hooks (Prewarm,
// RetireIdle) are on it.
func (r *Runner) Engine() *Engine { return r.engine }

// Start subscribes to invocations and starts heartbeats and the retirement
// of idle instances. Work runs until Stop.
func (r *Runner) Start() error {
	// Work placed on this runner by a scheduler, and work for any runner
	// (a gateway that has no heartbeats yet).
	direct, err := r.nc.Subscribe(wire.RunnerSubject(r.cfg.ID), r.dispatch)
	if err != nil {
		return fmt.Errorf("runner: subscribe: %w", err)
	}
	shared, err := r.nc.QueueSubscribe(wire.InvokeSubject, wire.RunnerQueue, r.dispatch)
	if err != nil {
		_ = direct.Unsubscribe()
		return fmt.Errorf("runner: subscribe: %w", err)
	}
	control, err := r.nc.Subscribe(wire.ControlSubject(r.cfg.ID), r.handleControl)
	if err != nil {
		_ = direct.Unsubscribe()
		_ = shared.Unsubscribe()
		return fmt.Errorf("runner: subscribe: %w", err)
	}
	r.subs = []*nats.Subscription{direct, shared, control}
	// The subscriptions must be known to the server before Start returns,
	// so that a gateway can send work right away.
	if err := r.nc.Flush(); err != nil {
		for _, sub := range r.subs {
			_ = sub.Unsubscribe()
		}
		return fmt.Errorf("runner: flush subscription: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stopLoops = cancel
	r.loopsDone.Add(2)
	go r.heartbeatLoop(ctx)
	go r.retireLoop(ctx)
	r.log.Info("runner started", "concurrency", r.cfg.Concurrency, "cache_dir", r.cfg.CacheDir)
	return nil
}

// dispatch hands one message to a worker goroutine; when the runner is at
// its concurrency limit it blocks, so further messages wait in the
// subscription's pending buffer.
func (r *Runner) dispatch(msg *nats.Msg) {
	r.sem <- struct{}{}
	r.inflight.Add(1)
	r.running.Add(1)
	go func() {
		defer func() { r.running.Add(-1); <-r.sem; r.inflight.Done() }()
		r.handle(msg)
	}()
}

func (r *Runner) handle(msg *nats.Msg) {
	req, body, err := wire.DecodeRequest(msg)
	if err != nil {
		r.reply(msg, &wire.Response{Error: &wire.Error{Code: wire.CodeBadRequest, Message: err.Error()}}, nil)
		return
	}
	ctx := context.Background()
	if req.BodyRef != "" { // claim check: the body waits in the object store
		if body, err = r.store.Get(ctx, req.BodyRef); err != nil {
			r.reply(msg, &wire.Response{Runner: r.cfg.ID, Error: &wire.Error{Code: wire.CodeInternal, Message: "fetch request body: " + err.Error()}}, nil)
			return
		}
	}
	res := r.engine.Run(ctx, req, body, r.cfg.OutputLimit)
	resp := &wire.Response{
		Error:      res.Err,
		Stderr:     res.Stderr,
		Cold:       res.Cold,
		InitMicros: res.Init.Microseconds(),
		RunMicros:  res.Run.Microseconds(),
		Runner:     r.cfg.ID,
	}
	var output []byte
	if res.Response != nil {
		resp.Status, resp.Headers, output = res.Response.Status, res.Response.Headers, res.Response.Body
		if len(output) > r.inlineLimit() { // claim check for the output
			key := wire.ResultKey(req.InvocationID)
			if err := r.store.Put(ctx, key, output, "application/octet-stream"); err != nil {
				resp.Error = &wire.Error{Code: wire.CodeInternal, Message: "store output: " + err.Error()}
			}
			resp.OutputRef, output = key, nil
		}
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

// inlineLimit is the largest output sent inside the NATS reply.
func (r *Runner) inlineLimit() int { return wire.InlineLimit(r.nc.MaxPayload()) }

// Heartbeat is the runner's current report.
func (r *Runner) Heartbeat() wire.Heartbeat {
	warm, memory := r.engine.Warm()
	state := wire.StateReady
	if r.draining.Load() {
		state = wire.StateDraining
	}
	return wire.Heartbeat{
		ID:          r.cfg.ID,
		State:       state,
		Capacity:    r.cfg.Concurrency,
		InFlight:    int(r.running.Load()),
		MemoryBytes: memory,
		Warm:        warm,
		Time:        time.Now().UTC(),
	}
}

func (r *Runner) publishHeartbeat(hb wire.Heartbeat) {
	data, err := json.Marshal(hb)
	if err == nil {
		err = r.nc.Publish(wire.HeartbeatPrefix+r.cfg.ID, data)
	}
	if err != nil {
		r.log.Warn("heartbeat not sent", "error", err)
	}
}

func (r *Runner) heartbeatLoop(ctx context.Context) {
	defer r.loopsDone.Done()
	tick := time.NewTicker(r.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		r.publishHeartbeat(r.Heartbeat())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// retireLoop closes reactor instances that have been idle for IdleTTL.
func (r *Runner) retireLoop(ctx context.Context) {
	defer r.loopsDone.Done()
	tick := time.NewTicker(max(r.cfg.IdleTTL/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n := r.engine.RetireIdle(r.cfg.IdleTTL, 0); n > 0 {
				r.log.Debug("retired idle instances", "count", n)
			}
		}
	}
}

// Stop drains the runner: it announces "draining", stops taking work, lets
// the invocations it has (in flight or already delivered) finish, or gives
// up when ctx ends, then announces "stopped" and releases the engine.
func (r *Runner) Stop(ctx context.Context) error {
	r.draining.Store(true)
	r.publishHeartbeat(r.Heartbeat())
	done := make(chan struct{})
	go func() {
		defer close(done)
		drainSubscriptions(ctx, r.subs)
		r.inflight.Wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn("stopping with invocations still running", "error", ctx.Err())
	}
	if r.stopLoops != nil {
		r.stopLoops()
		r.loopsDone.Wait()
	}
	hb := r.Heartbeat()
	hb.State = wire.StateStopped
	r.publishHeartbeat(hb)
	_ = r.nc.Flush()
	err := r.engine.Close(context.WithoutCancel(ctx))
	if r.ownedCache != nil {
		if cerr := r.ownedCache.Close(context.WithoutCancel(ctx)); err == nil {
			err = cerr
		}
	}
	r.log.Info("runner stopped")
	return err
}

// drainSubscriptions stops new deliveries and lets the messages already
// buffered for this runner be handled, so no accepted work is dropped.
func drainSubscriptions(ctx context.Context, subs []*nats.Subscription) {
	for _, sub := range subs {
		if err := sub.Drain(); err != nil {
			_ = sub.Unsubscribe()
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for _, sub := range subs {
		for sub.IsValid() {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}
