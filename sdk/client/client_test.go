package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/sdk/client"
)

// The package's tests and examples share one in-process dev stack, with
// auth on (as hearth dev --auth): gatewayURL is where its gateway
// listens, apiKey its bootstrap admin key.
var (
	gatewayURL string
	apiKey     string
)

func TestMain(m *testing.M) {
	os.Exit(runWithStack(m))
}

func runWithStack(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hearth-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	s, err := stack.StartDev(context.Background(), stack.DevConfig{
		DataDir: dir, Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", S3Listen: "127.0.0.1:0",
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Gateway: gateway.Config{Auth: true},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the dev stack:", err)
		return 1
	}
	defer s.Close(context.Background())
	gatewayURL, apiKey = s.GatewayURL, s.AdminKey
	return m.Run()
}

// newClient is a client of the test stack with its admin key; c.HTTP is
// tr's when tr is set.
func newClient(tr http.RoundTripper) *client.Client {
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	if tr != nil {
		c.HTTP = &http.Client{Transport: tr}
	}
	return c
}

func module(t testing.TB, name string) []byte {
	t.Helper()
	for _, ex := range functions.Examples() {
		if ex.Name == name {
			return ex.Wasm
		}
	}
	t.Fatalf("no example %s", name)
	return nil
}

// wantAPIError checks err is an *client.Error with status and code.
func wantAPIError(t testing.TB, what string, err error, status int, code string) {
	t.Helper()
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("%s: error %v (%T), want an *client.Error", what, err, err)
	}
	if apiErr.Status != status || apiErr.Code != code || apiErr.Message == "" {
		t.Fatalf("%s: %d %q %q, want %d %s with a message", what, apiErr.Status, apiErr.Code, apiErr.Message, status, code)
	}
}

