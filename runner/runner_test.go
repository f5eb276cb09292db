package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// startRunner starts a runner on its own NATS connection.
func startRunner(t *testing.T, url string, store Store) *Runner {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	r, err := New(Config{HeartbeatInterval: 20 * time.Millisecond}, nc, store, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// invoke sends one invocation over NATS like the gateway does.
func invoke(nc *nats.Conn, req *wire.Request, body string) (*wire.Response, []byte, error) {
	msg, err := wire.EncodeRequest(wire.InvokeSubject, req, []byte(body))
	if err != nil {
		return nil, nil, err
	}
	reply, err := nc.RequestMsg(msg, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	return wire.DecodeResponse(reply)
}

func TestHeartbeatsAndDrain(t *testing.T) {
	ns := testutil.StartNATS(t)
	store := newStore(t)
	r := startRunner(t, ns.ClientURL(), store)

	client, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	beats := make(chan wire.Heartbeat, 1024)
	sub, err := client.Subscribe(wire.HeartbeatWildcard, func(m *nats.Msg) {
		var hb wire.Heartbeat
		if json.Unmarshal(m.Data, &hb) == nil {
			beats <- hb
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	client.Flush()

	reactor := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	resp, out, err := invoke(client, reactor.request("POST"), "count")
	if err != nil || resp.Error != nil || string(out) != "1" || resp.Runner != r.ID() {
		t.Fatalf("invoke over NATS: %+v %q %v", resp, out, err)
	}

	// A heartbeat shows the warm reactor module with its idle instance.
	waitBeat(t, beats, func(hb wire.Heartbeat) error {
		if hb.ID != r.ID() || hb.State != wire.StateReady || hb.Capacity == 0 {
			return fmt.Errorf("heartbeat %+v", hb)
		}
		for _, w := range hb.Warm {
			if w.Digest == reactor.digest && w.Idle == 1 {
				return nil
			}
		}
		return fmt.Errorf("warm set %+v lacks the reactor", hb.Warm)
	})

	// Drain: a call in flight finishes, the runner says draining, then stopped.
	sleepy := fn{name: "sleepy", digest: upload(t, store, testmodules.Sleep), abi: abi.Command}
	type answer struct {
		out []byte
		err error
	}
	slow := make(chan answer, 1)
	go func() {
		resp, out, err := invoke(client, sleepy.request("POST"), "500")
		if err == nil && resp.Error != nil {
			err = resp.Error
		}
		slow <- answer{out, err}
	}()
	testutil.Eventually(t, 10*time.Second, func() error {
		if r.Heartbeat().InFlight != 1 {
			return errNotYet
		}
		return nil
	})
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(context.Background()) }()
	waitBeat(t, beats, func(hb wire.Heartbeat) error {
		if hb.State != wire.StateDraining {
			return fmt.Errorf("state %s", hb.State)
		}
		return nil
	})
	if a := <-slow; a.err != nil || string(a.out) != "slept 500\n" {
		t.Fatalf("call in flight during drain: %q %v", a.out, a.err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	waitBeat(t, beats, func(hb wire.Heartbeat) error {
		if hb.State != wire.StateStopped {
			return fmt.Errorf("state %s", hb.State)
		}
		return nil
	})
	// No runner is left to take work.
	if _, _, err := invoke(client, reactor.request("POST"), "count"); err != nats.ErrNoResponders {
		t.Fatalf("invoke after drain: %v, want no responders", err)
	}
}

// waitBeat reads heartbeats until check accepts one.
func waitBeat(t *testing.T, beats <-chan wire.Heartbeat, check func(wire.Heartbeat) error) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var last error
	for {
		select {
		case hb := <-beats:
			if last = check(hb); last == nil {
				return
			}
		case <-deadline:
			t.Fatalf("no matching heartbeat: %v", last)
		}
	}
}

func TestControlPrewarmAndRetire(t *testing.T) {
	ns := testutil.StartNATS(t)
	store := newStore(t)
	r := startRunner(t, ns.ClientURL(), store)
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	client, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	reactor := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	send := func(raw []byte) wire.ControlReply {
		t.Helper()
		msg, err := client.Request(wire.ControlSubject(r.ID()), raw, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reply wire.ControlReply
		if err := json.Unmarshal(msg.Data, &reply); err != nil {
			t.Fatal(err)
		}
		return reply
	}
	cmd := func(op string, n int) []byte {
		b, _ := json.Marshal(wire.Control{Op: op, Request: reactor.request("POST"), Instances: n})
		return b
	}
	if reply := send(cmd(wire.OpPrewarm, 2)); reply.Error != "" || reply.Changed != 2 {
		t.Fatalf("prewarm: %+v", reply)
	}
	if warm := r.Heartbeat().Warm; len(warm) != 1 || warm[0].Idle != 2 {
		t.Fatalf("warm after prewarm: %+v", warm)
	}
	resp, _, err := invoke(client, reactor.request("POST"), "count")
	if err != nil || resp.Cold {
		t.Fatalf("call after prewarm: cold=%v err=%v", resp != nil && resp.Cold, err)
	}
	if reply := send(cmd(wire.OpRetire, 0)); reply.Error != "" || reply.Changed != 2 {
		t.Fatalf("retire: %+v", reply)
	}
	for _, bad := range [][]byte{[]byte("{"), cmd("explode", 1), []byte(`{"op":"prewarm"}`)} {
		if reply := send(bad); reply.Error == "" {
			t.Errorf("control %s: no error", bad)
		}
	}
}

// TestInvokeInProcess covers the path a gateway in the same process takes:
// no work before Start, calls that share the runner's slots and count in
// its drain, and none once it drains.
func TestInvokeInProcess(t *testing.T) {
	ns := testutil.StartNATS(t)
	store := newStore(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r, err := New(Config{HeartbeatInterval: 20 * time.Millisecond, Concurrency: 1}, nc, store, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reactor := fn{name: "r", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	if _, _, err := r.Invoke(ctx, reactor.request("POST"), []byte("count")); err != wire.ErrNotTaking {
		t.Fatalf("Invoke before Start: %v, want ErrNotTaking", err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	resp, out, err := r.Invoke(ctx, reactor.request("POST"), []byte("count"))
	if err != nil || resp.Error != nil || string(out) != "1" || resp.Runner != r.ID() {
		t.Fatalf("Invoke: %+v %q %v", resp, out, err)
	}

	// With its one slot taken by a slow call, the next waits for it, or
	// gives up when its context ends.
	sleepy := fn{name: "sleepy", digest: upload(t, store, testmodules.Sleep), abi: abi.Command}
	slow := make(chan error, 1)
	go func() {
		req := sleepy.request("POST")
		req.Gateway = "gw-a"
		resp, out, err := r.Invoke(ctx, req, []byte("300"))
		if err == nil && (resp.Error != nil || string(out) != "slept 300\n") {
			err = fmt.Errorf("%+v %q", resp, out)
		}
		slow <- err
	}()
	testutil.Eventually(t, 10*time.Second, func() error {
		if r.Heartbeat().InFlight != 1 {
			return errNotYet
		}
		return nil
	})
	if hb := r.Heartbeat(); hb.InFlightBy["gw-a"] != 1 || len(hb.InFlightBy) != 1 {
		t.Fatalf("in flight by gateway %v, want gw-a: 1", hb.InFlightBy)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, _, err := r.Invoke(short, reactor.request("POST"), []byte("count")); err != context.DeadlineExceeded {
		t.Fatalf("Invoke while the slot is taken: %v, want the context's deadline", err)
	}

	// Stop waits for the call in flight; after it, no call is taken.
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-slow:
		if err != nil {
			t.Fatalf("call in flight during drain: %v", err)
		}
	default:
		t.Fatal("Stop returned before the call in flight ended")
	}
	if _, _, err := r.Invoke(ctx, reactor.request("POST"), []byte("count")); err != wire.ErrNotTaking {
		t.Fatalf("Invoke after Stop: %v, want ErrNotTaking", err)
	}
}

// TestConfigNoTieredStart: the runner's config reaches its engine.
func TestConfigNoTieredStart(t *testing.T) {
	for _, off := range []bool{false, true} {
		r, err := New(Config{NoTieredStart: off}, nil, nil, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		defer r.engine.Close(context.Background())
		if r.engine.tiered == off {
			t.Errorf("NoTieredStart %v: engine tiered %v", off, r.engine.tiered)
		}
		if r.engine.log == slog.Default() {
			t.Error("the engine logs to slog.Default, not the runner's logger")
		}
	}
}
