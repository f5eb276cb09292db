// Package triggers runs the event sources that invoke functions: NATS
// subjects (a queue group, at-most-once, with request-reply; or a
// JetStream consumer, at-least-once) and cron schedules, which fire once
// per tick however many gateways run them.
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

// Manager keeps the running triggers in step with the source.
type Manager struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	invoker Invoker
	source  Source
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	running map[string]*running // by binding key
	sem     chan struct{}       // bounds concurrent trigger invocations
}

type running struct {
	b    Binding
	sub  *nats.Subscription       // nats, at-most-once
	cons jetstream.ConsumeContext // nats, at-least-once
	cron Schedule                 // cron
	next time.Time                // cron: the next fire time
}

// NewManager makes a manager; Run starts it.
func NewManager(nc *nats.Conn, js jetstream.JetStream, invoker Invoker, source Source, log *slog.Logger) *Manager {
	return &Manager{nc: nc, js: js, invoker: invoker, source: source, log: log.With("component", "triggers"),
		now: time.Now, running: make(map[string]*running), sem: make(chan struct{}, 256)}
}

// Run reconciles the triggers and fires cron schedules every tick until ctx
// ends, then stops every trigger.
func (m *Manager) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	defer m.stopAll()
	for {
		m.reconcile(ctx)
		m.fireDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcile starts new bindings and stops removed ones.
func (m *Manager) reconcile(ctx context.Context) {
	want := make(map[string]Binding)
	for _, b := range m.source() {
		want[b.key()] = b
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, r := range m.running {
		if _, ok := want[k]; !ok {
			r.stop()
			delete(m.running, k)
		}
	}
	for k, b := range want {
		if _, ok := m.running[k]; ok {
			continue
		}
		r, err := m.start(ctx, b)
		if err != nil {
			m.log.Error("trigger not started", "function", b.Function, "type", b.Type, "error", err)
			continue
		}
		m.running[k] = r
	}
}

func (m *Manager) start(ctx context.Context, b Binding) (*running, error) {
	r := &running{b: b}
	switch b.Type {
	case "cron":
		s, err := ParseSchedule(b.Schedule)
		if err != nil {
			return nil, err
		}
		r.cron, r.next = s, s.Next(m.now())
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

// onMessage invokes the function with the message data; a message with a
// reply subject gets the output (or a Hearth-Error header) back.
func (m *Manager) onMessage(b Binding, msg *nats.Msg) {
	m.sem <- struct{}{}
	go func() {
		defer func() { <-m.sem }()
		out, err := m.invoker.Invoke(context.Background(), b.Namespace, b.Function, msg.Data, "nats")
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

// startJetStream consumes the subject through a stream of its own and a
// durable consumer shared by all gateways: each message runs once or more
// until it succeeds (at most 5 deliveries).
func (m *Manager) startJetStream(ctx context.Context, r *running) error {
	name := "HEARTH_TRIGGER_" + strings.ToUpper(r.b.id())
	stream, err := m.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{r.b.Subject}, Storage: jetstream.FileStorage,
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
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		m.sem <- struct{}{}
		go func() {
			defer func() { <-m.sem }()
			if _, err := m.invoker.Invoke(context.Background(), r.b.Namespace, r.b.Function, msg.Data(), "nats"); err != nil {
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
	})
	if err != nil {
		return err
	}
	r.cons = cc
	return nil
}

// fireDue queues the cron invocations whose time has come. The invocation
// id is derived from the trigger and the fire time, so every gateway queues
// the same id and the stream keeps one.
func (m *Manager) fireDue(ctx context.Context) {
	now := m.now()
	m.mu.Lock()
	var due []Binding
	var times []time.Time
	for _, r := range m.running {
		for r.cron != nil && !r.next.IsZero() && !r.next.After(now) {
			due, times = append(due, r.b), append(times, r.next)
			r.next = r.cron.Next(r.next)
		}
	}
	m.mu.Unlock()
	for i, b := range due {
		id := "c" + b.id() + fmt.Sprintf("%x", times[i].Unix())
		if err := m.invoker.Enqueue(ctx, b.Namespace, b.Function, nil, "cron", id); err != nil {
			m.log.Warn("cron invocation not queued", "function", b.Function, "schedule", b.Schedule, "error", err)
		}
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

func (m *Manager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, r := range m.running {
		r.stop()
		delete(m.running, k)
	}
}

// Bindings lists the running triggers.
func (m *Manager) Bindings() []Binding {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Binding, 0, len(m.running))
	for _, r := range m.running {
		out = append(out, r.b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}
