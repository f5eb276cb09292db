package stack_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/metricsdoc"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// observed is the dev stack (a gateway and its local runner, with the
// autoscaler on a short minute), a runner role with its own metrics
// listener and a gateway role with auth on, all on the dev stack's NATS
// and S3, after they were made to do each thing the metrics count. The
// snapshots are the scrapes of every endpoint taken at the end.
type observed struct {
	dev, rn, gw *stack.Stack
	gwKey       string
	deadID      string
	seen        map[string]bool // things seen while they happened
	devFams     stacktest.Families
	rnFams      stacktest.Families
	gwFams      stacktest.Families
}

const autoscaleTick = 400 * time.Millisecond

func observe(t *testing.T) *observed {
	t.Helper()
	o := &observed{seen: map[string]bool{}}
	o.dev = stacktest.DevWith(t, stack.DevConfig{
		Runner: runner.Config{HeartbeatInterval: stacktest.Beat, MetricsListen: "127.0.0.1:0"},
		Gateway: gateway.Config{HeartbeatInterval: stacktest.Beat, Autoscale: "fixed-1", AutoscaleTick: autoscaleTick,
			MaxAttempts: 2, RetryBase: 20 * time.Millisecond},
	})
	o.rn = stacktest.RunnerRole(t, o.dev.Conn, runner.Config{HeartbeatInterval: stacktest.Beat, MetricsListen: "127.0.0.1:0", Concurrency: 8})
	o.gwKey = rand.Text() + rand.Text()
	o.gw = stacktest.GatewayRole(t, o.dev.Conn, gateway.Config{HeartbeatInterval: stacktest.Beat, Auth: true, AdminKey: o.gwKey, NoDispatcher: true, NoTriggers: true})
	u := o.dev.GatewayURL
	stacktest.WaitRunners(t, u, 2)

	stacktest.MustDeploy(t, u, "spin", testmodules.Reactor, `{"timeout_ms":1000}`)
	stacktest.MustDeploy(t, u, "spin2", testmodules.Reactor, `{"timeout_ms":2500}`)
	stacktest.MustDeploy(t, u, "broken", testmodules.Trap, "")
	stacktest.MustDeploy(t, u, "limited", testmodules.Reactor, `{"rate_limit":{"rps":1,"burst":1}}`)

	fn := func(name string) map[string]string { return map[string]string{"function": name} }
	invoke := func(fn, body string) int {
		resp, _ := stacktest.Call(t, http.MethodPost, u+"/v1/functions/"+fn+"/invoke", "", []byte(body))
		return resp.StatusCode
	}
	// Sync calls, the first cold, on whichever runner the scheduler picks.
	for range 3 {
		if code := invoke("spin", "x"); code != 200 {
			t.Fatalf("spin: %d", code)
		}
	}
	// A rate-limited function called past its limit.
	invoke("limited", "x")
	if code := invoke("limited", "x"); code != http.StatusTooManyRequests {
		t.Fatalf("limited, second call: %d, want 429", code)
	}
	// The gateway role refuses a scrape without a key.
	if resp, _ := stacktest.Call(t, http.MethodGet, o.gw.GatewayURL+"/metrics", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without a key: %d", resp.StatusCode)
	}

	// A call that runs until its timeout: in flight on a runner and in
	// the autoscaler's concurrency while it lasts; its instance is closed
	// at the timeout, so the prewarm that the forecast asks for next
	// starts one, and the retire after it closes that one.
	// The autoscaler hears of the call at its next report, so a busy
	// machine may let one call end unseen: up to three are made.
	for range 3 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			invoke("spin2", "loop")
		}()
		deadline := time.Now().Add(5 * time.Second)
	watch:
		for time.Now().Before(deadline) {
			dev, rn := stacktest.GatewayFamilies(t, o.dev), stacktest.Scrape(t, o.rn.RunnerMetricsURL, "")
			if dev.Value("hearth_runner_in_flight", nil)+rn.Value("hearth_runner_in_flight", nil) >= 1 {
				o.seen["in_flight"] = true
			}
			if dev.Value("hearth_autoscaler_concurrency", map[string]string{"function": "spin2"}) >= 1 {
				o.seen["concurrency"] = true
			}
			select {
			case <-done:
				break watch
			case <-time.After(10 * time.Millisecond): // polling interval
			}
		}
		<-done
		if o.seen["in_flight"] && o.seen["concurrency"] {
			break
		}
	}

	// Async: one that succeeds, one that fails, is retried, dead-lettered
	// and replayed.
	ok := stacktest.Submit(t, u, "spin", "x", nil)
	stacktest.WaitStatus(t, u, ok, "succeeded")
	o.deadID = stacktest.Submit(t, u, "broken", "", nil)
	stacktest.WaitStatus(t, u, o.deadID, "dead")
	testutil.Eventually(t, 5*time.Second, func() error {
		if v := stacktest.GatewayFamilies(t, o.dev).Value("hearth_async_dlq_depth", nil); v != 1 {
			return fmt.Errorf("DLQ depth %v, want 1", v)
		}
		return nil
	})
	if resp, body := stacktest.Call(t, http.MethodPost, u+"/v1/dlq/"+o.deadID+"/replay", "", nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	stacktest.WaitStatus(t, u, o.deadID, "dead")

	// The autoscaler: spin2's forecast turns warm (a prewarm that starts
	// an instance), then cold (a retire that closes it); spin, called
	// every tenth of a second, has minutes forecast warm with calls.
	// A warm-to-cold turn whose retire found nothing idle (the prewarm
	// still compiling, a heartbeat not yet listing the module) is not
	// made again: another spin2 call starts another turn.
	var again sync.WaitGroup
	defer again.Wait()
	lastLoop := time.Now()
	testutil.Eventually(t, 30*time.Second, func() error {
		invoke("spin", "x")
		f := stacktest.GatewayFamilies(t, o.dev)
		if f.Value("hearth_autoscaler_retires_total", fn("spin2")) == 0 && time.Since(lastLoop) > 4*time.Second {
			lastLoop = time.Now()
			again.Add(1)
			go func() {
				defer again.Done()
				invoke("spin2", "loop")
			}()
		}
		for _, want := range []struct{ name, fn string }{
			{"hearth_autoscaler_prewarms_total", "spin2"},
			{"hearth_autoscaler_retires_total", "spin2"},
			{"hearth_autoscaler_forecast_misses_total", "spin2"},
			{"hearth_autoscaler_forecast_idle_total", "spin2"},
			{"hearth_autoscaler_cold_starts_avoided_total", "spin"},
		} {
			if f.Value(want.name, map[string]string{"function": want.fn}) < 1 {
				return fmt.Errorf("%s{function=%q} is 0", want.name, want.fn)
			}
		}
		return nil
	})

	o.devFams = stacktest.GatewayFamilies(t, o.dev)
	o.rnFams = stacktest.Scrape(t, o.rn.RunnerMetricsURL, "")
	o.gwFams = stacktest.Scrape(t, o.gw.GatewayURL+"/metrics", o.gwKey)
	return o
}