// exercise calls every method of the client against the stack, checking
// each answer; TestClientRoutesInOpenAPI runs it through a recorder.
func exercise(t *testing.T, c *client.Client) {
	ctx := context.Background()
	hello := module(t, "hello")
	name := "client-fn"
	_ = c.Delete(ctx, name) // a rerun with -count

	// Deploy, check, list, get.
	if d, err := c.CheckDeploy(ctx, name, hello, &client.Spec{MemoryMB: 32}); err != nil || !d.DryRun {
		t.Fatalf("CheckDeploy: %+v, %v", d, err)
	}
	if _, err := c.Get(ctx, name); err != nil {
		wantAPIError(t, "Get after a dry run", err, 404, "function_not_found")
	} else {
		t.Fatal("a dry run stored the function")
	}
	d1, err := c.Deploy(ctx, name, hello, &client.Spec{MemoryMB: 32, Env: map[string]string{"K": "v"}})
	if err != nil || d1.Version != 1 || d1.Name != name || !strings.HasPrefix(d1.Digest, "sha256:") && d1.Digest == "" {
		t.Fatalf("Deploy: %+v, %v", d1, err)
	}
	d2, err := c.DeployWith(ctx, name, hello, nil, client.DeployOptions{Warm: client.WarmOff})
	if err != nil || d2.Version != 2 {
		t.Fatalf("DeployWith: %+v, %v", d2, err)
	}
	if _, err := c.DeployWith(ctx, name, hello, nil, client.DeployOptions{Warm: "hot"}); err == nil || !strings.Contains(err.Error(), "Warm") {
		t.Fatalf("DeployWith Warm hot: %v, want an error naming the option", err)
	}
	fns, err := c.List(ctx)
	if err != nil || !slices.ContainsFunc(fns, func(f client.Function) bool { return f.Name == name && f.Version == 2 }) {
		t.Fatalf("List: %+v, %v", fns, err)
	}
	fn, err := c.Get(ctx, name)
	if err != nil || fn.Version != 2 || len(fn.Versions) != 2 {
		t.Fatalf("Get: %+v, %v", fn, err)
	}

	// Sync calls, versions, aliases.
	out, info, err := c.Invoke(ctx, name, []byte("client"))
	if err != nil || string(out) != "Hello, client!\n" || info.InvocationID == "" || info.ServerTiming == "" {
		t.Fatalf("Invoke: %q %+v %v", out, info, err)
	}
	vs, err := c.Versions(ctx, name)
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[0].Spec.Env["K"] != "v" {
		t.Fatalf("Versions: %+v, %v", vs, err)
	}
	if v, err := c.Version(ctx, name, 1); err != nil || v.Spec.MemoryMB != 32 {
		t.Fatalf("Version 1: %+v, %v", v, err)
	}
	_, err = c.Version(ctx, name, 9)
	wantAPIError(t, "Version 9", err, 404, "version_not_found")
	if a, err := c.SetAlias(ctx, name, "prod", 1); err != nil || a.Version != 1 {
		t.Fatalf("SetAlias: %+v, %v", a, err)
	}
	if out, _, err := c.Invoke(ctx, name+":prod", []byte("prod")); err != nil || string(out) != "Hello, prod!\n" {
		t.Fatalf("Invoke through the alias: %q, %v", out, err)
	}
	if a, err := c.SetAliasWeights(ctx, name, "canary", map[int]int{1: 90, 2: 10}); err != nil || a.Weights[1] != 90 {
		t.Fatalf("SetAliasWeights: %+v, %v", a, err)
	}
	_, err = c.SetAliasWeights(ctx, name, "bad", map[int]int{1: 50})
	wantAPIError(t, "weights adding up to 50", err, 400, "invalid_alias")
	as, err := c.Aliases(ctx, name)
	if err != nil || len(as) != 3 || as[0].Name != "latest" || !as[0].Implicit {
		t.Fatalf("Aliases: %+v, %v", as, err)
	}
	if a, err := c.Alias(ctx, name, "prod"); err != nil || a.Version != 1 {
		t.Fatalf("Alias: %+v, %v", a, err)
	}
	if err := c.DeleteAlias(ctx, name, "canary"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Alias(ctx, name, "canary")
	wantAPIError(t, "Alias after DeleteAlias", err, 404, "alias_not_found")

	// Async: queue, wait, record, result, logs, the list.
	id, err := c.InvokeAsync(ctx, name, []byte("later"), "client-idem-1", "")
	if err != nil || id == "" {
		t.Fatalf("InvokeAsync: %q, %v", id, err)
	}
	if again, err := c.InvokeAsync(ctx, name, []byte("later"), "client-idem-1", ""); err != nil || again != id {
		t.Fatalf("InvokeAsync with the same idempotency key: %q, %v; want %q", again, err, id)
	}
	var inv *client.Invocation
	testutil.Eventually(t, 30*time.Second, func() error {
		inv, err = c.Invocation(ctx, id)
		if err != nil {
			return err
		}
		if inv.Status != "succeeded" {
			return fmt.Errorf("status %s", inv.Status)
		}
		return nil
	})
	if inv.Function != name || inv.Mode != "async" || inv.Attempts != 1 {
		t.Errorf("Invocation: %+v", inv)
	}
	if out, err := c.Result(ctx, id); err != nil || string(out) != "Hello, later!\n" {
		t.Fatalf("Result: %q, %v", out, err)
	}
	if logs, err := c.Logs(ctx, id); err != nil || !strings.Contains(string(logs), "greeted 5 bytes") {
		t.Fatalf("Logs: %q, %v", logs, err)
	}
	invs, err := c.Invocations(ctx, name, 10)
	if err != nil || !slices.ContainsFunc(invs, func(i client.Invocation) bool { return i.ID == id }) {
		t.Fatalf("Invocations: %+v, %v", invs, err)
	}
	_, err = c.Invocation(ctx, "nope")
	wantAPIError(t, "Invocation nope", err, 404, "invocation_not_found")
	if _, err := c.DeadLetters(ctx, name); err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	wantAPIError(t, "Replay nope", c.Replay(ctx, "nope"), 404, "not_in_dlq")

	// The log stream: the backlog of finished calls, then it ends when
	// its context does.
	fctx, cancel := context.WithCancel(ctx)
	var got []client.LogEvent
	err = c.FollowLogs(fctx, name, 5, func(ev client.LogEvent) error {
		got = append(got, ev)
		if ev.ID == id {
			cancel()
		}
		return nil
	})
	cancel()
	if !errors.Is(err, context.Canceled) || !slices.ContainsFunc(got, func(ev client.LogEvent) bool { return ev.ID == id }) {
		t.Fatalf("FollowLogs: %v, events %+v", err, got)
	}

	// Triggers.
	v, err := c.AddTrigger(ctx, name, client.Trigger{Type: "nats", Subject: "client.test"})
	if err != nil || v != 3 {
		t.Fatalf("AddTrigger: %d, %v", v, err)
	}
	ts, err := c.Triggers(ctx, name)
	if err != nil || len(ts) != 1 || ts[0].Subject != "client.test" {
		t.Fatalf("Triggers: %+v, %v", ts, err)
	}
	if v, err := c.DeleteTrigger(ctx, name, 1); err != nil || v != 4 {
		t.Fatalf("DeleteTrigger: %d, %v", v, err)
	}
	_, err = c.AddTrigger(ctx, name, client.Trigger{Type: "carrier-pigeon"})
	wantAPIError(t, "AddTrigger of an unknown type", err, 400, "invalid_spec")

	// Secrets.
	if created, meta, err := c.PutSecret(ctx, "client-secret", []byte("s3cret")); err != nil || !created || meta.Name != "client-secret" {
		t.Fatalf("PutSecret: %t %+v %v", created, meta, err)
	}
	if created, _, err := c.PutSecret(ctx, "client-secret", []byte("again")); err != nil || created {
		t.Fatalf("PutSecret again: %t %v", created, err)
	}
	if _, _, err := c.PutSecret(ctx, "bin", []byte{0xff, 0xfe}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("PutSecret of binary: %v, want a UTF-8 error", err)
	}
	if ss, err := c.ListSecrets(ctx); err != nil || !slices.ContainsFunc(ss, func(s client.SecretMeta) bool { return s.Name == "client-secret" }) {
		t.Fatalf("ListSecrets: %+v, %v", ss, err)
	}
	if m, err := c.GetSecret(ctx, "client-secret"); err != nil || m.Name != "client-secret" {
		t.Fatalf("GetSecret: %+v, %v", m, err)
	}
	if err := c.DeleteSecret(ctx, "client-secret"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSecret(ctx, "client-secret")
	wantAPIError(t, "GetSecret after DeleteSecret", err, 404, "secret_not_found")

	// Keys and the audit log.
	k, err := c.CreateKey(ctx, client.KeyRequest{Name: "client-reader", Scopes: []string{client.ScopeRead}, Namespace: "default"})
	if err != nil || k.Key == "" || k.ID == "" {
		t.Fatalf("CreateKey: %+v, %v", k, err)
	}
	reader := client.New(c.BaseURL)
	reader.APIKey = reader.APIKey + k.Key
	reader.HTTP = c.HTTP
	if _, err := reader.Get(ctx, name); err != nil {
		t.Fatalf("Get with a read key: %v", err)
	}
	wantAPIError(t, "Delete with a read key", reader.Delete(ctx, name), 403, "forbidden")
	if ks, err := c.ListKeys(ctx); err != nil || !slices.ContainsFunc(ks, func(x client.Key) bool { return x.ID == k.ID }) {
		t.Fatalf("ListKeys: %+v, %v", ks, err)
	}
	if err := c.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "DeleteKey again", c.DeleteKey(ctx, k.ID), 404, "key_not_found")
	_, err = c.CreateKey(ctx, client.KeyRequest{Name: "x", Scopes: []string{"root"}, Namespace: "default"})
	wantAPIError(t, "CreateKey with an unknown scope", err, 400, "invalid_key")
	es, err := c.Audit(ctx, client.AuditQuery{Action: "key.create", Limit: 10})
	if err != nil || len(es) == 0 || es[0].Action != "key.create" {
		t.Fatalf("Audit: %+v, %v", es, err)
	}

	// Errors of a call and of no key.
	_, _, err = c.Invoke(ctx, "no-such-fn", nil)
	wantAPIError(t, "Invoke of an unknown function", err, 404, "function_not_found")
	anon := client.New(c.BaseURL)
	anon.HTTP = c.HTTP
	_, err = anon.List(ctx)
	wantAPIError(t, "List without a key", err, 401, "unauthorized")

	if err := c.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "Delete again", c.Delete(ctx, name), 404, "function_not_found")
}

// TestClient runs every method of the client against the dev stack.
func TestClient(t *testing.T) {
	exercise(t, newClient(nil))
}
