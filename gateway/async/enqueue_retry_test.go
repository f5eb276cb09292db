package async_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// ackDropper is a TCP proxy between a NATS client and its server that,
// while armed, drops the next JetStream ack of the async stream on its way
// to the client: the message is stored, the client never hears so, as
// when a stream leader stores and replicates a message and dies before it
// answers.
type ackDropper struct {
	ln      net.Listener
	server  string
	armed   atomic.Bool
	dropped atomic.Int32
	wg      sync.WaitGroup
}

func newAckDropper(t *testing.T, server string) *ackDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ackDropper{ln: ln, server: server}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *ackDropper) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *ackDropper) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.server)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(s, c); s.Close() }()
		go func() { defer p.wg.Done(); p.toClient(s, c); c.Close() }()
	}
}

// toClient copies the server's protocol to the client, frame by frame
// (MSG and HMSG carry a payload of the size their line says).
func (p *ackDropper) toClient(s, c net.Conn) {
	r := bufio.NewReader(s)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		frame := line
		if bytes.HasPrefix(line, []byte("MSG ")) || bytes.HasPrefix(line, []byte("HMSG ")) {
			fields := strings.Fields(string(line))
			size, err := strconv.Atoi(fields[len(fields)-1])
			if err != nil {
				return
			}
			payload := make([]byte, size+2)
			if _, err := io.ReadFull(r, payload); err != nil {
				return
			}
			if bytes.Contains(payload, []byte(`"stream":"`+async.AsyncStream+`"`)) && p.armed.CompareAndSwap(true, false) {
				p.dropped.Add(1)
				continue
			}
			frame = append(line, payload...)
		}
		if _, err := c.Write(frame); err != nil {
			return
		}
	}
}

// openQueue opens a Queue (no dispatcher) on a connection to url.
func openQueue(t *testing.T, url string) (*async.Queue, jetstream.JetStream, *prometheus.Registry) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	q, err := async.Open(context.Background(), async.Config{}, async.Deps{JS: js, InlineLimit: func() int { return 1 << 20 },
		Metrics: async.NewMetrics(reg), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return q, js, reg
}

func asyncMessages(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), async.AsyncStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func newInvocation() *invocation.Invocation {
	id := nuid.Next()
	return &invocation.Invocation{Namespace: "default", Function: "f", Body: []byte("x"),
		Req: &wire.Request{InvocationID: id, Namespace: "default", Function: "f", Version: 1}}
}

// TestEnqueueAfterALostAck: the stream stores an invocation but its ack
// is lost. Enqueue publishes it again with the same dedupe id within the
// request's deadline and answers with the invocation, queued once, not
// counted as a client's duplicate. Before, it waited for the lost ack
// until the deadline and answered 503 queue_unavailable although the
// invocation was queued (and later ran).
func TestEnqueueAfterALostAck(t *testing.T) {
	ns := testutil.StartNATS(t)
	proxy := newAckDropper(t, ns.Addr().String())
	q, js, reg := openQueue(t, proxy.URL())
	proxy.armed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	inv := newInvocation()
	id, err := q.Enqueue(ctx, inv, "async", "", "")
	if n := asyncMessages(t, js); err != nil || id != inv.Req.InvocationID || n != 1 {
		t.Fatalf("Enqueue = %q, %v with %d messages in the stream (acks dropped: %d); want the invocation, queued once",
			id, err, n, proxy.dropped.Load())
	}
	if proxy.dropped.Load() != 1 {
		t.Fatalf("%d acks dropped, want 1", proxy.dropped.Load())
	}
	if got := counterValue(t, reg, "hearth_async_duplicates_total"); got != 0 {
		t.Fatalf("hearth_async_duplicates_total %v: a retry's own copy is not a client's duplicate", got)
	}
	// The same invocation submitted again (a client retrying with the same
	// Idempotency-Key) is the same one: not queued twice.
	if id2, err := q.Enqueue(ctx, newInvocationID(inv.Req.InvocationID), "async", "", ""); err != nil || id2 != id {
		t.Fatalf("second Enqueue = %q, %v", id2, err)
	}
	if n := asyncMessages(t, js); n != 1 {
		t.Fatalf("%d messages after a resubmission, want 1", n)
	}
}

// TestEnqueueWhileTheStreamHasNoLeader: publishes find no stream for a
// while (its leader is being elected); Enqueue retries until it is back
// within the request's deadline. Before, the first "no responders"
// answered 503.
func TestEnqueueWhileTheStreamHasNoLeader(t *testing.T) {
	nc := testutil.ConnectNATS(t)
	q, js, _ := openQueue(t, nc.ConnectedUrl())
	ctx := context.Background()
	s, err := js.Stream(ctx, async.AsyncStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	off := cfg
	off.Subjects = []string{"hearth.test.async-off.>"}
	if _, err := js.UpdateStream(ctx, off); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	time.AfterFunc(time.Second, func() {
		defer wg.Done()
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Error(err)
		}
	})
	defer wg.Wait()
	rctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	inv := newInvocation()
	if id, err := q.Enqueue(rctx, inv, "async", "", ""); err != nil || id != inv.Req.InvocationID {
		t.Fatalf("Enqueue = %q, %v; want the invocation once the stream is back", id, err)
	}
	wg.Wait()
	if n := asyncMessages(t, js); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func newInvocationID(id string) *invocation.Invocation {
	inv := newInvocation()
	inv.Req.InvocationID = id
	return inv
}

// counterValue is the sum of the series of counter name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}
