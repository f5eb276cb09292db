package console_test

import (
	"context"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/runner"
)

// TestConsoleScreenshotsForDocs takes the screenshots docs/console.md
// shows, of a dev stack after about two minutes of traffic that varies
// (a wave of calls to greeter, a call to flip:canary every 6 s, a few
// failing ones), with an autoscaler minute of 3 s. It runs only with
// -update-docs:
//
//	go test ./gateway/console -run TestConsoleScreenshotsForDocs -update-docs
func TestConsoleScreenshotsForDocs(t *testing.T) {
	if !*updateDocs {
		t.Skip("takes the screenshots of docs/console.md: run with -update-docs")
	}
	b := startBrowser(t)
	tick := 3 * time.Second
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{MaxAttempts: 2, RetryBase: 50 * time.Millisecond, Autoscale: "predictive", AutoscaleTick: tick},
		Runner:  runner.Config{IdleTTL: 2 * tick},
	})
	base := s.GatewayURL
	hello, flip := readFile(t, helloPath), readFile(t, reverseCPat)
	stacktest.MustDeploy(t, base, "greeter", hello, `{"description":"Greets its input (functions/hello)","memory_mb":64}`)
	stacktest.MustDeploy(t, base, "flip", flip, `{"description":"Reverses its input (functions/reverse-c)"}`)
	stacktest.MustDeploy(t, base, "flip", flip, `{"description":"Reverses its input (functions/reverse-c)","memory_mb":32}`)
	stacktest.Call(t, http.MethodPut, base+"/v1/functions/flip/aliases/canary", "application/json", []byte(`{"weights":{"1":90,"2":10}}`))
	stacktest.Call(t, http.MethodPut, base+"/v1/functions/flip/aliases/stable", "application/json", []byte(`{"version":1}`))
	stacktest.MustDeploy(t, base, "resize", testmodules.Trap, `{"description":"Resizes images (a broken build)"}`)

	// The workload: bounded in time and count, every call to this machine.
	ctx, cancel := context.WithTimeout(context.Background(), 130*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	every := func(d time.Duration, f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(d)
			defer tk.Stop()
			for i := 0; ; i++ {
				f(i)
				select {
				case <-ctx.Done():
					return
				case <-tk.C: // the workload's pace, not a wait for a condition
				}
			}
		}()
	}
	call := func(fn, in string, header map[string]string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/functions/"+fn+"/invoke", strings.NewReader(in))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	every(250*time.Millisecond, func(i int) {
		// A wave: from 0 to 4 calls a second and back, about every 40 s.
		if math.Sin(float64(i)/25) > 0.2 || i%7 == 0 {
			call("greeter", "visitor", nil)
		}
	})
	every(6*time.Second, func(int) { call("flip:canary", "stressed", nil) })
	every(25*time.Second, func(int) { call("resize", "cat.png", map[string]string{"Prefer": "respond-async"}) })
	every(20*time.Second, func(int) { call("resize", "dog.png", nil) })
	<-ctx.Done()
	wg.Wait()

	tb := b.tab(1280, 900)
	tb.open(base + "/")
	tb.until("the list", `!!document.querySelector('#functions tr[data-function="flip"] .split')`, 15*time.Second)
	tb.docShot("functions")

	tb.open(base + "/#/functions/greeter")
	tb.until("greeter's charts", `(() => { const s = document.querySelector('#chart-rate svg'); return !!s && Number(s.dataset.points) > 5; })()`, 15*time.Second)
	tb.do(chromedp.SetValue(chromedp.ID("invoke-input"), "console"), chromedp.Click(chromedp.ID("invoke-button")))
	tb.until("the call's answer", `!!document.querySelector('#invoke-output pre')`, 15*time.Second)
	tb.until("a row to open", `!!document.querySelector('#invocations tr[data-invocation]')`, 15*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(`#invocations tr[data-invocation]`)))
	tb.until("its log", `!!document.querySelector('[data-log]')`, 15*time.Second)
	tb.docShot("function")

	tb.open(base + "/#/runners")
	tb.until("the runner", `!!document.querySelector('section[data-runner] .chip')`, 15*time.Second)
	tb.docShot("runners")

	tb.open(base + "/#/autoscaler")
	tb.until("the timeline", `!!document.querySelector('section[data-function="flip"] svg') && !!document.querySelector('#autoscaler-events tr[data-op]')`, 15*time.Second)
	tb.docShot("autoscaler")

	tb.open(base + "/#/dlq")
	tb.until("a dead letter", `!!document.querySelector('#dlq tr[data-dead]')`, 15*time.Second)
	tb.docShot("dlq")

	abs, err := filepath.Abs(helloPath)
	if err != nil {
		t.Fatal(err)
	}
	tb.open(base + "/#/deploy")
	tb.do(chromedp.WaitVisible(chromedp.ID("deploy-form")), chromedp.SetUploadFiles(chromedp.ID("deploy-module"), []string{abs}),
		chromedp.SetValue(chromedp.ID("deploy-spec"), `{"memory_mb": 64, "env": {"GREETING": "Hi"}}`))
	tb.docShot("deploy")

	phone := b.tab(390, 844)
	phone.open(base + "/#/functions/greeter")
	phone.until("greeter's charts", `(() => { const s = document.querySelector('#chart-rate svg'); return !!s && Number(s.dataset.points) > 5; })()`, 15*time.Second)
	phone.docScreen("phone-function")
	phone.open(base + "/#/autoscaler")
	phone.until("the timeline", `!!document.querySelector('section[data-function] svg')`, 15*time.Second)
	phone.docScreen("phone-autoscaler")
}