// TestMetrics checks, on real roles, that each series moves when the
// thing it counts happens, and that every series a role registers is in
// docs/metrics.md with its type and labels (and every row there is
// registered).
func TestMetrics(t *testing.T) {
	o := observe(t)
	all := []stacktest.Families{o.devFams, o.rnFams, o.gwFams}
	sum := func(name string, labels map[string]string) float64 {
		var v float64
		for _, f := range all {
			v += f.Value(name, labels)
		}
		return v
	}
	fn := func(name string) map[string]string { return map[string]string{"function": name} }

	t.Run("moved", func(t *testing.T) {
		dev := o.devFams
		checks := []struct {
			what    string
			got     float64
			atLeast float64
		}{
			{"sync calls of spin answered 200", dev.Value("hearth_invocations_total", map[string]string{"function": "spin", "code": "200"}), 4},
			{"a cold start of spin", dev.Value("hearth_cold_starts_total", fn("spin")), 1},
			{"the cold start's init time", dev.Value("hearth_init_duration_seconds", fn("spin")), 1},
			{"spin's durations with code 200", dev.Value("hearth_invocation_duration_seconds", map[string]string{"function": "spin", "code": "200"}), 4},
			{"spin's queue waits with code 200", dev.Value("hearth_invocation_queue_wait_seconds", map[string]string{"function": "spin", "code": "200"}), 4},
			{"spin2's timeout (504)", dev.Value("hearth_invocations_total", map[string]string{"function": "spin2", "code": "504"}), 1},
			{"placements by reason", dev.Value("hearth_scheduler_decisions_total", nil), 5},
			{"runners in the table", dev.Value("hearth_scheduler_runners", map[string]string{"state": "ready"}), 2},
			{"capacity in the table", dev.Value("hearth_scheduler_capacity", nil), 8},
			{"limited's refusal", dev.Value("hearth_function_rate_limited_total", fn("limited")), 1},
			{"the gateway role's refused scrape", o.gwFams.Value("hearth_auth_refused_total", map[string]string{"reason": "unauthorized"}), 1},
			{"deploys", dev.Value("hearth_deploys_total", map[string]string{"outcome": "ok"}), 4},

			{"runner calls of spin, ok, one cold", sum("hearth_runner_invocations_total", map[string]string{"function": "spin", "code": "ok", "cold": "true"}), 1},
			{"runner timeout of spin2", sum("hearth_runner_invocations_total", map[string]string{"function": "spin2", "code": "timeout"}), 1},
			{"run times of spin", sum("hearth_runner_run_duration_seconds", fn("spin")), 4},
			{"the runner role's capacity", o.rnFams.Value("hearth_runner_capacity", nil), 8},
			{"idle instances of spin", sum("hearth_runner_instances", map[string]string{"function": "spin", "state": "idle"}), 1},
			{"compiled modules", sum("hearth_runner_modules", nil), 1},
			{"memory of idle instances", sum("hearth_runner_memory_bytes", nil), 1},
			{"instances prewarmed for spin2", sum("hearth_runner_prewarmed_instances_total", fn("spin2")), 1},
			{"instances retired by the autoscaler", sum("hearth_runner_retired_instances_total", map[string]string{"reason": "autoscaler"}), 1},

			{"async accepted", dev.Value("hearth_async_accepted_total", nil), 3},
			{"async succeeded", dev.Value("hearth_async_finished_total", map[string]string{"function": "spin", "status": "succeeded"}), 1},
			{"broken retried", dev.Value("hearth_async_retries_total", map[string]string{"function": "broken", "reason": "failed"}), 2},
			{"broken dead-lettered twice", dev.Value("hearth_async_dead_letters_total", fn("broken")), 2},
			{"broken replayed", dev.Value("hearth_async_replays_total", fn("broken")), 1},
			{"async queue waits", dev.Value("hearth_async_queue_wait_seconds", nil), 3},
			{"the DLQ's depth", dev.Value("hearth_async_dlq_depth", nil), 1},

			{"the dev gateway leads", dev.Value("hearth_autoscaler_leader", nil), 1},
			{"prewarms of spin2", dev.Value("hearth_autoscaler_prewarms_total", fn("spin2")), 1},
			{"retires of spin2", dev.Value("hearth_autoscaler_retires_total", fn("spin2")), 1},
			{"minutes of spin forecast warm with calls", dev.Value("hearth_autoscaler_cold_starts_avoided_total", fn("spin")), 1},
			{"spin2's first minute, a miss", dev.Value("hearth_autoscaler_forecast_misses_total", fn("spin2")), 1},
			{"spin2's warm minute without calls", dev.Value("hearth_autoscaler_forecast_idle_total", fn("spin2")), 1},

			{"S3 gets (modules)", sum("hearth_s3_requests_total", map[string]string{"op": "get"}), 1},
			{"S3 puts (deploys)", dev.Value("hearth_s3_requests_total", map[string]string{"op": "put"}), 4},
			{"connected to NATS", dev.Value("hearth_nats_connected", nil) + o.rnFams.Value("hearth_nats_connected", nil) + o.gwFams.Value("hearth_nats_connected", nil), 3},
		}
		for _, c := range checks {
			if c.got < c.atLeast {
				t.Errorf("%s: %v, want at least %v", c.what, c.got, c.atLeast)
			}
		}
		for _, what := range []string{"in_flight", "concurrency"} {
			if !o.seen[what] {
				t.Errorf("%s was never seen above 0", what)
			}
		}
		// The autoscaler's forecast sits beside the actual for the
		// functions the controller follows.
		for _, name := range []string{"hearth_autoscaler_forecast_warm", "hearth_autoscaler_actual_invocations"} {
			if !dev.Has(name, fn("spin")) {
				t.Errorf("%s has no series for spin", name)
			}
		}
		if !dev.Has("hearth_autoscaler_desired_instances", fn("spin2")) {
			t.Error("hearth_autoscaler_desired_instances has no series for spin2, whose call the KPA saw")
		}
		for _, name := range []string{"hearth_async_queue_depth", "hearth_async_consumer_lag", "hearth_async_consumer_ack_pending", "hearth_async_consumer_redelivered"} {
			if !dev.Has(name, nil) {
				t.Errorf("%s is missing", name)
			}
		}
		// Bounded labels: no series names an invocation.
		for _, f := range all {
			for name, fam := range f {
				for _, m := range fam.GetMetric() {
					for _, l := range m.GetLabel() {
						if strings.Contains(l.GetValue(), o.deadID) {
							t.Errorf("%s has label %s=%q: an invocation id", name, l.GetName(), l.GetValue())
						}
					}
				}
			}
		}
	})

	t.Run("documented", func(t *testing.T) {
		doc, err := metricsdoc.Read("../../docs/metrics.md")
		if err != nil {
			t.Fatal(err)
		}
		registered := map[string]*dto.MetricFamily{}
		for _, f := range all {
			for name, fam := range f {
				if registered[name] == nil {
					registered[name] = fam
				}
			}
		}
		var names []string
		for name := range registered {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fam := registered[name]
			row, ok := doc.Lookup(name)
			if !ok {
				t.Errorf("%s (%s) is registered but not in docs/metrics.md", name, strings.ToLower(fam.GetType().String()))
				continue
			}
			if row.Prefix() {
				continue
			}
			if typ := strings.ToLower(fam.GetType().String()); typ != row.Type {
				t.Errorf("%s is a %s; docs/metrics.md says %s", name, typ, row.Type)
			}
			if labels := labelNames(fam); strings.Join(labels, ",") != strings.Join(row.Labels, ",") {
				t.Errorf("%s has labels %v; docs/metrics.md says %v", name, labels, row.Labels)
			}
		}
		for name, row := range doc.Metrics {
			if row.Prefix() {
				continue
			}
			if registered[name] == nil {
				t.Errorf("docs/metrics.md lists %s, which no role registered (or the test did not make it happen)", name)
			}
		}
	})
}

