package scheduler_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// beat is the heartbeat interval in these tests: short, so that failover
// takes a fraction of a second, and long enough that a runner on a busy
// machine (the race detector, packages tested in parallel) does not miss
// DeadAfter of them.
const beat = 200 * time.Millisecond

// cluster is a gateway and runners, each a role with its own connections.
type cluster struct {
	url     string
	runners []*stack.Stack
}

func startCluster(t *testing.T, runners, runnerConcurrency int, queueWait time.Duration) *cluster {
	t.Helper()
	conn := stacktest.ExternalConn(t)
	gw := stacktest.GatewayRole(t, conn, gateway.Config{HeartbeatInterval: beat, QueueWait: queueWait})
	c := &cluster{url: gw.GatewayURL}
	for i := 0; i < runners; i++ {
		cfg := runner.Config{ID: fmt.Sprintf("runner-%d", i), Concurrency: runnerConcurrency, HeartbeatInterval: beat}
		c.runners = append(c.runners, stacktest.RunnerRole(t, conn, cfg))
	}
	c.waitRunners(t, runners)
	return c
}

// waitRunners polls /v1/runners until it lists n runners.
func (c *cluster) waitRunners(t *testing.T, n int) { stacktest.WaitRunners(t, c.url, n) }

// runner is the cluster's runner with the id.
func (c *cluster) runner(t *testing.T, id string) *stack.Stack {
	t.Helper()
	for _, r := range c.runners {
		if r.Runner.ID() == id {
			return r
		}
	}
	t.Fatalf("no runner %q in the cluster", id)
	return nil
}

func (c *cluster) invoke(t *testing.T, fn, body string) (*http.Response, []byte) {
	return stacktest.Call(t, http.MethodPost, c.url+"/v1/functions/"+fn+"/invoke", "", []byte(body))
}

func TestWarmAffinity(t *testing.T) {
	c := startCluster(t, 3, 8, time.Second)
	stacktest.MustDeploy(t, c.url, "reverse", stacktest.ExampleWasm(t, "reverse"), "")
	var first string
	reasons := map[string]bool{}
	for i := 0; i < 10; i++ {
		resp, body := c.invoke(t, "reverse", "abc")
		if resp.StatusCode != 200 || string(body) != "cba" {
			t.Fatalf("call %d: %d %q", i, resp.StatusCode, body)
		}
		runner := resp.Header.Get("Hearth-Runner")
		if first == "" {
			first = runner
		}
		if runner != first {
			t.Fatalf("call %d ran on %s, the first on %s: sequential calls should stay on the function's home", i, runner, first)
		}
		reasons[strings.Fields(resp.Header.Get("Hearth-Placement"))[0]] = true
	}
	if !reasons["home"] {
		t.Fatalf("placement reasons %v; the first call should go to the home runner", reasons)
	}
	// Once a heartbeat reports the idle instance, calls are placed as warm hits.
	testutil.Eventually(t, 10*time.Second, func() error {
		resp, _ := c.invoke(t, "reverse", "x")
		if p := resp.Header.Get("Hearth-Placement"); !strings.HasPrefix(p, "warm") {
			return fmt.Errorf("placement %q", p)
		}
		return nil
	})
}

func TestSpreadingAndOverload(t *testing.T) {
	c := startCluster(t, 2, 2, 100*time.Millisecond)
	stacktest.MustDeploy(t, c.url, "sleepy", testmodules.Sleep, "")
	// Four concurrent slow calls on two runners that take two each: both are used.
	var wg sync.WaitGroup
	var mu sync.Mutex
	runners := map[string]int{}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := c.invoke(t, "sleepy", "300")
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode == 200 {
				runners[resp.Header.Get("Hearth-Runner")]++
			} else {
				runners[fmt.Sprintf("status %d %s", resp.StatusCode, body)]++
			}
		}()
	}
	wg.Wait()
	if len(runners) != 2 || runners["runner-0"] != 2 || runners["runner-1"] != 2 {
		t.Fatalf("4 calls on 2 runners of capacity 2 went to %v", runners)
	}

	// Past capacity, after the queue wait: 429 with Retry-After.
	done := make(chan struct{})
	for i := 0; i < 4; i++ {
		go func() { c.invoke(t, "sleepy", "1000"); done <- struct{}{} }()
	}
	testutil.Eventually(t, 10*time.Second, func() error {
		busy := 0
		for _, r := range c.runners {
			busy += r.Runner.Heartbeat().InFlight
		}
		if busy != 4 {
			return fmt.Errorf("%d calls running", busy)
		}
		return nil
	})
	resp, body := c.invoke(t, "sleepy", "0")
	stacktest.WantError(t, resp, body, 429, "overloaded")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	for i := 0; i < 4; i++ {
		<-done
	}
}

