package async_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// BenchmarkAsyncAccept measures durable async accepts: each 202 means the
// invocation is stored in the JetStream stream (file storage). Reported as
// accepts/s over parallel clients.
func BenchmarkAsyncAccept(b *testing.B) {
	// The dispatcher is off: this measures accepting, not running.
	s := stacktest.DevWith(b, stack.DevConfig{Gateway: gateway.Config{NoDispatcher: true}})
	url := s.GatewayURL + "/v1/functions/hello/invoke"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("bench"))
			req.Header.Set("Prefer", "respond-async")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepts/s")
}

// BenchmarkAsyncEndToEnd measures async completions: n invocations are
// queued, and the clock stops when the dispatchers have run them all.
func BenchmarkAsyncEndToEnd(b *testing.B) {
	s := stacktest.DevWith(b, stack.DevConfig{})
	url := s.GatewayURL + "/v1/functions/hello/invoke?async=true"
	var done float64
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		resp, err := http.Post(url, "text/plain", bytes.NewReader([]byte("e2e")))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	deadline := time.Now().Add(5 * time.Minute)
	for done < float64(b.N) && time.Now().Before(deadline) {
		done = stacktest.MetricSum(b, s, `hearth_async_finished_total{function="hello"`)
		time.Sleep(10 * time.Millisecond) // polling the metric
	}
	b.ReportMetric(done/time.Since(start).Seconds(), "completions/s")
}
