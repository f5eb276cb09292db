package async_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// A harness runs a Queue and its dispatcher on a real NATS server with
// the real records and outputs buckets; only what runs a function (the
// Executor), the registry and the object store are stand-ins, so a test
// can see how often a function ran and make reads of the store fail.
type harness struct {
	t       *testing.T
	nc      *nats.Conn
	js      jetstream.JetStream
	q       *async.Queue
	records *records.Store
	outputs *records.Outputs
	store   *memStore
	exec    *stubExecutor
	fns     *stubFunctions
	bg      sync.WaitGroup // faults scheduled to end later
}

func newHarness(t *testing.T, cfg async.Config) *harness {
	t.Helper()
	h := &harness{t: t, store: newMemStore(), exec: &stubExecutor{runs: map[string]int{}}, fns: &stubFunctions{}}
	h.nc = testutil.ConnectNATS(t)
	t.Cleanup(h.bg.Wait) // before the server stops
	var err error
	if h.js, err = jetstream.New(h.nc); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if h.records, err = records.OpenStore(ctx, h.js, time.Hour, 1); err != nil {
		t.Fatal(err)
	}
	if h.outputs, err = records.OpenOutputs(ctx, h.js, h.store, time.Hour, 1); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	h.q, err = async.Open(ctx, cfg, async.Deps{
		JS: h.js, Store: h.store, Records: h.records, Outputs: h.outputs, Functions: h.fns, Executor: h.exec,
		InlineLimit: func() int { return 1 << 20 }, Metrics: async.NewMetrics(prometheus.NewRegistry()), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.q.StartDispatcher(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.q.Stop(ctx)
	})
	return h
}

// testWriter sends log lines to the test's log (go test -v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// enqueue queues an async invocation of fn and returns its id.
func (h *harness) enqueue(fn, body, callback string) string {
	h.t.Helper()
	id := nuid.Next()
	inv := &invocation.Invocation{Namespace: "default", Function: fn, Body: []byte(body),
		Req: &wire.Request{InvocationID: id, Namespace: "default", Function: fn, Version: 1}}
	if _, err := h.q.Enqueue(context.Background(), inv, "async", callback, ""); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// record reads an invocation's record; nil when there is none.
func (h *harness) record(id, fn string) *records.Record {
	h.t.Helper()
	rec, err := h.records.GetFor(context.Background(), "default", fn, id)
	if errors.Is(err, records.ErrNoRecord) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// queued is how many messages the async stream holds.
func (h *harness) queued() uint64 {
	h.t.Helper()
	s, err := h.js.Stream(context.Background(), async.AsyncStream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return info.State.Msgs
}

// deliveries is how many deliveries the dispatchers' consumer made.
func (h *harness) deliveries() uint64 {
	h.t.Helper()
	c, err := h.js.Consumer(context.Background(), async.AsyncStream, async.DispatcherConsumer)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return info.Delivered.Consumer
}

// recordsWritable makes the records bucket take writes or refuse them: a
// refused write finds no stream for its subject (as while the bucket's
// stream has no leader), while reads still work. Safe to call from any
// goroutine: a failure fails the test without stopping it.
func (h *harness) recordsWritable(on bool) {
	ctx := context.Background()
	s, err := h.js.Stream(ctx, "KV_"+records.RecordsBucket)
	if err != nil {
		h.t.Error(err)
		return
	}
	cfg := s.CachedInfo().Config
	cfg.Subjects = []string{"$KV." + records.RecordsBucket + ".>"}
	if !on {
		cfg.Subjects = []string{"hearth.test.records-off.>"}
	}
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		h.t.Error(err)
	}
}

// notLost fails the test if the async stream no longer has the
// invocation while its record is not final: it was acknowledged before
// its outcome was stored, and is lost. The stream is read first: a
// dispatcher stores the record before it acknowledges the message.
func (h *harness) notLost(id, fn string) {
	h.t.Helper()
	n := h.queued()
	if rec := h.record(id, fn); n == 0 && (rec == nil || !rec.Finished()) {
		status := "no record"
		if rec != nil {
			status = "record " + rec.Status
		}
		h.t.Fatalf("invocation %s lost: %s and the async stream is empty (acknowledged before its final record was stored)", id, status)
	}
}

// stubExecutor runs no function: it counts the runs of each invocation,
// calls hook (when set) and returns what outcome returns (by default a
// success with the output "ran <body>").
type stubExecutor struct {
	mu      sync.Mutex
	runs    map[string]int
	hook    func(inv *invocation.Invocation)
	outcome func(inv *invocation.Invocation) invocation.Outcome
}

func (e *stubExecutor) Execute(ctx context.Context, inv *invocation.Invocation, class scheduler.Class) invocation.Outcome {
	e.mu.Lock()
	e.runs[inv.Req.InvocationID]++
	hook, outcome := e.hook, e.outcome
	e.mu.Unlock()
	if hook != nil {
		hook(inv)
	}
	if outcome != nil {
		return outcome(inv)
	}
	return invocation.Outcome{Status: 200, Total: time.Millisecond, Output: []byte("ran " + string(inv.Body)),
		Resp: &wire.Response{Status: 200, Runner: "runner-1", RunMicros: 1000}}
}

func (e *stubExecutor) ran(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[id]
}

// stubFunctions finds every function but those in gone.
type stubFunctions struct {
	mu   sync.Mutex
	gone map[string]bool
	hook func(fn string)
}

func (f *stubFunctions) Lookup(ctx context.Context, ns, name string) (*registry.Function, error) {
	f.mu.Lock()
	gone, hook := f.gone[name], f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(name)
	}
	if gone {
		return nil, registry.ErrNotFound
	}
	return &registry.Function{Namespace: ns, Name: name}, nil
}

// memStore is an object store in memory whose reads of some keys fail.
type memStore struct {
	mu       sync.Mutex
	objects  map[string][]byte
	failRead func(key string) bool
}

func newMemStore() *memStore { return &memStore{objects: map[string][]byte{}} }

func (s *memStore) Put(ctx context.Context, key string, data []byte, contentType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = append([]byte(nil), data...)
	return nil
}

func (s *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRead != nil && s.failRead(key) {
		return nil, fmt.Errorf("read %s: connection reset by peer", key)
	}
	data, ok := s.objects[key]
	if !ok {
		return nil, objstore.ErrNotFound
	}
	return data, nil
}

func (s *memStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

// callbackSink is a callback server that keeps what it is sent.
type callbackSink struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // "<Hearth-Status> <body>"
}

func newCallbackSink(t *testing.T) *callbackSink {
	s := &callbackSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, r.Header.Get("Hearth-Status")+" "+string(body))
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *callbackSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}
