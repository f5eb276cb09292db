package runner

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

// TestIdleAccountingIsExact drives a pool's idle list on a clock of its
// own: the account is the integral of the idle count over time.
func TestIdleAccountingIsExact(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	p := &pool{}
	p.accountIdleLocked(at(0))
	p.idle = []*instance{{}, {}} // two idle from 0
	p.accountIdleLocked(at(3))   // 2 × 3 s
	p.idle = p.idle[:1]          // one from 3
	p.accountIdleLocked(at(5))   // 1 × 2 s
	p.idle = nil                 // none from 5
	p.accountIdleLocked(at(9))   // 0
	p.accountIdleLocked(at(8))   // a reading from the past changes nothing
	p.idle = []*instance{{}}
	if got, want := p.idleSeconds(at(9.5)), 8.5; got != want {
		t.Fatalf("idle seconds %v, want %v", got, want)
	}
}

// TestIdleInstanceSecondsMetric: a prewarmed instance adds to
// hearth_runner_idle_instance_seconds_total while it waits, no more than
// the time that passed; once retired it adds nothing.
func TestIdleInstanceSecondsMetric(t *testing.T) {
	ns := testutil.StartNATS(t)
	store := newStore(t)
	r := startRunner(t, ns.ClientURL(), store)
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	client, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	reactor := fn{name: "idler", digest: upload(t, store, testmodules.Reactor), abi: abi.Reactor}
	control := func(op string, n int) {
		t.Helper()
		b, _ := json.Marshal(wire.Control{Op: op, Request: reactor.request("POST"), Instances: n})
		msg, err := client.Request(wire.ControlSubject(r.ID()), b, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reply wire.ControlReply
		if err := json.Unmarshal(msg.Data, &reply); err != nil || reply.Error != "" {
			t.Fatalf("%s: %+v %v", op, reply, err)
		}
	}
	start := time.Now()
	control(wire.OpPrewarm, 2)
	testutil.Eventually(t, 10*time.Second, func() error {
		if s := idleSeconds(t, r, "idler"); s < 0.1 {
			return errNotYet
		}
		return nil
	})
	control(wire.OpRetire, 0)
	retired := idleSeconds(t, r, "idler")
	if limit := 2 * time.Since(start).Seconds(); retired > limit {
		t.Fatalf("%v idle instance-seconds from 2 instances in %v s", retired, limit/2)
	}
	// Nothing idle now: the sum stays (read until the clock has moved).
	before := time.Now()
	testutil.Eventually(t, 5*time.Second, func() error {
		if time.Since(before) < 20*time.Millisecond {
			return errNotYet
		}
		return nil
	})
	if after := idleSeconds(t, r, "idler"); after != retired {
		t.Fatalf("idle seconds went from %v to %v with no idle instance", retired, after)
	}
}

// idleSeconds reads the function's idle instance-seconds from the runner's
// registry.
func idleSeconds(t *testing.T, r *Runner, function string) float64 {
	t.Helper()
	families, err := r.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "hearth_runner_idle_instance_seconds_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["function"] == function && labels["runner"] == r.ID() {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
