package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/runner"
)

// countInvocations counts the invocation messages that cross NATS to any
// runner from now on.
func countInvocations(t *testing.T, s *stack.Stack) (count func() int64) {
	t.Helper()
	var n atomic.Int64
	for _, subject := range []string{wire.RunnerSubject("*"), wire.InvokeSubject} {
		sub, err := s.NC.Subscribe(subject, func(*nats.Msg) { n.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	return func() int64 {
		if err := s.NC.Flush(); err != nil { // what was published has arrived
			t.Fatal(err)
		}
		return n.Load()
	}
}

// TestDevCallsSkipNATS: in `hearth dev` the gateway hands calls placed on
// the runner of its own process over directly; a gateway with NoLocal
// sends them through NATS. Both answer the same.
func TestDevCallsSkipNATS(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	crossed := countInvocations(t, s)
	for _, fn := range []string{"reverse-c", "reverse", "hello"} {
		resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/"+fn+"/invoke", "text/plain", []byte("Hearth"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Hearth-Runner") != s.Runner.ID() {
			t.Fatalf("%s: status %d, runner %q (want %q): %s", fn, resp.StatusCode, resp.Header.Get("Hearth-Runner"), s.Runner.ID(), body)
		}
	}
	// 32 MiB in and out: no claim check is needed when no message carries it.
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20)
	resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/echo/invoke", "application/octet-stream", big)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, big) {
		t.Fatalf("32 MiB echo: status %d, %d bytes back", resp.StatusCode, len(body))
	}
	if n := crossed(); n != 0 {
		t.Fatalf("%d invocations crossed NATS, want 0", n)
	}

	viaNATS, err := s.StartExtraGateway(context.Background(), gateway.Config{NoLocal: true, NoDispatcher: true, NoTriggers: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = stacktest.Call(t, http.MethodPost, viaNATS+"/v1/functions/reverse-c/invoke", "text/plain", []byte("Hearth"))
	if resp.StatusCode != http.StatusOK || string(body) != "htraeH" {
		t.Fatalf("through NATS: status %d: %s", resp.StatusCode, body)
	}
	if n := crossed(); n != 1 {
		t.Fatalf("%d invocations crossed NATS, want 1", n)
	}
}

// TestDevLocalRunnerDrains: once the runner of the gateway's process
// drains, calls go to another runner through NATS, and none fails.
func TestDevLocalRunnerDrains(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	other := stacktest.RunnerRole(t, s.Conn, runner.Config{})
	stacktest.WaitRunners(t, s.GatewayURL, 2)
	if err := s.Runner.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/reverse-c/invoke", "text/plain", []byte("Hearth"))
		if resp.StatusCode != http.StatusOK || string(body) != "htraeH" || resp.Header.Get("Hearth-Runner") != other.Runner.ID() {
			t.Fatalf("after the local runner stopped: status %d, runner %q: %s", resp.StatusCode, resp.Header.Get("Hearth-Runner"), body)
		}
	}
}

// TestGatewayWithRunner: `hearth gateway --with-runner` on a cluster. Calls
// the scheduler places on the gateway's own runner skip NATS; calls placed
// on another node's runner cross it.
func TestGatewayWithRunner(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	node := stack.New(stacktest.QuietLogger())
	t.Cleanup(func() { _ = node.Close(context.Background()) })
	err := node.StartGatewayRole(context.Background(), conn,
		gateway.Config{Listen: "127.0.0.1:0", Strategy: "round-robin"}, &runner.Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	other := stacktest.RunnerRole(t, conn, runner.Config{})
	stacktest.WaitRunners(t, node.GatewayURL, 2)
	stacktest.MustDeploy(t, node.GatewayURL, "rev", stacktest.ExampleWasm(t, "reverse-c"), "")

	var toLocal atomic.Int64
	sub, err := node.NC.Subscribe(wire.RunnerSubject(node.Runner.ID()), func(*nats.Msg) { toLocal.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := node.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	served := map[string]int{}
	for range 10 {
		resp, body := stacktest.Call(t, http.MethodPost, node.GatewayURL+"/v1/functions/rev/invoke", "text/plain", []byte("Hearth"))
		if resp.StatusCode != http.StatusOK || string(body) != "htraeH" {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		served[resp.Header.Get("Hearth-Runner")]++
	}
	if served[node.Runner.ID()] == 0 || served[other.Runner.ID()] == 0 || len(served) != 2 {
		t.Fatalf("calls served by %v; want both the local runner %s and %s", served, node.Runner.ID(), other.Runner.ID())
	}
	if err := node.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := toLocal.Load(); n != 0 {
		t.Fatalf("%d calls to the gateway's own runner crossed NATS, want 0", n)
	}
}
