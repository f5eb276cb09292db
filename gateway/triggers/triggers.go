package triggers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/cron"
)

// Binding is one trigger of one function.
type Binding struct {
	Namespace string
	Function  string
	Type      string // "nats" or "cron"
	Subject   string
	Schedule  string
	Options   map[string]string // nats: queue, delivery (at-most-once | at-least-once)
}

// key identifies a binding across reconciliations.
func (b Binding) key() string {
	opts := make([]string, 0, len(b.Options))
	for k, v := range b.Options {
		opts = append(opts, k+"="+v)
	}
	sort.Strings(opts)
	return strings.Join([]string{b.Namespace, b.Function, b.Type, b.Subject, b.Schedule, strings.Join(opts, ",")}, "|")
}

func (b Binding) id() string {
	sum := sha256.Sum256([]byte(b.key()))
	return hex.EncodeToString(sum[:8])
}

// atLeastOnce reports whether a nats binding goes through JetStream.
func (b Binding) atLeastOnce() bool { return b.Options["delivery"] == "at-least-once" }

// Invoker runs functions for triggers; the gateway is one.
type Invoker interface {
	// Invoke runs the function now and returns its output.
	Invoke(ctx context.Context, ns, fn string, input []byte, mode string) ([]byte, error)
	// Enqueue queues an async invocation under id; the same id queued twice
	// runs once.
	Enqueue(ctx context.Context, ns, fn string, input []byte, mode, id string) error
}

// Source lists the bindings that should be running.
type Source func() []Binding

// DefaultTick is how often a manager made with a tick of zero reconciles
// and checks cron schedules.
const DefaultTick = time.Second

// maxCalls bounds the concurrent invocations of nats triggers.
const maxCalls = 256

// Manager keeps the running triggers in step with the source. Start runs
// it; Stop stops it.
type Manager struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	invoker  Invoker
	source   Source
	log      *slog.Logger
	tick     time.Duration
	replicas int // of the trigger streams
	now      func() time.Time

	// loopCtx ends when Stop begins: it aborts the loop's own NATS calls.
	loopCtx    context.Context
	cancelLoop context.CancelFunc
	// callCtx is the context of every call into the Invoker; it ends when
	// the context given to Stop ends.
	callCtx     context.Context
	cancelCalls context.CancelFunc
	quit        chan struct{} // closed when Stop begins
	loopDone    chan struct{} // closed when the loop has returned
	sem         chan struct{} // bounds concurrent nats trigger invocations

	mu       sync.Mutex
	started  bool
	stopped  bool
	running  map[string]*running // by binding key
	calls    sync.WaitGroup      // calls into the Invoker in progress; Add only under mu while !stopped
	stopOnce sync.Once
}

type running struct {
	b        Binding
	sub      *nats.Subscription       // nats, at-most-once
	cons     jetstream.ConsumeContext // nats, at-least-once
	schedule *cron.Schedule           // cron
	next     time.Time                // cron: the next fire time
}

// Config configures a Manager.
type Config struct {
	// Tick is how often the triggers are reconciled and cron schedules
	// checked; DefaultTick if zero or less.
	Tick time.Duration
	// Replicas is the JetStream replicas of the streams of at-least-once
	// NATS triggers (their consumers have as many); 1 if zero or less.
	Replicas int
}

// NewManager makes a manager that reconciles the triggers with source and
// fires cron schedules every cfg.Tick; Start runs it.
func NewManager(nc *nats.Conn, js jetstream.JetStream, invoker Invoker, source Source, log *slog.Logger, cfg Config) *Manager {
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	m := &Manager{nc: nc, js: js, invoker: invoker, source: source, log: log.With("component", "triggers"),
		tick: cfg.Tick, replicas: cfg.Replicas, now: time.Now, quit: make(chan struct{}), loopDone: make(chan struct{}),
		sem: make(chan struct{}, maxCalls), running: make(map[string]*running)}
	m.loopCtx, m.cancelLoop = context.WithCancel(context.Background())
	m.callCtx, m.cancelCalls = context.WithCancel(context.Background())
	return m
}

