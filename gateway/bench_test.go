package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// BenchmarkWarmSyncInvoke measures warm sync calls of the reverse-c
// reactor on `hearth dev` (the gateway calls its own runner directly), 32
// clients in parallel: with -cpuprofile and -memprofile it shows the
// platform's cost per call (the hearth bench's hearth-warm-reactor case).
func BenchmarkWarmSyncInvoke(b *testing.B) {
	s := stacktest.DevWith(b, stack.DevConfig{})
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
