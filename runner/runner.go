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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/internal/wire"
)

// Runner serves invocations from NATS and reports itself in heartbeats.
type Runner struct {
	cfg     Config
	nc      *nats.Conn
	store   Store
	engine  *Engine
	log     *slog.Logger
	metrics *metrics

	sem  chan struct{}
	work chan *nats.Msg // to idle workers
	// workersDone, closed when the runner has stopped, ends idle workers.
	workersDone chan struct{}
	inflight    sync.WaitGroup
	draining    atomic.Bool
	// calls counts the calls running now by the gateway that sent them
	// (heartbeats report it).
	callsMu sync.Mutex
	calls   map[string]int
	subs    []*nats.Subscription
	// accepting orders Invoke's admission against Stop: once Stop has set
	// draining under the write lock, no Invoke adds to inflight.
	accepting sync.RWMutex
	started   bool
	startedAt time.Time // when Start took work: Heartbeat.Started
	stopOnce  sync.Once
	stopErr   error

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
		cfg:         cfg,
		nc:          nc,
		store:       store,
		engine:      NewEngine(StoreSource(store), cache),
		log:         log.With("component", "runner", "runner", cfg.ID),
		sem:         make(chan struct{}, cfg.Concurrency),
		calls:       make(map[string]int),
		work:        make(chan *nats.Msg),
		workersDone: make(chan struct{}),
	}
	if ownCache {
		r.ownedCache = cache
	}
	r.metrics = newMetrics(r)
	r.engine.SetTieredStart(!cfg.NoTieredStart)
	r.engine.log = r.log
	if cfg.CacheDir != "" {
		r.engine.shared = newSharedCache(store, cfg.CacheDir, r.log)
	}
	return r, nil
}

// ID is the runner's id.
func (r *Runner) ID() string { return r.cfg.ID }

// Metrics gathers the runner's series (hearth_runner_*, docs/metrics.md),
// a registry of its own: the process's Go and NATS series are not in it.
func (r *Runner) Metrics() prometheus.Gatherer { return r.metrics.registry }

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
	r.accepting.Lock()
	r.started = true
	r.startedAt = time.Now().UTC()
	r.accepting.Unlock()
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
	select {
	case r.work <- msg: // an idle worker takes it
	default:
		go r.worker(msg)
	}
}

// workerIdle is how long a worker goroutine waits for more work before it
// exits.
const workerIdle = 10 * time.Second

// worker handles msg, then further messages, until it has been idle for
// workerIdle or the runner stops. Reusing goroutines keeps their stacks
// grown: a fresh goroutine per call grew (copied) its stack on the way
// into wazero on every call. At most Concurrency workers exist, as each
// holds a slot while it works.
func (r *Runner) worker(msg *nats.Msg) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		r.handle(msg)
		<-r.sem
		r.inflight.Done()
		idle.Reset(workerIdle)
		select {
		case msg = <-r.work:
		case <-idle.C:
			return
		case <-r.workersDone:
			return
		}
	}
}

func (r *Runner) handle(msg *nats.Msg) {
	req, body, err := wire.DecodeRequest(msg)
	if err != nil {
		r.reply(msg, &wire.Response{Error: &wire.Error{Code: wire.CodeBadRequest, Message: err.Error()}}, nil)
		return
	}
	resp, output := r.run(context.Background(), req, body, r.inlineLimit())
	r.reply(msg, resp, output)
}

// Invoke runs one invocation handed over in this process rather than
// through NATS: the path a gateway in the same process takes (`hearth
// dev`). It shares the runner's concurrency slots with NATS deliveries,
// waiting for one until ctx ends, and counts in the runner's drain. The
// invocation runs to its own time limit even if ctx ends meanwhile, as a
// NATS delivery does. It returns wire.ErrNotTaking when the runner is not
// taking work (not started, draining or stopped). Outputs are never
// claim-checked, since no message carries them.
func (r *Runner) Invoke(ctx context.Context, req *wire.Request, body []byte) (*wire.Response, []byte, error) {
	r.accepting.RLock()
	if !r.started || r.draining.Load() {
		r.accepting.RUnlock()
		return nil, nil, wire.ErrNotTaking
	}
	r.inflight.Add(1)
	r.accepting.RUnlock()
	defer r.inflight.Done()
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-r.sem }()
	resp, output := r.run(context.WithoutCancel(ctx), req, body, 0)
	return resp, output, nil
}

