package autoscaler_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
)

// TestBurstStep: a step from 1 to 50 concurrent callers of a reactor
// whose calls take 20 ms, on hearth dev with the autoscaler on (the KPA's
// panic mode sees the concurrency jump). No call is dropped; the cold
// starts happen at the step and stop once there are enough warm
// instances. The time to that point and the cold starts are logged (the
// figures of the closing note), not asserted: they depend on the machine.
func TestBurstStep(t *testing.T) {
	tick := time.Second
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{Autoscale: "predictive", AutoscaleTick: tick}})
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "burst", testmodules.Reactor, "")

	type call struct {
		at     time.Time
		status int
		cold   bool
	}
	var mu sync.Mutex
	var calls []call
	caller := func(until time.Time) {
		client := &http.Client{Timeout: 30 * time.Second}
		for time.Now().Before(until) {
			resp, err := client.Post(base+"/v1/functions/burst/invoke", "text/plain", strings.NewReader("sleep 20"))
			c := call{at: time.Now()}
			if err == nil {
				c.status, c.cold = resp.StatusCode, resp.Header.Get("Hearth-Cold-Start") == "true"
				resp.Body.Close()
			}
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
		}
	}
	// One caller for 2 s (the KPA's stable state: one instance), then 50.
	caller(time.Now().Add(2 * time.Second))
	step := time.Now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { caller(step.Add(5 * time.Second)) })
	}
	wg.Wait()

	var dropped, cold, afterStep int
	var lastCold time.Time
	for _, c := range calls {
		if c.status != http.StatusOK {
			dropped++
		}
		if c.at.After(step) {
			afterStep++
			if c.cold {
				cold++
				lastCold = c.at
			}
		}
	}
	if dropped > 0 {
		t.Errorf("%d of %d calls were not answered 200", dropped, len(calls))
	}
	if !lastCold.IsZero() && lastCold.After(step.Add(4*time.Second)) {
		t.Errorf("cold starts went on until %v after the step: the instances never caught up", lastCold.Sub(step))
	}
	reactive := 0
	for _, e := range getEvents(t, base) {
		if e.Function == "burst" && e.Op == "prewarm" && e.Reason == "reactive" {
			reactive++
		}
	}
	settled := time.Duration(0)
	if !lastCold.IsZero() {
		settled = lastCold.Sub(step)
	}
	t.Logf("step 1 → 50 callers: %d calls after the step, %d cold starts, the last %v after the step; %d reactive prewarms; %d calls dropped of %d",
		afterStep, cold, settled.Round(time.Millisecond), reactive, dropped, len(calls))
}

type autoscalerEvent struct {
	Function, Op, Reason string
	Instances            int
}

// getEvents reads the prewarms and retires of GET /v1/autoscaler.
func getEvents(t *testing.T, base string) []autoscalerEvent {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/autoscaler", "", nil)
	var out struct{ Events []autoscalerEvent }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("GET /v1/autoscaler: %d %s", resp.StatusCode, body)
	}
	return out.Events
}
