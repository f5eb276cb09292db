package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// QuietLogger discards what it is given.
func QuietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Dev starts the dev stack (embedded NATS and S3, a gateway, a runner, the
// examples) in dataDir on random loopback ports.
func Dev(t testing.TB, dataDir string) *stack.Stack {
	t.Helper()
	return DevWith(t, stack.DevConfig{DataDir: dataDir})
}

// DevWith starts the dev stack with cfg; listen addresses and the logger
// default to random loopback ports and a quiet logger.
func DevWith(t testing.TB, cfg stack.DevConfig) *stack.Stack {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	for _, addr := range []*string{&cfg.Listen, &cfg.NATSListen, &cfg.S3Listen} {
		if *addr == "" {
			*addr = "127.0.0.1:0"
		}
	}
	if cfg.Log == nil {
		cfg.Log = QuietLogger()
	}
	s, err := stack.StartDev(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// ExternalConn starts the parts a cluster would have outside hearth: a
// nats-server and MinIO (the embedded S3 server when MinIO is unavailable).
func ExternalConn(t testing.TB) stack.Conn {
	t.Helper()
	ns := testutil.StartNATS(t)
	conn := stack.Conn{NATSURL: ns.ClientURL()}
	if testutil.HaveMinIO(t) {
		m := testutil.StartMinIO(t)
		conn.S3 = objstore.Config{Endpoint: "http://" + m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey}
		return conn
	}
	conn.S3 = testutil.S3Config(t)
	return conn
}

// GatewayRole starts a gateway role on a random port; it stops when the
// test ends.
func GatewayRole(t testing.TB, conn stack.Conn, cfg gateway.Config) *stack.Stack {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	gw := stack.New(QuietLogger())
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	if err := gw.StartGatewayRole(context.Background(), conn, cfg, nil); err != nil {
		t.Fatal(err)
	}
	return gw
}

// RunnerRole starts a runner role on its own connections.
func RunnerRole(t testing.TB, conn stack.Conn, cfg runner.Config) *stack.Stack {
	t.Helper()
	rn := stack.New(QuietLogger())
	t.Cleanup(func() { _ = rn.Close(context.Background()) })
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	if err := rn.StartRunnerRole(context.Background(), conn, cfg); err != nil {
		t.Fatal(err)
	}
	return rn
}

// Beat is the heartbeat interval of FastGateway and FastRunner: short, so
// that failover takes a fraction of a second, and long enough that a busy
// machine (the race detector, packages tested in parallel) does not make a
// runner miss scheduler.DeadAfter of them.
const Beat = 200 * time.Millisecond

// FastGateway is GatewayRole with heartbeats every Beat and, unless cfg
// says otherwise, async retries from 50 ms: tests of failover and retries
// take milliseconds instead of seconds.
func FastGateway(t testing.TB, conn stack.Conn, cfg gateway.Config) *stack.Stack {
	t.Helper()
	cfg.HeartbeatInterval = Beat
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 50 * time.Millisecond
	}
	return GatewayRole(t, conn, cfg)
}

// FastRunner is RunnerRole with heartbeats every Beat.
func FastRunner(t testing.TB, conn stack.Conn) *stack.Stack {
	t.Helper()
	return RunnerRole(t, conn, runner.Config{HeartbeatInterval: Beat})
}

// Call makes one HTTP request and returns the response with its body read.
func Call(t testing.TB, method, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return CallAs(t, "", method, url, ctype, body)
}

// CallAs is Call with an API key ("" for none) as a bearer token.
func CallAs(t testing.TB, key, method, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var header map[string]string
	if key != "" {
		header = map[string]string{"Authorization": "Bearer " + key}
	}
	return Do(t, method, url, ctype, body, header)
}

// Do makes one HTTP request with headers and returns the response with
// its body read.
func Do(t testing.TB, method, url, ctype string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
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

// WantError checks an answer has the status and the JSON error shape with
// code, and a request id.
func WantError(t testing.TB, resp *http.Response, body []byte, status int, code string) {
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

// ErrorMessage is the message of a JSON error body.
func ErrorMessage(body []byte) string {
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Message
}

// ExampleWasm is the built module of an example function.
func ExampleWasm(t testing.TB, name string) []byte {
	t.Helper()
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	t.Fatalf("no example %q", name)
	return nil
}

// DeployWithSpec deploys module as name with a JSON spec, multipart.
func DeployWithSpec(t testing.TB, base, name string, module []byte, spec string) (*http.Response, []byte) {
	t.Helper()
	return deployQuery(t, base, name, "", module, spec)
}

func deployQuery(t testing.TB, base, name, query string, module []byte, spec string) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if spec != "" {
		if err := mw.WriteField("spec", spec); err != nil {
			t.Fatal(err)
		}
	}
	part, err := mw.CreateFormFile("module", name+".wasm")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(module)
	mw.Close()
	return Call(t, http.MethodPut, base+"/v1/functions/"+name+query, mw.FormDataContentType(), buf.Bytes())
}

// MustDeploy deploys module as name with a JSON spec ("" for none).
func MustDeploy(t testing.TB, base, name string, module []byte, spec string) {
	t.Helper()
	resp, body := DeployWithSpec(t, base, name, module, spec)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy %s: %d %s", name, resp.StatusCode, body)
	}
}

// MustDeployUnwarmed is MustDeploy with ?warm=false: the new version has
// no warm instance until a call or a prewarm starts one.
func MustDeployUnwarmed(t testing.TB, base, name string, module []byte, spec string) {
	t.Helper()
	resp, body := deployQuery(t, base, name, "?warm=false", module, spec)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy %s: %d %s", name, resp.StatusCode, body)
	}
}

// WaitRunners polls the gateway's /v1/runners until it lists n runners.
func WaitRunners(t testing.TB, gatewayURL string, n int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		_, body := Call(t, http.MethodGet, gatewayURL+"/v1/runners", "", nil)
		var out struct{ Runners []struct{ ID string } }
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		if len(out.Runners) != n {
			return fmt.Errorf("/v1/runners lists %d runners, want %d: %s", len(out.Runners), n, body)
		}
		return nil
	})
}

