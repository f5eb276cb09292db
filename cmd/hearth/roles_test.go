package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// externalConn starts the parts a cluster would have outside hearth: a
// nats-server and MinIO (the embedded S3 server when MinIO is unavailable).
func externalConn(t *testing.T) stack.Conn {
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

// gatewayRole starts a gateway role for a test on a random port; it stops
// when the test ends.
func gatewayRole(t *testing.T, conn stack.Conn, cfg gateway.Config) *stack.Stack {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	gw := &stack.Stack{Log: quietLogger()}
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	if err := gw.StartGatewayRole(context.Background(), conn, cfg, nil); err != nil {
		t.Fatal(err)
	}
	return gw
}

// runnerRole starts a runner role for a test, on its own connections.
func runnerRole(t *testing.T, conn stack.Conn, cfg runner.Config) *stack.Stack {
	t.Helper()
	rn := &stack.Stack{Log: quietLogger()}
	t.Cleanup(func() { _ = rn.Close(context.Background()) })
	if err := rn.Connect(context.Background(), conn, "test-runner"); err != nil {
		t.Fatal(err)
	}
	if err := rn.StartRunner(cfg); err != nil {
		t.Fatal(err)
	}
	return rn
}

// waitRunners polls the gateway's /v1/runners until it lists n runners.
func waitRunners(t *testing.T, gatewayURL string, n int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() error {
		_, body := call(t, http.MethodGet, gatewayURL+"/v1/runners", "", nil)
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

// TestGatewayAndRunnerRoles runs the gateway and two runners as separate
// roles, each with its own connections, against external NATS and S3.
func TestGatewayAndRunnerRoles(t *testing.T) {
	conn := externalConn(t)
	gw := gatewayRole(t, conn, gateway.Config{})
	for i := 0; i < 2; i++ {
		runnerRole(t, conn, runner.Config{CacheDir: t.TempDir()})
	}

	resp, body := call(t, http.MethodPut, gw.GatewayURL+"/v1/functions/hello", "application/wasm", exampleWasm(t, "hello"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	resp, body = call(t, http.MethodPost, gw.GatewayURL+"/v1/functions/hello/invoke", "", []byte("roles"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, roles!\n" {
		t.Fatalf("invoke: %d %q", resp.StatusCode, body)
	}
	// The gateway knows both runners from their heartbeats.
	waitRunners(t, gw.GatewayURL, 2)
	resp, body = call(t, http.MethodGet, gw.GatewayURL+"/readyz", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
}

func TestRoleFlagErrors(t *testing.T) {
	t.Setenv("HEARTH_S3_ENDPOINT", "")
	for _, args := range [][]string{
		{"gateway", "--nats", "nats://127.0.0.1:1"},
		{"runner", "--nats", "nats://127.0.0.1:1"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), args, &bytes.Buffer{}, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "--s3-endpoint") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a hint about --s3-endpoint", args, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"runner", "--nats", "nats://127.0.0.1:1", "--s3-endpoint", "http://127.0.0.1:1"}, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "NATS") {
		t.Errorf("runner with unreachable NATS: exit %d, stderr %q", code, stderr.String())
	}
}

// TestCLI drives the CLI commands against a dev stack.
func TestCLI(t *testing.T) {
	s := startTestDev(t, t.TempDir())
	hello := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(hello, exampleWasm(t, "hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	if code, out, errOut := hearth("deploy", "greet", hello, "--timeout", "2s", "--env", "A=b"); code != 0 || !strings.Contains(out, "deployed greet version 1") {
		t.Fatalf("deploy: %d %q %q", code, out, errOut)
	}
	if code, out, _ := hearth("invoke", "greet", "--data", "CLI"); code != 0 || out != "Hello, CLI!\n" {
		t.Fatalf("invoke: %d %q", code, out)
	}
	input := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(input, []byte("file"), 0o644)
	if code, out, _ := hearth("invoke", "greet", "--data", "@"+input); code != 0 || out != "Hello, file!\n" {
		t.Fatalf("invoke @file: %d %q", code, out)
	}
	if code, out, _ := hearth("ls"); code != 0 || !strings.Contains(out, "greet") || !strings.Contains(out, "hello") {
		t.Fatalf("ls: %d %q", code, out)
	}
	if code, out, _ := hearth("rm", "greet"); code != 0 || !strings.Contains(out, "removed greet") {
		t.Fatalf("rm: %d %q", code, out)
	}

	bad := []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"invoke", "greet"}, 1, "function_not_found"},
		{[]string{"rm", "greet"}, 1, "function_not_found"},
		{[]string{"deploy", "greet"}, 2, "want NAME and FILE.wasm"},
		{[]string{"deploy", "greet", "/does/not/exist.wasm"}, 1, "read module"},
		{[]string{"deploy", "Bad_Name", hello}, 1, "invalid_name"},
		{[]string{"deploy", "greet", hello, "--env", "novalue"}, 2, "KEY=VALUE"},
		{[]string{"deploy", "greet", hello, "--memory", "999999"}, 1, "memory_mb"},
		{[]string{"invoke"}, 2, "want one function NAME"},
		{[]string{"invoke", "hello", "--data", "@/does/not/exist"}, 1, "read input"},
		{[]string{"ls", "extra"}, 2, "no arguments"},
		{[]string{"deploy", "--no-such-flag"}, 2, "flag provided but not defined"},
	}
	for _, tt := range bad {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}

	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"ls", "--gateway", "http://127.0.0.1:1"}, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "is the gateway running") {
		t.Errorf("ls against no gateway: %d %q", code, stderr.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, &bytes.Buffer{}, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}
