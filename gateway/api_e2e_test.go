package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

func TestDevHealthAndMetrics(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+path, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", nil)
	resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, series := range []string{
		`hearth_invocations_total{code="200",cold="true",function="hello",namespace="default"} 1`,
		`hearth_cold_starts_total{function="hello",namespace="default"} 1`,
		`hearth_invocation_duration_seconds_count{code="200",function="hello",namespace="default"} 1`,
		"hearth_records_dropped_total 0",
		"hearth_async_duplicates_total 0",
		"hearth_autoscaler_runners_wanted 0", // listed without --autoscale too
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s\n%s", series, body)
		}
	}

	// Storage down → not ready.
	if err := s.S3Server.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, body = stacktest.Call(t, http.MethodGet, s.GatewayURL+"/readyz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"storage"`) {
		t.Fatalf("/readyz with S3 down: %d %s", resp.StatusCode, body)
	}
}

// TestLargePayloadRoundTrip sends 32 MiB through a function and back over
// NATS (a gateway that does not hand calls to the runner in its process):
// both ways the payload is above the NATS message limit and travels
// through S3.
func TestLargePayloadRoundTrip(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	viaNATS, err := s.StartExtraGateway(context.Background(), gateway.Config{NoLocal: true, NoDispatcher: true, NoTriggers: true})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 32<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	resp, body := stacktest.Call(t, http.MethodPost, viaNATS+"/v1/functions/echo/invoke", "application/octet-stream", big)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, big) {
		t.Fatalf("32 MiB echo: status %d, %d bytes back, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, big))
	}
}