// Submit makes an async invocation and returns its id.
func Submit(t testing.TB, base, fn, body string, headers map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/functions/"+fn+"/invoke", strings.NewReader(body))
	req.Header.Set("Prefer", "respond-async")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ ID, Status string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &out) != nil || out.ID == "" || out.Status != "queued" {
		t.Fatalf("async submit: %d %s", resp.StatusCode, raw)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/invocations/"+out.ID {
		t.Fatalf("Location %q", loc)
	}
	return out.ID
}

// Record reads an invocation record.
func Record(t testing.TB, base, id string) records.Record {
	t.Helper()
	resp, body := Call(t, http.MethodGet, base+"/v1/invocations/"+id, "", nil)
	var rec records.Record
	if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil {
		t.Fatalf("GET invocation %s: %d %s", id, resp.StatusCode, body)
	}
	return rec
}

// WaitStatus polls the record until it has status.
func WaitStatus(t testing.TB, base, id, status string) records.Record {
	t.Helper()
	var rec records.Record
	testutil.Eventually(t, 30*time.Second, func() error {
		resp, body := Call(t, http.MethodGet, base+"/v1/invocations/"+id, "", nil)
		rec = records.Record{}
		if resp.StatusCode != 200 || json.Unmarshal(body, &rec) != nil {
			return fmt.Errorf("GET invocation: %d %s", resp.StatusCode, body) // sync records are written in the background
		}
		if rec.Status != status {
			return fmt.Errorf("status %s (attempts %d, error %+v), want %s", rec.Status, rec.Attempts, rec.Error, status)
		}
		return nil
	})
	return rec
}

// MetricSum adds up a metric's series (a name, or a name with some of its
// labels) on the stack's gateway, read through its handler, so that it
// works on a gateway that has shut down too.
func MetricSum(t testing.TB, s *stack.Stack, prefix string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if s.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	}
	s.Gateway.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return SumSeries(rec.Body.String(), prefix)
}

// SumSeries adds up the values of the lines of Prometheus text that begin
// with prefix.
func SumSeries(text, prefix string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v)
			sum += v
		}
	}
	return sum
}
