package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/console"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// TestConsoleAssets: with auth on, the console's page and every asset
// answer without a key, with their content type, a strict
// Content-Security-Policy, nosniff and no framing; a revalidation with the
// ETag answers 304; the API next to them still wants a key.
func TestConsoleAssets(t *testing.T) {
	a := newAuthStack(t, gateway.Config{})
	wantType := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	paths := []string{"/"}
	for _, n := range console.Names() {
		paths = append(paths, console.Prefix+n)
	}
	if len(paths) < 8 {
		t.Fatalf("the console has %d files: %v", len(paths), paths)
	}
	for _, p := range paths {
		resp, body := a.call("", http.MethodGet, p, "", nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s without a key: %d, %d bytes", p, resp.StatusCode, len(body))
			continue
		}
		ext := ".html"
		if i := strings.LastIndex(p, "."); i > 0 && p != "/" {
			ext = p[i:]
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantType[ext] {
			t.Errorf("GET %s: Content-Type %q, want %q", p, ct, wantType[ext])
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline code", p, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", p, got)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", p, got)
		}
		if resp.Header.Get("Hearth-Request-Id") == "" {
			t.Errorf("GET %s: no Hearth-Request-Id", p)
		}
		etag := resp.Header.Get("ETag")
		again, _ := stacktest.Do(t, http.MethodGet, a.base+p, "", nil, map[string]string{"If-None-Match": etag})
		if etag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", p, etag, again.StatusCode)
		}
	}

	// The page has no inline script or style, which the policy would block.
	_, page := a.call("", http.MethodGet, "/", "", nil)
	if m := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`).Find(page); m != nil {
		t.Errorf("the page has inline code or style: %q", m)
	}

	resp, body := a.call("", http.MethodGet, "/console/nope.js", "", nil)
	stacktest.WantError(t, resp, body, http.StatusNotFound, "not_found")
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("a missing asset answers without the policy")
	}
	for _, p := range []string{"/v1/functions", "/v1/runners", "/v1/autoscaler", "/v1/dlq", "/metrics"} {
		resp, body := a.call("", http.MethodGet, p, "", nil)
		stacktest.WantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
	}
	if resp, _ := a.call("", http.MethodPost, "/", "", nil); resp.StatusCode == http.StatusOK {
		t.Error("POST / answers 200")
	}
}

// autoscalerAnswer is GET /v1/autoscaler as a client reads it.
type autoscalerAnswer struct {
	Enabled, Leading bool
	Message, Policy  string
	TickMs           float64 `json:"tick_ms"`
	Minutes          []struct {
		Minute int
		End    time.Time
	}
	Functions []struct {
		Namespace, Function string
		Counts              []int
		Forecast            []bool `json:"forecast_warm"`
		WarmNow             bool   `json:"warm_now"`
	}
	Events []struct {
		Namespace, Function, Op, Reason, Runner string
		Instances                               int
	}
}

func getAutoscaler(t *testing.T, url string) autoscalerAnswer {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodGet, url, "", nil)
	var out autoscalerAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("GET /v1/autoscaler: %d %s", resp.StatusCode, body)
	}
	return out
}

// TestAutoscalerRoute: GET /v1/autoscaler shows the calls of a function
// per autoscaler minute against the forecast, and the prewarms sent for
// it, for the request's namespace only; with the autoscaler off it says
// so.
func TestAutoscalerRoute(t *testing.T) {
	off := stacktest.Dev(t, t.TempDir())
	if a := getAutoscaler(t, off.GatewayURL+"/v1/autoscaler"); a.Enabled || a.Message == "" || a.Minutes == nil || a.Functions == nil || a.Events == nil {
		t.Fatalf("autoscaler off: %+v", a)
	}

	// A minute of a second: long enough that the deploy below lands while
	// reverse is still forecast warm on a loaded machine (at 200 ms the
	// forecast warm minutes could pass during the deploy, and CI saw no
	// prewarm).
	tick := time.Second
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{Autoscale: "predictive", AutoscaleTick: tick},
		Runner:  runner.Config{IdleTTL: 2 * tick},
	})
	for i := 0; i < 10; i++ {
		if resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/reverse/invoke", "", []byte("ab")); resp.StatusCode != 200 {
			t.Fatalf("invoke: %d %s", resp.StatusCode, body)
		}
	}
	// A new version, not called, while reverse is forecast warm: the next
	// minute's prewarm has to start an instance of it (a runner keeps the
	// instances prewarms ask for, so a prewarm of a version already warm
	// changes nothing, and a call would start one itself); not warmed by
	// the deploy, for the same reason.
	stacktest.MustDeployUnwarmed(t, s.GatewayURL, "reverse", stacktest.ExampleWasm(t, "reverse"), `{"memory_mb":64}`)
	testutil.Eventually(t, 40*time.Second, func() error {
		a := getAutoscaler(t, s.GatewayURL+"/v1/autoscaler")
		if !a.Enabled || !a.Leading || a.Policy != "predictive" || a.TickMs != 1000 {
			return fmt.Errorf("enabled %v leading %v policy %q tick %v", a.Enabled, a.Leading, a.Policy, a.TickMs)
		}
		var counted, warm int
		for _, f := range a.Functions {
			if f.Namespace != "default" {
				return fmt.Errorf("function of namespace %q listed", f.Namespace)
			}
			if len(f.Counts) != len(a.Minutes) || len(f.Forecast) != len(a.Minutes) {
				return fmt.Errorf("%s: %d counts, %d forecasts for %d minutes", f.Function, len(f.Counts), len(f.Forecast), len(a.Minutes))
			}
			if f.Function == "reverse" {
				for i, n := range f.Counts {
					counted += n
					if f.Forecast[i] {
						warm++
					}
				}
			}
		}
		prewarms := 0
		for _, e := range a.Events {
			if e.Function == "reverse" && e.Op == "prewarm" && e.Instances > 0 && e.Runner != "" {
				prewarms++
			}
		}
		if counted == 0 || warm == 0 || prewarms == 0 {
			return fmt.Errorf("reverse: %d calls counted, %d minutes forecast warm, %d prewarms", counted, warm, prewarms)
		}
		return nil
	})
	other := getAutoscaler(t, s.GatewayURL+"/v1/autoscaler?namespace=other")
	if len(other.Functions) != 0 || len(other.Events) != 0 || len(other.Minutes) == 0 {
		t.Fatalf("namespace other: %d functions, %d events, %d minutes", len(other.Functions), len(other.Events), len(other.Minutes))
	}
}
