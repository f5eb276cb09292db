package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
)

// BenchmarkAsyncAccept measures durable async accepts: each 202 means the
// invocation is stored in the JetStream stream (file storage). Reported as
// accepts/s over parallel clients.
func BenchmarkAsyncAccept(b *testing.B) {
	// The dispatcher is off: this measures accepting, not running.
	s := startBenchDev(b, gateway.Config{NoDispatcher: true})
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

// BenchmarkWarmSyncInvoke measures warm sync calls of the reverse-c
// reactor on `hearth dev` (the gateway calls its own runner directly), 32
// clients in parallel: with -cpuprofile and -memprofile it shows the
// platform's cost per call (the hearth bench's hearth-warm-reactor case).
func BenchmarkWarmSyncInvoke(b *testing.B) {
	s := startBenchDev(b, gateway.Config{})
	url := s.GatewayURL + "/v1/functions/reverse-c/invoke"
	body := bytes.Repeat([]byte("0123456789"), 10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(16) // × GOMAXPROCS 2: 32 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkAsyncEndToEnd measures async completions: n invocations are
// queued, and the clock stops when the dispatchers have run them all.
func BenchmarkAsyncEndToEnd(b *testing.B) {
	s := startBenchDev(b, gateway.Config{})
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
		done = finishedAsync(b, s.GatewayURL)
		time.Sleep(10 * time.Millisecond) // polling the metric
	}
	b.ReportMetric(done/time.Since(start).Seconds(), "completions/s")
}

func startBenchDev(b *testing.B, gw gateway.Config) *stack.Stack {
	b.Helper()
	s, err := stack.StartDev(context.Background(), stack.DevConfig{DataDir: b.TempDir(), Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", S3Listen: "127.0.0.1:0", Log: quietLogger(), Gateway: gw})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// finishedAsync reads hearth_async_finished_total of hello from /metrics.
func finishedAsync(b *testing.B, base string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return sumSeries(string(body), `hearth_async_finished_total{function="hello"`)
}
