package autoscaler_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/runner"
)

// TestRunnersFollowTheForecast: a function called in bursts every 10
// minutes, which the hybrid policy learns (warm 9 to 11 minutes after a
// burst). Once it has, the autoscaler removes the runners the burst needed
// after it and adds them again before the next burst, from the forecast
// alone: at the burst's start no call is in flight anywhere. No call is
// refused.
func TestRunnersFollowTheForecast(t *testing.T) {
	const (
		tick   = 150 * time.Millisecond // the policy's minute
		period = 10                     // minutes between bursts
		bursts = 14                     // hybrid learns from 10 idle times
		calls  = 4                      // a burst: calls at once
	)
	scaler := &stacktest.RunnerScaler{T: t}
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{Autoscale: "hybrid", AutoscaleTick: tick, MaxRunners: 3, HeartbeatInterval: stacktest.Beat, QueueWait: 5 * time.Second},
		Runner:  runner.Config{Concurrency: 2, HeartbeatInterval: stacktest.Beat},
		Scaler: func(natsURL string, s3 objstore.Config) autoscaler.Scaler {
			scaler.Conn = stack.Conn{NATSURL: natsURL, S3: s3}
			return scaler
		},
	})
	// Registered after the stack's: the runners stop before its NATS does.
	t.Cleanup(func() { _ = scaler.Scale(context.Background(), 0) })
	stacktest.MustDeploy(t, s.GatewayURL, "burst", testmodules.Sleep, "")

	// Each burst comes 20 ms into a minute (minutes begin at multiples of
	// the tick) and ends well within it.
	first := autoscaler.MinuteStart(time.Now(), tick).Add(2*tick + 20*time.Millisecond)
	sent := make([]time.Time, bursts)
	for b := range bursts {
		at := first.Add(time.Duration(b*period) * tick)
		timer := time.NewTimer(time.Until(at))
		<-timer.C // scheduling the workload, not a wait for a condition
		sent[b] = time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, calls)
		for range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/burst/invoke", "", []byte("40"))
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("burst %d: %d %s", b, resp.StatusCode, body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err) // a 429 here is a call refused for lack of a runner
		}
	}

	asked := scaler.Asked()
	for _, e := range asked {
		t.Logf("minute %5.1f: asked for %d runners", float64(e.At.Sub(first))/float64(tick), e.N)
	}
	// The last three gaps, after hybrid has learned the period: down after
	// the burst, up again before the next one.
	for b := bursts - 3; b < bursts; b++ {
		prev, next := sent[b-1], sent[b]
		down, up := -1, -1
		for i, e := range asked {
			if e.At.Before(prev) || !e.At.Before(next) {
				continue
			}
			if e.N == 0 && down < 0 {
				down = i
			}
			if down >= 0 && i > down && e.N > 0 && up < 0 {
				up = i
			}
		}
		if down < 0 {
			t.Errorf("between bursts %d and %d the runners were never removed", b-1, b)
			continue
		}
		if up < 0 {
			t.Errorf("before burst %d the runners were not added again: the forecast did not lead the calls", b)
			continue
		}
		lead := next.Sub(asked[up].At)
		t.Logf("burst %d: runners removed %.1f minutes after the burst before it, %d asked for %.1f minutes before it",
			b, float64(asked[down].At.Sub(prev))/float64(tick), asked[up].N, float64(lead)/float64(tick))
	}
}
