package triggers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// invocationsOf lists a function's invocation records.
func invocationsOf(t *testing.T, base, fn string) []records.Record {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/"+fn+"/invocations?limit=1000", "", nil)
	var out struct{ Invocations []records.Record }
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("invocations of %s: %d %s", fn, resp.StatusCode, body)
	}
	return out.Invocations
}

func TestNATSTriggers(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	stacktest.MustDeploy(t, s.GatewayURL, "greeter", stacktest.ExampleWasm(t, "hello"), `{"triggers":[{"type":"nats","subject":"greet.me"}]}`)
	stacktest.MustDeploy(t, s.GatewayURL, "orders", stacktest.ExampleWasm(t, "hello"),
		`{"triggers":[{"type":"nats","subject":"orders.new","options":{"delivery":"at-least-once"}}]}`)
	nc, err := nats.Connect(s.NATSServer.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	// At most once, request-reply: the reply is the function's output.
	testutil.Eventually(t, 30*time.Second, func() error {
		msg, err := nc.Request("greet.me", []byte("Bob"), time.Second)
		if err != nil {
			return err
		}
		if string(msg.Data) != "Hello, Bob!\n" {
			return fmt.Errorf("reply %q", msg.Data)
		}
		return nil
	})

	// At least once, through JetStream: published messages are run.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		_, err := js.Publish(context.Background(), "orders.new", []byte("order-1"))
		return err // fails until the trigger's stream exists
	})
	testutil.Eventually(t, 30*time.Second, func() error {
		for _, rec := range invocationsOf(t, s.GatewayURL, "orders") {
			if rec.Mode == "nats" && rec.Status == "succeeded" {
				return nil
			}
		}
		return errors.New("no nats invocation of orders yet")
	})
}

func TestCronFiresOncePerTickWithTwoGateways(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	cfg := gateway.Config{TriggerTick: 50 * time.Millisecond}
	a := stacktest.FastGateway(t, conn, cfg)
	b := stacktest.FastGateway(t, conn, cfg)
	stacktest.FastRunner(t, conn)
	stacktest.MustDeploy(t, a.GatewayURL, "ticker", stacktest.ExampleWasm(t, "hello"), `{"triggers":[{"type":"cron","schedule":"@every 1s"}]}`)

	testutil.Eventually(t, 30*time.Second, func() error {
		n := 0
		for _, rec := range invocationsOf(t, a.GatewayURL, "ticker") {
			if rec.Mode == "cron" && rec.Status == "succeeded" {
				n++
			}
		}
		if n < 3 {
			return fmt.Errorf("%d cron invocations so far", n)
		}
		return nil
	})
	// Stop both so no tick is half done, then count: each tick has one
	// record, and the functions ran exactly as often as there are records.
	for _, g := range []*stack.Stack{a, b} {
		if err := g.Gateway.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c := stacktest.FastGateway(t, conn, gateway.Config{NoDispatcher: true, NoTriggers: true})
	ticks := 0
	for _, rec := range invocationsOf(t, c.GatewayURL, "ticker") {
		if rec.Mode == "cron" {
			ticks++
			if rec.Attempts != 1 {
				t.Errorf("cron invocation %s ran %d times", rec.ID, rec.Attempts)
			}
		}
	}
	runs := stacktest.MetricSum(t, a, "hearth_async_finished_total") + stacktest.MetricSum(t, b, "hearth_async_finished_total")
	dups := stacktest.MetricSum(t, a, "hearth_async_duplicates_total") + stacktest.MetricSum(t, b, "hearth_async_duplicates_total")
	if runs != float64(ticks) {
		t.Fatalf("%v runs for %d cron ticks", runs, ticks)
	}
	if dups < 1 {
		t.Fatalf("no duplicate tick was dropped (%v); both gateways should have fired", dups)
	}
}