// run executes one invocation and builds its answer. Outputs above
// inlineLimit (0: no limit) go to the object store (claim check).
func (r *Runner) run(ctx context.Context, req *wire.Request, body []byte, inlineLimit int) (*wire.Response, []byte) {
	r.count(req.Gateway, 1)
	defer r.count(req.Gateway, -1)
	if req.BodyRef != "" { // claim check: the body waits in the object store
		var err error
		if body, err = r.store.Get(ctx, req.BodyRef); err != nil {
			return &wire.Response{Runner: r.cfg.ID, Error: &wire.Error{Code: wire.CodeInternal, Message: "fetch request body: " + err.Error()}}, nil
		}
	}
	var span tracing.Span
	if r.cfg.Tracer.Exporting() { // else the trace id in the logs is all
		parent, _ := tracing.Parse(req.Traceparent)
		span = r.cfg.Tracer.Start(ctx, parent, "run "+req.Function, tracing.KindConsumer)
	}
	res := r.engine.Run(ctx, req, body, r.cfg.OutputLimit)
	r.metrics.count(req, &res)
	if span.Recording() {
		span.String("hearth.invocation_id", req.InvocationID)
		span.String("hearth.function", req.Function)
		span.Int("hearth.version", req.Version)
		span.String("hearth.runner", r.cfg.ID)
		span.Bool("hearth.cold", res.Cold)
		if res.Err != nil {
			span.Fail(res.Err.Code + ": " + res.Err.Message)
		}
		span.End()
	}
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
		if inlineLimit > 0 && len(output) > inlineLimit { // claim check for the output
			key := wire.ResultKey(req.InvocationID)
			if err := r.store.Put(ctx, key, output, "application/octet-stream"); err != nil {
				resp.Error = &wire.Error{Code: wire.CodeInternal, Message: "store output: " + err.Error()}
			}
			resp.OutputRef, output = key, nil
		}
	}
	if res.Err != nil {
		r.log.Info("invocation failed", req.LogArgs("function", req.Function, "code", res.Err.Code, "error", res.Err.Message)...)
	} else if r.log.Enabled(ctx, slog.LevelDebug) {
		r.log.Debug("invocation done", req.LogArgs("function", req.Function, "cold", res.Cold, "run", res.Run)...)
	}
	return resp, output
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
		r.metrics.natsErrors.WithLabelValues("reply").Inc()
		r.log.Error("reply failed", "error", err)
	}
}

// count adds delta to the calls in flight from gateway.
func (r *Runner) count(gateway string, delta int) {
	r.callsMu.Lock()
	defer r.callsMu.Unlock()
	if n := r.calls[gateway] + delta; n > 0 {
		r.calls[gateway] = n
	} else {
		delete(r.calls, gateway)
	}
}

// inFlight is the number of calls running now, in all and by gateway.
func (r *Runner) inFlight() (int, map[string]int) {
	r.callsMu.Lock()
	defer r.callsMu.Unlock()
	if len(r.calls) == 0 {
		return 0, nil
	}
	by := make(map[string]int, len(r.calls))
	total := 0
	for g, n := range r.calls {
		by[g] = n
		total += n
	}
	return total, by
}

// inlineLimit is the largest output sent inside the NATS reply.
func (r *Runner) inlineLimit() int { return wire.InlineLimit(r.nc.MaxPayload()) }

// Heartbeat is the runner's current report.
func (r *Runner) Heartbeat() wire.Heartbeat {
	inFlight, by := r.inFlight()
	warm, memory := r.engine.Warm()
	state := wire.StateReady
	if r.draining.Load() {
		state = wire.StateDraining
	}
	return wire.Heartbeat{
		ID:          r.cfg.ID,
		State:       state,
		Capacity:    r.cfg.Concurrency,
		InFlight:    inFlight,
		InFlightBy:  by,
		MemoryBytes: memory,
		Warm:        warm,
		Started:     r.startedAt,
		Time:        time.Now().UTC(),
	}
}

func (r *Runner) publishHeartbeat(hb wire.Heartbeat) {
	data, err := json.Marshal(hb)
	if err == nil {
		err = r.nc.Publish(wire.HeartbeatPrefix+r.cfg.ID, data)
	}
	if err != nil {
		r.metrics.natsErrors.WithLabelValues("heartbeat").Inc()
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
				r.metrics.retiredInstances(retireIdle, n)
				r.log.Debug("retired idle instances", "count", n)
			}
		}
	}
}

// Stop drains the runner: it announces "draining", stops taking work, lets
// the invocations it has (in flight or already delivered) finish, or gives
// up when ctx ends, then announces "stopped" and releases the engine.
// Calling it again returns the first call's result.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { r.stopErr = r.stop(ctx) })
	return r.stopErr
}

func (r *Runner) stop(ctx context.Context) error {
	r.accepting.Lock()
	r.draining.Store(true)
	r.accepting.Unlock()
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
	close(r.workersDone)
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
