package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

func TestTriggerCLI(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	hearth := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, out, errOut := hearth("trigger", "add", "hello", "--nats", "cli.greet"); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("trigger add: %d %q %q", code, out, errOut)
	}
	if code, out, _ := hearth("trigger", "add", "hello", "--cron", "@every 1h"); code != 0 || !strings.Contains(out, "version 3") {
		t.Fatalf("trigger add cron: %d %q", code, out)
	}
	if code, out, _ := hearth("trigger", "ls", "hello"); code != 0 || !strings.Contains(out, "cli.greet") || !strings.Contains(out, "@every 1h") {
		t.Fatalf("trigger ls: %d %q", code, out)
	}
	nc, err := nats.Connect(s.NATSServer.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	testutil.Eventually(t, 30*time.Second, func() error {
		msg, err := nc.Request("cli.greet", []byte("CLI"), time.Second)
		if err != nil {
			return err
		}
		if string(msg.Data) != "Hello, CLI!\n" {
			return fmt.Errorf("reply %q", msg.Data)
		}
		return nil
	})
	if code, out, _ := hearth("trigger", "rm", "hello", "1"); code != 0 || !strings.Contains(out, "version 4") {
		t.Fatalf("trigger rm: %d %q", code, out)
	}
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"trigger", "add", "hello"}, 2, "--nats SUBJECT or --cron"},
		{[]string{"trigger", "add", "hello", "--cron", "61 * * * *"}, 1, "invalid_spec"},
		{[]string{"trigger", "add", "hello", "--nats", "hearth.secret"}, 1, "invalid_spec"},
		{[]string{"trigger", "rm", "hello", "9"}, 3, "trigger_not_found"},
		{[]string{"trigger", "rm", "hello", "x"}, 2, "trigger number"},
		{[]string{"trigger", "ls", "nope"}, 3, "function_not_found"},
		{[]string{"trigger"}, 2, "hearth trigger add"},
	} {
		code, _, errOut := hearth(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.mention) {
			t.Errorf("hearth %v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.mention)
		}
	}
	// Bad trigger bodies over the API.
	resp, body := stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/triggers", "application/json", []byte(`{"kind":"nats"}`))
	stacktest.WantError(t, resp, body, 400, "invalid_trigger")
}
