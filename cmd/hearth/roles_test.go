package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/natsauth/natsauthtest"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/nats-io/nats-server/v2/server"
)

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
	s := stacktest.Dev(t, t.TempDir())
	hello := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(hello, stacktest.ExampleWasm(t, "hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	if code, out, errOut := hearth("deploy", "greet", hello, "--timeout", "2s", "--env", "A=b", "--records", "errors", "--warm", "wait"); code != 0 || !strings.Contains(out, "deployed greet version 1") {
		t.Fatalf("deploy: %d %q %q", code, out, errOut)
	}
	if code, out, _ := hearth("inspect", "greet"); code != 0 || !regexp.MustCompile(`records:\s+errors`).MatchString(out) {
		t.Fatalf("inspect: %d %q; want records: errors", code, out)
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
		{[]string{"invoke", "greet"}, 3, "function_not_found"},
		{[]string{"rm", "greet"}, 3, "function_not_found"},
		{[]string{"deploy", "greet"}, 2, "want NAME and FILE.wasm"},
		{[]string{"deploy", "greet", "/does/not/exist.wasm"}, 1, "read module"},
		{[]string{"deploy", "Bad_Name", hello}, 1, "invalid_name"},
		{[]string{"deploy", "greet", hello, "--env", "novalue"}, 2, "KEY=VALUE"},
		{[]string{"deploy", "greet", hello, "--records", "some"}, 2, "use all"},
		{[]string{"deploy", "greet", hello, "--warm", "later"}, 2, "use wait"},
		{[]string{"deploy", "greet", hello, "--memory", "999999"}, 1, "memory_mb"},
		{[]string{"invoke"}, 2, "want one function NAME"},
		{[]string{"invoke", "hello", "--data", "@/does/not/exist"}, 1, "read input"},
		{[]string{"ls", "extra"}, 2, "no arguments"},
		{[]string{"deploy", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
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

// TestRunnerMetricsListen: `hearth runner --metrics-listen` serves the
// runner's own series (capacity, in flight) and the process's on the
// address it prints; a bad address exits 1 and names it.
func TestRunnerMetricsListen(t *testing.T) {
	clearConnEnv(t)
	s3 := testutil.S3Config(t)
	t.Setenv("HEARTH_S3_ACCESS_KEY", s3.AccessKey)
	t.Setenv("HEARTH_S3_SECRET_KEY", s3.SecretKey)
	ns := natsauthtest.Server(t, func(*server.Options) {})
	args := []string{"--nats", ns.ClientURL(), "--s3-endpoint", s3.Endpoint, "--metrics-listen", "127.0.0.1:0"}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"runner", "--cache-dir", t.TempDir()}, args...), &stdout, &stderr)
	}()
	defer func() { cancel(); <-done }()
	var url string
	testutil.Eventually(t, 30*time.Second, func() error {
		m := regexp.MustCompile(`metrics at (http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(stdout.String())
		if m == nil {
			return fmt.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		url = m[1]
		return nil
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	for _, want := range []string{"hearth_runner_capacity", "hearth_runner_in_flight", "process_cpu_seconds_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s has no %s", url, want)
		}
	}

	var errOut bytes.Buffer
	code := run(context.Background(), []string{"runner", "--cache-dir", t.TempDir(), "--nats", ns.ClientURL(), "--s3-endpoint", s3.Endpoint, "--metrics-listen", "256.0.0.1:99999"}, io.Discard, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "256.0.0.1:99999") {
		t.Errorf("bad --metrics-listen: exit %d, stderr %q", code, errOut.String())
	}
}
