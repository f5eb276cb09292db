package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/runner"
)

// BenchmarkWarmSyncInvoke measures warm sync calls of the reverse-c
// reactor on `hearth dev` (the gateway calls its own runner directly), 32
// clients in parallel: with -cpuprofile and -memprofile it shows the
// platform's cost per call (the hearth bench's hearth-warm-reactor case).
func BenchmarkWarmSyncInvoke(b *testing.B) {
	s := stacktest.DevWith(b, stack.DevConfig{})
	parallelCalls(b, s.GatewayURL+"/v1/functions/reverse-c/invoke")
}

// BenchmarkSyncRecords measures what the per-call invocation record costs
// (docs/decisions/0014): warm sync calls of reverse-c deployed with each
// records policy, on hearth dev (one process) and through NATS (a gateway
// role and a runner role on a nats-server), sub-benchmarks of one run.
func BenchmarkSyncRecords(b *testing.B) {
	deploy := func(b *testing.B, base string) {
		for _, p := range []string{"all", "errors", "none"} {
			stacktest.MustDeploy(b, base, "rev-"+p, stacktest.ExampleWasm(b, "reverse-c"), `{"records":"`+p+`"}`)
		}
	}
	dev := stacktest.DevWith(b, stack.DevConfig{})
	deploy(b, dev.GatewayURL)
	conn := stacktest.ExternalConn(b)
	gw := stacktest.GatewayRole(b, conn, gateway.Config{})
	stacktest.RunnerRole(b, conn, runner.Config{})
	stacktest.WaitRunners(b, gw.GatewayURL, 1)
	deploy(b, gw.GatewayURL)
	for _, where := range []struct {
		name string
		s    *stack.Stack
	}{{"dev", dev}, {"nats", gw}} {
		for _, p := range []string{"all", "errors", "none"} {
			b.Run(where.name+"/records="+p, func(b *testing.B) {
				parallelCalls(b, where.s.GatewayURL+"/v1/functions/rev-"+p+"/invoke")
			})
		}
	}
}

// parallelCalls posts a 100-byte body to url from 32 clients until b.N
// calls are made.
func parallelCalls(b *testing.B, url string) {
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

// BenchmarkDeployWarm measures what warming adds to a deploy: deploys of
// a module made distinct each time (a custom section with a counter, so
// the runner compiles it afresh, as for a new build) with ?warm=false and
// with ?wait=warm, for a C command, a C reactor and a Go reactor, on
// hearth dev.
func BenchmarkDeployWarm(b *testing.B) {
	s := stacktest.DevWith(b, stack.DevConfig{})
	n := 0
	for _, ex := range []string{"hello", "reverse-c", "reverse"} {
		module := stacktest.ExampleWasm(b, ex)
		for _, q := range []string{"warm=false", "wait=warm"} {
			b.Run(ex+"/"+q, func(b *testing.B) {
				for b.Loop() {
					n++
					m := withCustomSection(module, 8)
					copy(m[len(m)-8:], fmt.Sprintf("%08d", n))
					resp, body := stacktest.Call(b, http.MethodPut, s.GatewayURL+"/v1/functions/d-"+ex+"?"+q, "application/wasm", m)
					if resp.StatusCode != http.StatusCreated {
						b.Fatalf("deploy: %d %s", resp.StatusCode, body)
					}
				}
			})
		}
	}
}
