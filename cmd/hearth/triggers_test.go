package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/testutil"
)

// invocationsOf lists a function's invocation records.
func invocationsOf(t *testing.T, base, fn string) []records.Record {
	t.Helper()
	resp, body := call(t, http.MethodGet, base+"/v1/functions/"+fn+"/invocations?limit=1000", "", nil)
	var out struct{ Invocations []records.Record }
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("invocations of %s: %d %s", fn, resp.StatusCode, body)
	}
	return out.Invocations
}

func TestNATSTriggers(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	mustDeploy(t, s.GatewayURL, "greeter", exampleWasm(t, "hello"), `{"triggers":[{"type":"nats","subject":"greet.me"}]}`)
	mustDeploy(t, s.GatewayURL, "orders", exampleWasm(t, "hello"),
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
	conn := externalConn(t)
	cfg := gateway.Config{TriggerTick: 50 * time.Millisecond}
	a := asyncGateway(t, conn, cfg)
	b := asyncGateway(t, conn, cfg)
	asyncRunner(t, conn)
	mustDeploy(t, a.GatewayURL, "ticker", exampleWasm(t, "hello"), `{"triggers":[{"type":"cron","schedule":"@every 1s"}]}`)

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
	c := asyncGateway(t, conn, gateway.Config{NoDispatcher: true, NoTriggers: true})
	ticks := 0
	for _, rec := range invocationsOf(t, c.GatewayURL, "ticker") {
		if rec.Mode == "cron" {
			ticks++
			if rec.Attempts != 1 {
				t.Errorf("cron invocation %s ran %d times", rec.ID, rec.Attempts)
			}
		}
	}
	runs := metricSum(t, a, "hearth_async_finished_total") + metricSum(t, b, "hearth_async_finished_total")
	dups := metricSum(t, a, "hearth_async_duplicates_total") + metricSum(t, b, "hearth_async_duplicates_total")
	if runs != float64(ticks) {
		t.Fatalf("%v runs for %d cron ticks", runs, ticks)
	}
	if dups < 1 {
		t.Fatalf("no duplicate tick was dropped (%v); both gateways should have fired", dups)
	}
}

// metricSum adds up a metric's series from a gateway's registry.
func metricSum(t *testing.T, s *stack.Stack, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Gateway.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return sumSeries(rec.Body.String(), name)
}

// sumSeries adds up the values of the lines of Prometheus text that begin
// with prefix (a metric name, or a name with some of its labels).
func sumSeries(text, prefix string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v)
			sum += v
		}
	}
	return sum
}

func TestTriggerCLI(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := hearth("trigger", "add", "hello", "--nats", "cli.greet"); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("trigger add: %d %q %q", code, out, errOut)
	}
	if code, out, _ := hearth("trigger", "add", "hello", "--cron", "@every 1h"); code != 0 || !strings.Contains(out, "version 3") {
		t.Fatalf("trigger add cron: %d %q", code, out)
	}
	if code, out, _ := hearth("trigger", "ls", "hello"); code != 0 || !strings.Contains(out, "cli.greet") || !strings.Contains(out, "@every 1h") {
		t.Fatalf("trigger ls: %d %q", code, out)
	}
	nc, err := nats.Connect(s.NATSServer.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	testutil.Eventually(t, 30*time.Second, func() error {
		msg, err := nc.Request("cli.greet", []byte("CLI"), time.Second)
		if err != nil {
			return err
		}
		if string(msg.Data) != "Hello, CLI!\n" {
			return fmt.Errorf("reply %q", msg.Data)
		}
		return nil
	})
	if code, out, _ := hearth("trigger", "rm", "hello", "1"); code != 0 || !strings.Contains(out, "version 4") {
		t.Fatalf("trigger rm: %d %q", code, out)
	}
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"trigger", "add", "hello"}, 2, "--nats SUBJECT or --cron"},
		{[]string{"trigger", "add", "hello", "--cron", "61 * * * *"}, 1, "invalid_spec"},
		{[]string{"trigger", "add", "hello", "--nats", "hearth.secret"}, 1, "invalid_spec"},
		{[]string{"trigger", "rm", "hello", "9"}, 1, "trigger_not_found"},
		{[]string{"trigger", "rm", "hello", "x"}, 2, "trigger number"},
		{[]string{"trigger", "ls", "nope"}, 1, "function_not_found"},
		{[]string{"trigger"}, 2, "hearth trigger add"},
	} {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}
	// Bad trigger bodies over the API.
	resp, body := call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/triggers", "application/json", []byte(`{"kind":"nats"}`))
	wantError(t, resp, body, 400, "invalid_trigger")
}