func TestRunnerFailureAndDrain(t *testing.T) {
	c := startCluster(t, 3, 8, time.Second)
	stacktest.MustDeploy(t, c.url, "hello", stacktest.ExampleWasm(t, "hello"), "")
	stacktest.MustDeploy(t, c.url, "sleepy", testmodules.Sleep, "")

	resp, _ := c.invoke(t, "hello", "x")
	home := resp.Header.Get("Hearth-Runner")
	victim := c.runner(t, home)
	// The home runner crashes: its NATS connection is gone, no drain.
	victim.NC.Close()
	for i := 0; i < 10; i++ {
		resp, body := c.invoke(t, "hello", "again")
		if resp.StatusCode != 200 || string(body) != "Hello, again!\n" {
			t.Fatalf("call %d after the crash: %d %s", i, resp.StatusCode, body)
		}
		if resp.Header.Get("Hearth-Runner") == home {
			t.Fatal("a call ran on the crashed runner")
		}
	}
	c.waitRunners(t, 2)

	// A draining runner gets no new work while it finishes what it has.
	var live []*stack.Stack
	for _, r := range c.runners {
		if r != victim {
			live = append(live, r)
		}
	}
	slow := make(chan int, 1)
	go func() {
		resp, _ := c.invoke(t, "sleepy", "800")
		slow <- resp.StatusCode
	}()
	var drainer *stack.Stack
	testutil.Eventually(t, 10*time.Second, func() error {
		for _, r := range live {
			if r.Runner.Heartbeat().InFlight == 1 {
				drainer = r
				return nil
			}
		}
		return fmt.Errorf("slow call not running yet")
	})
	stopped := make(chan error, 1)
	go func() { stopped <- drainer.Runner.Stop(context.Background()) }()
	testutil.Eventually(t, 10*time.Second, func() error {
		_, body := stacktest.Call(t, http.MethodGet, c.url+"/v1/runners", "", nil)
		if !strings.Contains(string(body), `"draining"`) {
			return fmt.Errorf("no draining runner in %s", body)
		}
		return nil
	})
	for i := 0; i < 5; i++ {
		resp, body := c.invoke(t, "sleepy", "0")
		if resp.StatusCode != 200 || resp.Header.Get("Hearth-Runner") == drainer.Runner.ID() {
			t.Fatalf("call during drain: %d %s on %s", resp.StatusCode, body, resp.Header.Get("Hearth-Runner"))
		}
	}
	if code := <-slow; code != 200 {
		t.Fatalf("the call in flight on the draining runner answered %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestRunnerLostMidCall(t *testing.T) {
	c := startCluster(t, 2, 8, time.Second)
	stacktest.MustDeploy(t, c.url, "sleepy", testmodules.Sleep, "")
	resp, _ := c.invoke(t, "sleepy", "0")
	home := resp.Header.Get("Hearth-Runner")
	victim := c.runner(t, home)
	type answer struct {
		status int
		body   string
		took   time.Duration
	}
	lost := make(chan answer, 1)
	go func() {
		start := time.Now()
		resp, body := c.invoke(t, "sleepy", "5000")
		lost <- answer{resp.StatusCode, string(body), time.Since(start)}
	}()
	testutil.Eventually(t, 10*time.Second, func() error {
		if victim.Runner.Heartbeat().InFlight != 1 {
			return fmt.Errorf("not running yet")
		}
		return nil
	})
	victim.NC.Close() // the runner vanishes mid-call
	a := <-lost
	if a.status != 503 || !strings.Contains(a.body, "runner_lost") || a.took > 4*time.Second {
		t.Fatalf("call on a runner lost mid-call: %d %s after %s; want a fast 503 runner_lost", a.status, a.body, a.took)
	}
}
