package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/runner"
)

// coldStartsOfPeriodicCalls calls the reverse reactor every period and
// returns how many of the calls after the first started cold. The runner
// retires idle instances after idleTTL (a fixed keep-alive), shorter than
// the period; with an autoscaler the instance is kept warm for the next call.
func coldStartsOfPeriodicCalls(t *testing.T, autoscale string) int {
	t.Helper()
	tick := 50 * time.Millisecond
	s, err := startDev(context.Background(), devConfig{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", S3Listen: "127.0.0.1:0", Log: quietLogger(),
		Gateway: gateway.Config{Autoscale: autoscale, AutoscaleTick: tick},
		Runner:  runner.Config{IdleTTL: 2 * tick},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	cold := 0
	timer := time.NewTicker(8 * tick) // the workload's period
	defer timer.Stop()
	for i := 0; i < 12; i++ {
		resp, body := call(t, http.MethodPost, s.gatewayURL+"/v1/functions/reverse/invoke", "", []byte("ab"))
		if resp.StatusCode != 200 || string(body) != "ba" {
			t.Fatalf("call %d: %d %q", i, resp.StatusCode, body)
		}
		if i > 0 && resp.Header.Get("Hearth-Cold-Start") == "true" {
			cold++
		}
		<-timer.C // the workload's period, not a wait for a condition
	}
	return cold
}

func TestAutoscalerPrewarmsPeriodicWorkload(t *testing.T) {
	fixed := coldStartsOfPeriodicCalls(t, "")
	predicted := coldStartsOfPeriodicCalls(t, "predictive")
	t.Logf("cold starts in 11 periodic calls: fixed keep-alive %d, predictive autoscaler %d", fixed, predicted)
	if fixed < 8 {
		t.Fatalf("without the autoscaler only %d of 11 calls were cold; the test's keep-alive is not shorter than its period", fixed)
	}
	if predicted*2 > fixed {
		t.Fatalf("the autoscaler left %d cold starts against %d with a fixed keep-alive", predicted, fixed)
	}
}
