package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// fakeRunner answers invocations on subject the way a runner does: it
// reads a claim-checked body from the store, reverses it, and stores an
// output above storeAbove bytes (0: never) as a claim check of its own.
func fakeRunner(t *testing.T, nc *nats.Conn, store *objstore.Store, subject string, storeAbove int) {
	t.Helper()
	sub, err := nc.Subscribe(subject, func(msg *nats.Msg) {
		req, body, err := wire.DecodeRequest(msg)
		if err != nil {
			t.Errorf("decode request: %v", err)
			return
		}
		if req.BodyRef != "" {
			if body, err = store.Get(context.Background(), req.BodyRef); err != nil {
				t.Errorf("claim-checked body: %v", err)
				return
			}
		}
		out := bytes.Clone(body)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		resp := &wire.Response{Runner: "fake", Status: 200}
		if storeAbove > 0 && len(out) > storeAbove {
			key := wire.ResultKey(req.InvocationID)
			if err := store.Put(context.Background(), key, out, "application/octet-stream"); err != nil {
				t.Errorf("store output: %v", err)
				return
			}
			resp.OutputRef, out = key, nil
		}
		reply, err := wire.EncodeResponse(msg.Reply, resp, out)
		if err != nil {
			t.Errorf("encode response: %v", err)
			return
		}
		_ = nc.PublishMsg(reply)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
}

func setup(t *testing.T) (*nats.Conn, *objstore.Store) {
	t.Helper()
	return testutil.ConnectNATS(t), testutil.StartS3(t)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestNATSClaimCheck: a body above the inline limit travels through the
// store and is deleted once the call's context ends; an output the runner
// stored is read back.
func TestNATSClaimCheck(t *testing.T) {
	nc, store := setup(t)
	fakeRunner(t, nc, store, wire.InvokeSubject, 1000)
	tr := NewNATS(nc, store, 100, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	body := bytes.Repeat([]byte("ab"), 2000) // 4000 bytes: above both limits
	req := &wire.Request{InvocationID: "claim1", Function: "f"}
	resp, out, err := tr.Call(ctx, req, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputRef == "" || len(out) != len(body) || out[0] != 'b' {
		t.Fatalf("output %d bytes (ref %q), want the reversed %d", len(out), resp.OutputRef, len(body))
	}
	if req.BodyRef != wire.PayloadKey("claim1") {
		t.Fatalf("BodyRef %q", req.BodyRef)
	}
	cancel() // the call is over: the payload goes
	testutil.Eventually(t, 10*time.Second, func() error {
		if _, err := store.Get(context.Background(), req.BodyRef); !errors.Is(err, objstore.ErrNotFound) {
			return errors.New("the claim-checked body is still stored")
		}
		return nil
	})

	// A small body stays inline.
	req = &wire.Request{InvocationID: "inline1"}
	if _, out, err := tr.Call(context.Background(), req, []byte("abc"), nil); err != nil || string(out) != "cba" || req.BodyRef != "" {
		t.Fatalf("inline call: %q, %v, BodyRef %q", out, err, req.BodyRef)
	}
}

// TestNATSRunnerLost: a call placed on a runner that the table declares
// dead while it runs ends at once with ErrRunnerLost.
func TestNATSRunnerLost(t *testing.T) {
	nc, store := setup(t)
	table := scheduler.NewTable(time.Hour)
	table.Observe(wire.Heartbeat{ID: "r1", State: wire.StateReady, Capacity: 4}, time.Now())
	r, ok := table.Get("r1")
	if !ok {
		t.Fatal("runner not in the table")
	}
	taken := make(chan struct{})
	sub, err := nc.Subscribe(wire.RunnerSubject("r1"), func(*nats.Msg) { close(taken) }) // takes it and never answers
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	go func() { <-taken; table.MarkDead("r1") }()
	tr := NewNATS(nc, store, 0, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err = tr.Call(ctx, &wire.Request{InvocationID: "lost1"}, []byte("x"), r)
	if !errors.Is(err, ErrRunnerLost) {
		t.Fatalf("err %v, want ErrRunnerLost", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the call waited for its deadline instead of ending with the runner")
	}
}

// TestNATSMalformedAnswer: an answer that does not decode is a
// MalformedResponse; no responders is nats.ErrNoResponders, which the
// gateway offers to another runner.
func TestNATSMalformedAnswer(t *testing.T) {
	nc, store := setup(t)
	tr := NewNATS(nc, store, 0, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := tr.Call(ctx, &wire.Request{InvocationID: "none"}, nil, nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("no runner: %v, want no responders", err)
	}
	sub, err := nc.Subscribe(wire.InvokeSubject, func(m *nats.Msg) {
		reply := nats.NewMsg(m.Reply)
		reply.Header.Set("Hearth-Meta", "\xff\x00garbage")
		_ = nc.PublishMsg(reply)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var malformed *MalformedResponse
	if _, _, err := tr.Call(ctx, &wire.Request{InvocationID: "bad"}, nil, nil); !errors.As(err, &malformed) {
		t.Fatalf("garbage answer: %v, want a MalformedResponse", err)
	}
}
