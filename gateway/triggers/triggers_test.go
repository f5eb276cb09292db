package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

// blockingInvoker is an Invoker whose Invoke blocks until release is
// closed, whatever its context says. Once afterStop is set, any call is a
// violation: the manager promised never to call it again.
type blockingInvoker struct {
	release   chan struct{}
	afterStop atomic.Bool
	violation atomic.Int32

	mu       sync.Mutex
	inputs   []string
	ctxs     []context.Context
	returned int
	enqueued []string
}

func newBlockingInvoker() *blockingInvoker { return &blockingInvoker{release: make(chan struct{})} }

func (inv *blockingInvoker) Invoke(ctx context.Context, ns, fn string, input []byte, mode string) ([]byte, error) {
	if inv.afterStop.Load() {
		inv.violation.Add(1)
	}
	inv.mu.Lock()
	inv.inputs = append(inv.inputs, string(input))
	inv.ctxs = append(inv.ctxs, ctx)
	inv.mu.Unlock()
	<-inv.release
	inv.mu.Lock()
	inv.returned++
	inv.mu.Unlock()
	return []byte("out:" + string(input)), ctx.Err()
}

func (inv *blockingInvoker) Enqueue(ctx context.Context, ns, fn string, input []byte, mode, id string) error {
	if inv.afterStop.Load() {
		inv.violation.Add(1)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.enqueued = append(inv.enqueued, id)
	return nil
}

// started is how many Invoke calls have begun, and the context of the first.
func (inv *blockingInvoker) started() (int, context.Context) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if len(inv.ctxs) == 0 {
		return 0, nil
	}
	return len(inv.ctxs), inv.ctxs[0]
}

func (inv *blockingInvoker) returnedCalls() int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.returned
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func connect(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := testutil.ConnectNATS(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// waitRunning polls until the manager runs n bindings.
func waitRunning(t *testing.T, m *Manager, n int) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.running) != n {
			return fmt.Errorf("%d bindings running, want %d", len(m.running), n)
		}
		return nil
	})
}

type stopResult struct {
	err      error
	returned int // Invoke calls that had returned when Stop returned
}

// stopWhileInvoking calls Stop with a short context while an Invoke is
// blocked, and checks that Stop cancels the call's context but does not
// return before the call does.
func stopWhileInvoking(t *testing.T, m *Manager, inv *blockingInvoker) {
	t.Helper()
	stopped := make(chan stopResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := m.Stop(ctx)
		stopped <- stopResult{err, inv.returnedCalls()}
	}()
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ctx := inv.started(); ctx.Err() == nil {
			return errors.New("the running call's context is not canceled")
		}
		return nil
	})
	select {
	case r := <-stopped:
		t.Fatalf("Stop returned (%v) while Invoke was still running", r.err)
	default:
	}
	close(inv.release)
	var r stopResult
	select {
	case r = <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after Invoke returned")
	}
	inv.afterStop.Store(true)
	n, _ := inv.started()
	if r.returned != n {
		t.Errorf("Stop returned when %d of %d Invoke calls had returned", r.returned, n)
	}
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want %v", r.err, context.DeadlineExceeded)
	}
}