// labelNames are the label names of a family's series, sorted.
func labelNames(fam *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() != "le" && l.GetName() != "quantile" {
				set[l.GetName()] = true
			}
		}
	}
	var out []string
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// TestPlatformErrorsCounted checks the process's own S3 and NATS series
// on a runner role's metrics listener: an object store that stops
// answering counts failed requests, a NATS server that goes away counts a
// disconnect and the connection shows as down.
func TestPlatformErrorsCounted(t *testing.T) {
	ns := testutil.StartNATS(t)
	s3 := testutil.S3Config(t)
	rn := stacktest.RunnerRole(t, stack.Conn{NATSURL: ns.ClientURL(), S3: s3}, runner.Config{MetricsListen: "127.0.0.1:0"})
	before := stacktest.Scrape(t, rn.RunnerMetricsURL, "")
	if v := before.Value("hearth_nats_connected", nil); v != 1 {
		t.Fatalf("hearth_nats_connected %v, want 1", v)
	}
	if v := before.Value("hearth_s3_requests_total", map[string]string{"op": "bucket"}); v < 1 {
		t.Fatalf("hearth_s3_requests_total{op=bucket} %v: the bucket check at start is not counted", v)
	}

	// A request to a store that is not there fails, and is counted so.
	gone := stack.New(stacktest.QuietLogger())
	t.Cleanup(func() { _ = gone.Close(context.Background()) })
	s3.Endpoint = "http://127.0.0.1:1"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gone.Connect(ctx, stack.Conn{NATSURL: ns.ClientURL(), S3: s3}, "hearth-test"); err == nil {
		t.Fatal("Connect to an object store that is not there succeeded")
	}
	fams := gatherFamilies(t, gone)
	if v := fams.Value("hearth_s3_errors_total", map[string]string{"op": "bucket"}); v < 1 {
		t.Errorf("hearth_s3_errors_total{op=bucket} %v after a failed bucket check, want ≥ 1", v)
	}
	if v := fams.Value("hearth_s3_errors_total", map[string]string{"op": "get"}); v != 0 {
		t.Errorf("hearth_s3_errors_total{op=get} %v, want 0", v)
	}

	ns.Shutdown()
	testutil.Eventually(t, 5*time.Second, func() error {
		f := stacktest.Scrape(t, rn.RunnerMetricsURL, "")
		if v := f.Value("hearth_nats_connected", nil); v != 0 {
			return fmt.Errorf("hearth_nats_connected %v after the server went away", v)
		}
		if v := f.Value("hearth_nats_disconnects_total", nil); v < 1 {
			return fmt.Errorf("hearth_nats_disconnects_total %v", v)
		}
		return nil
	})
}

// gatherFamilies reads a stack's platform registry.
func gatherFamilies(t *testing.T, s *stack.Stack) stacktest.Families {
	t.Helper()
	fams, err := s.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := stacktest.Families{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}
