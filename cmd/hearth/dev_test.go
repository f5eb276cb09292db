package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/sdk/client"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startTestDev starts the dev stack on random loopback ports in dataDir.
func startTestDev(t *testing.T, dataDir string) *stack.Stack {
	t.Helper()
	s, err := stack.StartDev(context.Background(), stack.DevConfig{
		DataDir: dataDir, Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", S3Listen: "127.0.0.1:0", Log: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// call makes one HTTP request and returns the response with its body read.
func call(t *testing.T, method, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// wantError checks an answer has the status and the JSON error shape with code.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %.300s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error body %.300s, want code %q and a message", body, code)
	}
	if resp.Header.Get("Hearth-Request-Id") == "" {
		t.Fatal("error response without Hearth-Request-Id")
	}
}

func TestDevEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	s := startTestDev(t, dataDir)
	base := s.GatewayURL

	// The dev stack deploys the examples itself.
	fns, err := client.New(base).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 4 || fns[0].Name != "echo" || fns[1].Name != "hello" || fns[2].Name != "reverse" || fns[2].ABI != "reactor" ||
		fns[3].Name != "reverse-c" || fns[3].ABI != "reactor" {
		t.Fatalf("examples deployed: %+v, want echo, hello, reverse and reverse-c (reactors)", fns)
	}

	// Deploy hello over HTTP as a new version.
	hello := exampleWasm(t, "hello")
	resp, body := call(t, http.MethodPut, base+"/v1/functions/hello", "application/wasm", hello)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	var dep client.Deployment
	if err := json.Unmarshal(body, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Name != "hello" || dep.Version != 2 || dep.ABI != "command" || !strings.HasPrefix(dep.Digest, "sha256:") || dep.CreatedAt.IsZero() {
		t.Fatalf("deploy answer %+v", dep)
	}

	// Invoke over the API.
	resp, body = call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "text/plain", []byte("Hearth"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, Hearth!\n" {
		t.Fatalf("invoke: %d %q", resp.StatusCode, body)
	}
	for _, h := range []string{"Hearth-Request-Id", "Hearth-Invocation-Id", "Hearth-Cold-Start", "Server-Timing"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("invoke response without %s", h)
		}
	}
	timing := resp.Header.Get("Server-Timing")
	for _, part := range []string{"queue;dur=", "init;dur=", "run;dur="} {
		if !strings.Contains(timing, part) {
			t.Errorf("Server-Timing %q lacks %s", timing, part)
		}
	}
	if c := resp.Header.Get("Hearth-Cold-Start"); c != "true" && c != "false" {
		t.Errorf("Hearth-Cold-Start = %q", c)
	}

	// Invoke through the passthrough route.
	resp, body = call(t, http.MethodGet, base+"/fn/hello/some/path?x=1", "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, world!\n" {
		t.Fatalf("/fn/hello: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Hearth-Invocation-Id") == "" {
		t.Error("/fn response without Hearth-Invocation-Id")
	}
	resp, body = call(t, http.MethodPost, base+"/fn/echo", "application/json", []byte(`{"a":1}`))
	if resp.StatusCode != http.StatusOK || string(body) != `{"a":1}` {
		t.Fatalf("/fn/echo: %d %q", resp.StatusCode, body)
	}

	// The Go reactor example: a warm instance serves the second call.
	for i, want := range []string{"true", "false"} {
		resp, body = call(t, http.MethodPost, base+"/v1/functions/reverse/invoke", "", []byte("abc"))
		if resp.StatusCode != http.StatusOK || string(body) != "cba" {
			t.Fatalf("reverse: %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Hearth-Cold-Start"); got != want {
			t.Fatalf("reverse call %d: Hearth-Cold-Start %s, want %s", i+1, got, want)
		}
	}

	// Restart on the same data: the functions are still there.
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = startTestDev(t, dataDir)
	resp, body = call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", []byte("again"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, again!\n" {
		t.Fatalf("invoke after restart: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Hearth-Cold-Start") != "true" {
		t.Error("first call after a restart should be a cold start")
	}
	fn, err := client.New(s.GatewayURL).Get(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Version != 2 || len(fn.Versions) != 2 {
		t.Fatalf("after restart hello is version %d with %d versions, want 2 and 2 (no redeploy of the example)", fn.Version, len(fn.Versions))
	}
}

func TestDevHealthAndMetrics(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := call(t, http.MethodGet, s.GatewayURL+path, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", nil)
	resp, body := call(t, http.MethodGet, s.GatewayURL+"/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, series := range []string{
		`hearth_invocations_total{code="200",cold="true",function="hello",namespace="default"} 1`,
		`hearth_cold_starts_total{function="hello",namespace="default"} 1`,
		`hearth_invocation_duration_seconds_count{function="hello",namespace="default"} 1`,
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s\n%s", series, body)
		}
	}

	// Storage down → not ready.
	if err := s.S3Server.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, body = call(t, http.MethodGet, s.GatewayURL+"/readyz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"storage"`) {
		t.Fatalf("/readyz with S3 down: %d %s", resp.StatusCode, body)
	}
}

// waitFor is a generous bound for calls that must end by themselves.
const waitFor = 30 * time.Second

// TestLargePayloadRoundTrip sends 32 MiB through a function and back over
// NATS (a gateway that does not hand calls to the runner in its process):
// both ways the payload is above the NATS message limit and travels
// through S3.
func TestLargePayloadRoundTrip(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	viaNATS, err := s.StartExtraGateway(context.Background(), gateway.Config{NoLocal: true, NoDispatcher: true, NoTriggers: true})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 32<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	resp, body := call(t, http.MethodPost, viaNATS+"/v1/functions/echo/invoke", "application/octet-stream", big)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, big) {
		t.Fatalf("32 MiB echo: status %d, %d bytes back, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, big))
	}
}