// Start runs the reconcile and cron loop in a goroutine of its own, until
// Stop. Starting a manager twice, or after Stop, does nothing.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.stopped {
		return
	}
	m.started = true
	go m.loop()
}

// Stop stops the loop and every trigger (subscriptions are unsubscribed,
// JetStream consumers stopped), then waits until no call into the Invoker
// is in progress. After Stop returns the Invoker is never called again. If
// ctx ends first, the calls still running have their context canceled and
// Stop waits for them to return, then returns ctx.Err(). Stop may be called
// more than once, and without Start.
func (m *Manager) Stop(ctx context.Context) error {
	m.stopOnce.Do(func() {
		m.cancelLoop() // first, so that a reconcile in progress gives up its NATS calls
		m.mu.Lock()
		m.stopped = true
		close(m.quit)
		if !m.started {
			close(m.loopDone)
		}
		for k, r := range m.running {
			r.stop()
			delete(m.running, k)
		}
		m.mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		<-m.loopDone
		m.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		m.cancelCalls()
		<-done
		return ctx.Err()
	}
}

// loop reconciles the triggers and fires cron schedules every tick until
// Stop.
func (m *Manager) loop() {
	defer close(m.loopDone)
	t := time.NewTicker(m.tick)
	defer t.Stop()
	for {
		m.reconcile()
		m.fireDue()
		select {
		case <-m.quit:
			return
		case <-t.C:
		}
	}
}

// enter counts a call into the Invoker that is about to begin; it is false
// once Stop has begun, and then the call must not be made. A true enter is
// paired with m.calls.Done.
func (m *Manager) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return false
	}
	m.calls.Add(1)
	return true
}

// reconcile starts new bindings and stops removed ones. Only the loop
// calls it; the NATS calls that start a binding are made without the lock,
// so Stop never waits for them.
func (m *Manager) reconcile() {
	want := make(map[string]Binding)
	for _, b := range m.source() {
		want[b.key()] = b
	}
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	var add []Binding
	for k, r := range m.running {
		if _, ok := want[k]; !ok {
			r.stop()
			delete(m.running, k)
		}
	}
	for k, b := range want {
		if _, ok := m.running[k]; !ok {
			add = append(add, b)
		}
	}
	m.mu.Unlock()
	for _, b := range add {
		if m.loopCtx.Err() != nil {
			return
		}
		r, err := m.start(m.loopCtx, b)
		if err != nil {
			if m.loopCtx.Err() == nil {
				m.log.Error("trigger not started", "function", b.Function, "type", b.Type, "error", err)
			}
			continue
		}
		m.mu.Lock()
		if m.stopped {
			r.stop()
		} else {
			m.running[b.key()] = r
		}
		m.mu.Unlock()
	}
}

func (m *Manager) start(ctx context.Context, b Binding) (*running, error) {
	r := &running{b: b}
	switch b.Type {
	case "cron":
		s, err := cron.Parse(b.Schedule)
		if err != nil {
			return nil, err
		}
		r.schedule, r.next = &s, s.Next(m.now())
	case "nats":
		if b.atLeastOnce() {
			return r, m.startJetStream(ctx, r)
		}
		queue := b.Options["queue"]
		if queue == "" {
			queue = "hearth-trigger-" + b.id()
		}
		sub, err := m.nc.QueueSubscribe(b.Subject, queue, func(msg *nats.Msg) { m.onMessage(b, msg) })
		if err != nil {
			return nil, err
		}
		r.sub = sub
	default:
		return nil, fmt.Errorf("unknown trigger type %q", b.Type)
	}
	return r, nil
}

// acquire takes one of the maxCalls slots of nats trigger invocations,
// waiting for one to free up; it is false once Stop has begun.
func (m *Manager) acquire() bool {
	select {
	case m.sem <- struct{}{}:
	case <-m.quit:
		return false
	}
	if !m.enter() {
		<-m.sem
		return false
	}
	return true
}

