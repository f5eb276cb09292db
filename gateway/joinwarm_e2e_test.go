package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
	"github.com/hearthfn/hearth/runner"
)

// TestRunnerJoinWarms: a runner that joins a cluster in service warms the
// active modules it is home for before it takes calls (issue 16). Twelve
// distinct modules are warm on the first runner; when a second joins, the
// gateway warms on it those of the twelve it is now home for: its warm
// set holds them, though no call has been placed on it, and it then takes
// calls. Under round-robin, which has no home, a joined runner warms
// nothing: the same steps then find it empty, so the test can fail.
func TestRunnerJoinWarms(t *testing.T) {
	for _, strategy := range []string{"hashing", "round-robin"} {
		t.Run(strategy, func(t *testing.T) {
			conn := stacktest.ExternalConn(t)
			gw := stacktest.GatewayRole(t, conn, gateway.Config{Strategy: strategy})
			first := stacktest.RunnerRole(t, conn, runner.Config{})
			stacktest.WaitRunners(t, gw.GatewayURL, 1)
			base := stacktest.ExampleWasm(t, "reverse-c")
			digests := map[string]string{}
			for i := range 12 {
				module := withCustomSection(base, i+1)
				name := fmt.Sprintf("j%02d", i)
				if resp, body := deployRaw(t, gw.GatewayURL, name, "?wait=warm", module); resp.StatusCode != http.StatusCreated || resp.Header.Get(gateway.HeaderWarm) != "warm" {
					t.Fatalf("deploy %s: %d %s %q", name, resp.StatusCode, body, resp.Header.Get(gateway.HeaderWarm))
				}
				digests[strings.TrimPrefix(registry.DigestOf(module), "sha256:")] = name // as runners report it
			}
			// The gateway knows what is warm from heartbeats: wait for the
			// one that lists the twelve.
			testutil.Eventually(t, 10*time.Second, func() error {
				r, _ := runnerInfo(t, gw.GatewayURL, first.Runner.ID())
				n := 0
				for _, w := range r.Warm {
					if _, ok := digests[w.Digest]; ok && w.Idle > 0 {
						n++
					}
				}
				if n < len(digests) {
					return fmt.Errorf("%d of %d modules warm on the first runner", n, len(digests))
				}
				return nil
			})
			second := stacktest.RunnerRole(t, conn, runner.Config{})
			id := second.Runner.ID()

			var warm []string
			testutil.Eventually(t, 15*time.Second, func() error {
				r, ok := runnerInfo(t, gw.GatewayURL, id)
				if !ok {
					return fmt.Errorf("runner %s not in the table", id)
				}
				if r.Joining {
					return fmt.Errorf("runner %s still joining", id)
				}
				warm = warm[:0]
				for _, w := range r.Warm {
					if name, ok := digests[w.Digest]; ok {
						warm = append(warm, name)
					}
				}
				if strategy == "hashing" && len(warm) == 0 {
					return fmt.Errorf("runner %s admitted, none of the 12 modules warm on it yet", id)
				}
				return nil
			})
			joinWarms := stacktest.MetricSum(t, gw, `hearth_runner_join_warms_total{outcome="warm"}`)
			switch strategy {
			case "hashing":
				// Its home share of 12 modules (none: odds 1 in 4096).
				if joinWarms != float64(len(warm)) {
					t.Errorf("hearth_runner_join_warms_total{outcome=warm} %v; %d modules warm on the joined runner: %v", joinWarms, len(warm), warm)
				}
				t.Logf("the joined runner warmed %d of 12 modules before taking calls: %v", len(warm), warm)
			case "round-robin":
				if joinWarms != 0 || len(warm) != 0 {
					t.Errorf("round-robin: %v join warms, %v warm on the joined runner", joinWarms, warm)
				}
			}
			if strategy != "hashing" {
				return // round-robin sends calls to the new runner cold
			}
			// Every function answers warm.
			for _, name := range digests {
				if cold := coldOf(t, gw.GatewayURL, name); cold != "false" {
					t.Errorf("%s: Hearth-Cold-Start %q after the join", name, cold)
				}
			}
		})
	}
}

type runnerRow struct {
	ID      string `json:"id"`
	Joining bool   `json:"joining"`
	Warm    []struct {
		Digest string `json:"digest"`
		Idle   int    `json:"idle"`
	} `json:"warm"`
}

func runnerInfo(t *testing.T, base, id string) (runnerRow, bool) {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/runners", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/runners: %d %s", resp.StatusCode, body)
	}
	var table struct {
		Runners []runnerRow `json:"runners"`
	}
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	for _, r := range table.Runners {
		if r.ID == id {
			return r, true
		}
	}
	return runnerRow{}, false
}
