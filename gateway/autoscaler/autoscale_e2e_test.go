package autoscaler_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/gateway/autoscaler/provider"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// coldStartsOfPeriodicCalls calls the reverse reactor every period and
// returns how many of the calls after the first started cold. The runner
// retires idle instances after idleTTL (a fixed keep-alive), shorter than
// the period; with an autoscaler the instance is kept warm for the next call.
func coldStartsOfPeriodicCalls(t *testing.T, autoscale string) (int, string) {
	t.Helper()
	// The tick is the policy's minute: short for a fast test, long enough that
	// a prewarm is not late on a busy machine (race detector, packages in
	// parallel).
	tick := 100 * time.Millisecond
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{Autoscale: autoscale, AutoscaleTick: tick},
		Runner:  runner.Config{IdleTTL: 2 * tick},
	})
	defer s.Close(context.Background()) // before the next run starts its own
	cold := 0
	// The calls come in the middle of the autoscaler's minutes (which
	// begin at multiples of the tick), not at their edges, where a call
	// could beat the prewarm sent at the minute's start.
	mid := time.NewTimer(time.Until(autoscaler.MinuteStart(time.Now(), tick).Add(tick + tick/2)))
	<-mid.C                           // scheduling the workload, not a wait for a condition
	timer := time.NewTicker(8 * tick) // the workload's period
	defer timer.Stop()
	for i := 0; i < 12; i++ {
		resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/reverse/invoke", "", []byte("ab"))
		if resp.StatusCode != 200 || string(body) != "ba" {
			t.Fatalf("call %d: %d %q", i, resp.StatusCode, body)
		}
		if i > 0 && resp.Header.Get("Hearth-Cold-Start") == "true" {
			cold++
		}
		<-timer.C // the workload's period, not a wait for a condition
	}
	return cold, metricsText(t, s)
}

func metricsText(t *testing.T, s *stack.Stack) string {
	t.Helper()
	_, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/metrics", "", nil)
	return string(body)
}

func TestAutoscalerPrewarmsPeriodicWorkload(t *testing.T) {
	fixed, _ := coldStartsOfPeriodicCalls(t, "")
	predicted, metrics := coldStartsOfPeriodicCalls(t, "predictive")
	for _, series := range []string{
		`hearth_autoscaler_cold_starts_avoided_total{function="reverse",namespace="default"}`,
		`hearth_autoscaler_forecast_warm{function="reverse",namespace="default"}`,
		`hearth_autoscaler_actual_invocations{function="reverse",namespace="default"}`,
		`hearth_autoscaler_prewarms_total{function="reverse",namespace="default"}`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	t.Logf("cold starts in 11 periodic calls: fixed keep-alive %d, predictive autoscaler %d", fixed, predicted)
	if fixed < 8 {
		t.Fatalf("without the autoscaler only %d of 11 calls were cold; the test's keep-alive is not shorter than its period", fixed)
	}
	if predicted*2 > fixed {
		t.Fatalf("the autoscaler left %d cold starts against %d with a fixed keep-alive", predicted, fixed)
	}
}

// TestAutoscalerScalesRunners: under load the autoscaler asks its provider
// for more runners, and for fewer (drained) when the load is gone. The
// provider runs real processes: a stand-in for `hearth runner` that records
// its start and its drain.
func TestAutoscalerScalesRunners(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sleeper")
	build := exec.Command("go", "build", "-o", bin, "./provider/testdata/sleeper")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in runner: %v\n%s", err, out)
	}
	marks := t.TempDir()
	var procs *provider.Process
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{Autoscale: "predictive", AutoscaleTick: 50 * time.Millisecond, MaxRunners: 2},
		Runner:  runner.Config{Concurrency: 2},
		Scaler: func(string, objstore.Config) autoscaler.Scaler {
			procs = provider.NewProcess(provider.ProcessConfig{Binary: bin, Env: []string{"SLEEPER_DIR=" + marks}, StopTimeout: 10 * time.Second, Output: io.Discard})
			return procs
		},
	})
	stacktest.MustDeploy(t, s.GatewayURL, "sleepy", testmodules.Sleep, "")

	// Two slow calls fill the built-in runner (capacity 2): the load asks for 2 runners.
	done := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		go func() {
			stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/sleepy/invoke", "", []byte("3000"))
			done <- struct{}{}
		}()
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		if n, _ := procs.Runners(context.Background()); n != 2 {
			return fmt.Errorf("%d runner processes, want 2", n)
		}
		return nil
	})
	<-done
	<-done
	// Idle again: scaled down, each runner drained (SIGTERM, not killed).
	testutil.Eventually(t, 30*time.Second, func() error {
		if n, _ := procs.Runners(context.Background()); n != 0 {
			return fmt.Errorf("%d runner processes, want 0", n)
		}
		drained, _ := filepath.Glob(filepath.Join(marks, "drained-*"))
		if len(drained) != 2 {
			return fmt.Errorf("%d runners drained, want 2", len(drained))
		}
		return nil
	})
}