// release gives back what a true acquire took.
func (m *Manager) release() {
	<-m.sem
	m.calls.Done()
}

// onMessage invokes the function with the message data; a message with a
// reply subject gets the output (or a Hearth-Error header) back. A message
// that arrives once Stop has begun is dropped (at-most-once).
func (m *Manager) onMessage(b Binding, msg *nats.Msg) {
	if !m.acquire() {
		return
	}
	go func() {
		defer m.release()
		out, err := m.invoker.Invoke(m.callCtx, b.Namespace, b.Function, msg.Data, "nats")
		if msg.Reply == "" {
			return
		}
		reply := nats.NewMsg(msg.Reply)
		if err != nil {
			reply.Header.Set("Hearth-Error", err.Error())
		} else {
			reply.Data = out
		}
		_ = m.nc.PublishMsg(reply)
	}()
}

// startJetStream consumes the subject through a stream of its own (with
// the manager's replicas) and a durable consumer shared by all gateways,
// replicated as its stream: each message runs once or more until it
// succeeds (at most 5 deliveries).
func (m *Manager) startJetStream(ctx context.Context, r *running) error {
	name := "HEARTH_TRIGGER_" + strings.ToUpper(r.b.id())
	stream, err := m.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{r.b.Subject}, Storage: jetstream.FileStorage, Replicas: m.replicas,
		Retention: jetstream.WorkQueuePolicy, Description: "Hearth trigger of " + r.b.Namespace + "/" + r.b.Function,
	})
	if err != nil {
		return fmt.Errorf("stream for %s: %w (is the subject already captured by another stream?)", r.b.Subject, err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "hearth-trigger", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 5, AckWait: time.Minute,
	})
	if err != nil {
		return err
	}
	b := r.b
	cc, err := cons.Consume(func(msg jetstream.Msg) { m.onJetStream(b, msg) })
	if err != nil {
		return err
	}
	r.cons = cc
	return nil
}

// onJetStream invokes the function with a JetStream message and acks it,
// or naks it with a growing delay if the invocation fails. A message that
// arrives once Stop has begun is nak'ed at once, for another gateway.
func (m *Manager) onJetStream(b Binding, msg jetstream.Msg) {
	if !m.acquire() {
		_ = msg.Nak()
		return
	}
	go func() {
		defer m.release()
		if _, err := m.invoker.Invoke(m.callCtx, b.Namespace, b.Function, msg.Data(), "nats"); err != nil {
			md, _ := msg.Metadata()
			delay := time.Second
			if md != nil {
				delay <<= min(md.NumDelivered, 6)
			}
			_ = msg.NakWithDelay(delay)
			return
		}
		_ = msg.Ack()
	}()
}

// fireDue queues the cron invocations whose time has come. The invocation
// id is derived from the trigger and the fire time in whole seconds, so
// every gateway queues the same id and the stream keeps one; fire times are
// at least cron.MinEvery (1s) apart, so no two share an id.
func (m *Manager) fireDue() {
	now := m.now()
	m.mu.Lock()
	var due []Binding
	var times []time.Time
	for _, r := range m.running {
		for r.schedule != nil && !r.next.IsZero() && !r.next.After(now) {
			due, times = append(due, r.b), append(times, r.next)
			r.next = r.schedule.Next(r.next)
		}
	}
	m.mu.Unlock()
	for i, b := range due {
		if !m.enter() {
			return
		}
		id := "c" + b.id() + fmt.Sprintf("%x", times[i].Unix())
		if err := m.invoker.Enqueue(m.callCtx, b.Namespace, b.Function, nil, "cron", id); err != nil {
			m.log.Warn("cron invocation not queued", "function", b.Function, "schedule", b.Schedule, "error", err)
		}
		m.calls.Done()
	}
}

func (r *running) stop() {
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
	}
	if r.cons != nil {
		r.cons.Stop()
	}
}
