package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

func TestAsyncCLI(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := hearth("invoke", "hello", "--async", "--data", "cli")
	id := strings.TrimSpace(out)
	if code != 0 || id == "" {
		t.Fatalf("invoke --async: %d %q %q", code, out, errOut)
	}
	stacktest.WaitStatus(t, s.GatewayURL, id, "succeeded")
	if code, out, _ := hearth("invocation", id); code != 0 || !strings.Contains(out, "status    succeeded") {
		t.Fatalf("invocation: %d %q", code, out)
	}
	if code, out, _ := hearth("invocation", id, "--result"); code != 0 || out != "Hello, cli!\n" {
		t.Fatalf("invocation --result: %d %q", code, out)
	}
	if code, out, _ := hearth("invocations", "hello"); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("invocations: %d %q", code, out)
	}
	if code, out, _ := hearth("logs", "hello"); code != 0 || !strings.Contains(out, "hello: greeted 3 bytes") || !strings.Contains(out, id) {
		t.Fatalf("logs: %d %q", code, out)
	}
	if code, _, errOut := hearth("dlq", "ls"); code != 0 || !strings.Contains(errOut, "empty") {
		t.Fatalf("dlq ls: %d %q", code, errOut)
	}
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"dlq", "replay", "nope"}, 3, "not_in_dlq"},
		{[]string{"dlq"}, 2, "dlq ls"},
		{[]string{"invocation", "nope"}, 3, "invocation_not_found"},
		{[]string{"invocations"}, 2, "want one function NAME"},
		{[]string{"logs"}, 2, "want one function NAME"},
		{[]string{"invocations", "hello", "--limit", "0"}, 1, "limit"},
		{[]string{"logs", "hello", "--limit", "-1"}, 2, "--limit -1: give 0 to 1000"},
		{[]string{"logs", "hello", "-f", "--limit", "1001"}, 2, "--limit 1001: give 0 to 1000"},
		{[]string{"logs", "hello", "--limit", "0"}, 2, "0 with -f"},
		{[]string{"logs", "hello", "--limit", "many"}, 2, "many"},
	} {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}
	// logs -f prints the logs of new invocations as they finish.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var followed syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"logs", "hello", "-f", "--gateway", s.GatewayURL}, &followed, io.Discard)
	}()
	// It follows the gateway's server-sent events stream, not a poll: the
	// gateway counts one open log stream.
	testutil.Eventually(t, 10*time.Second, func() error {
		if n := stacktest.MetricSum(t, s, "hearth_log_streams"); n != 1 {
			return fmt.Errorf("hearth_log_streams %v while logs -f runs", n)
		}
		return nil
	})
	stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", []byte("followed!"))
	testutil.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(followed.String(), "greeted 9 bytes") {
			return fmt.Errorf("logs -f printed %q", followed.String())
		}
		return nil
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("logs -f exit %d", code)
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