// TestStopWaitsForInvoke: Stop does not return while a NATS trigger's
// invocation runs, and after Stop no message reaches the Invoker.
func TestStopWaitsForInvoke(t *testing.T) {
	nc, js := connect(t)
	inv := newBlockingInvoker()
	b := Binding{Namespace: "default", Function: "f", Type: "nats", Subject: "orders.created"}
	m := NewManager(nc, js, inv, func() []Binding { return []Binding{b} }, discard(), Config{Tick: 10 * time.Millisecond})
	m.Start()
	waitRunning(t, m, 1)

	// The manager subscribed on nc, so a message published on nc now
	// reaches its subscription.
	if err := nc.Publish(b.Subject, []byte("before")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if n, _ := inv.started(); n == 0 {
			return errors.New("Invoke not called")
		}
		return nil
	})
	stopWhileInvoking(t, m, inv)

	// Messages after Stop: the server delivers them (a second subscriber
	// gets them), the Invoker never sees them.
	watch, err := nc.SubscribeSync(b.Subject)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := nc.Publish(b.Subject, fmt.Appendf(nil, "after %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		if _, err := watch.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// A delivery that raced with Stop reaches the callback after it: it
	// is dropped.
	m.onMessage(b, &nats.Msg{Subject: b.Subject, Data: []byte("late")})
	if err := m.Stop(context.Background()); err != nil { // waits for anything that slipped through
		t.Fatal(err)
	}
	if v := inv.violation.Load(); v != 0 {
		t.Errorf("the Invoker was called %d times after Stop returned", v)
	}
	if n, _ := inv.started(); n != 1 {
		t.Errorf("Invoke called %d times, want 1 (%q)", n, inv.inputs)
	}
}

// fakeMsg is a JetStream message that records how it was settled.
type fakeMsg struct {
	jetstream.Msg
	data  []byte
	naked atomic.Bool
}

func (f *fakeMsg) Data() []byte { return f.data }
func (f *fakeMsg) Nak() error   { f.naked.Store(true); return nil }

// TestStopJetStream: Stop waits for an at-least-once invocation too; a
// message published after Stop stays in the stream and runs on the next
// manager, not on the stopped one, and a delivery that races with Stop is
// nak'ed.
func TestStopJetStream(t *testing.T) {
	nc, js := connect(t)
	inv := newBlockingInvoker()
	b := Binding{Namespace: "default", Function: "f", Type: "nats", Subject: "payments.settled",
		Options: map[string]string{"delivery": "at-least-once"}}
	source := func() []Binding { return []Binding{b} }
	m := NewManager(nc, js, inv, source, discard(), Config{Tick: 10 * time.Millisecond})
	m.Start()
	waitRunning(t, m, 1)

	ctx := context.Background()
	if _, err := js.Publish(ctx, b.Subject, []byte("before")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if n, _ := inv.started(); n == 0 {
			return errors.New("Invoke not called")
		}
		return nil
	})
	stopWhileInvoking(t, m, inv)

	if _, err := js.Publish(ctx, b.Subject, []byte("after")); err != nil {
		t.Fatal(err)
	}
	late := &fakeMsg{data: []byte("late")}
	m.onJetStream(b, late)
	if !late.naked.Load() {
		t.Error("a JetStream delivery after Stop was not nak'ed")
	}

	// The next manager (another gateway, or this one restarted) runs it.
	next := newBlockingInvoker()
	close(next.release)
	m2 := NewManager(nc, js, next, source, discard(), Config{Tick: 10 * time.Millisecond})
	m2.Start()
	t.Cleanup(func() { _ = m2.Stop(context.Background()) })
	testutil.Eventually(t, 10*time.Second, func() error {
		next.mu.Lock()
		defer next.mu.Unlock()
		for _, in := range next.inputs {
			if in == "after" {
				return nil
			}
		}
		return fmt.Errorf("the next manager ran %q, not yet the message published after Stop", next.inputs)
	})
	if v := inv.violation.Load(); v != 0 {
		t.Errorf("the stopped manager's Invoker was called %d times after Stop returned", v)
	}
}

// TestStopWithoutStart: Stop needs no Start, may be called twice, and a
// Start after Stop runs nothing.
func TestStopWithoutStart(t *testing.T) {
	var asked atomic.Int32
	m := NewManager(nil, nil, newBlockingInvoker(), func() []Binding { asked.Add(1); return nil }, discard(), Config{})
	if m.tick != DefaultTick {
		t.Errorf("tick = %s, want %s", m.tick, DefaultTick)
	}
	for range 2 {
		if err := m.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	m.Start()
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the source was asked %d times after Stop", n)
	}
}

// TestCronEveryFractional is a regression test: @every 1.5s ran every
// 1 s; over 6 s it fires 4 times, one id per fire time.
func TestCronEveryFractional(t *testing.T) {
	inv := newBlockingInvoker()
	b := Binding{Namespace: "default", Function: "f", Type: "cron", Schedule: "@every 1.5s"}
	m := NewManager(nil, nil, inv, func() []Binding { return []Binding{b} }, discard(), Config{Tick: time.Second})
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a multiple of 1.5 s since the epoch
	m.now = func() time.Time { return now }
	m.reconcile()
	for range 12 {
		now = now.Add(500 * time.Millisecond)
		m.fireDue()
	}
	want := []string{}
	for _, s := range []float64{1.5, 3, 4.5, 6} {
		at := time.Date(2026, 11, 23, 10, 0, 0, int(s*1e9), time.UTC)
		want = append(want, "c"+b.id()+fmt.Sprintf("%x", at.Unix()))
	}
	if fmt.Sprint(inv.enqueued) != fmt.Sprint(want) {
		t.Errorf("enqueued %q, want %q", inv.enqueued, want)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	inv.afterStop.Store(true)
	m.fireDue()
	if v := inv.violation.Load(); v != 0 {
		t.Errorf("cron enqueued %d times after Stop", v)
	}
}
