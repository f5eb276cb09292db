package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestSecurityCLI drives hearth key, secret and audit against a dev stack
// with auth on: the admin makes a deploy key, the deploy key sets a
// secret and deploys a function granting it, the audit log shows it all,
// and a revoked key is refused.
func TestSecurityCLI(t *testing.T) {
	t.Setenv("HEARTH_NAMESPACE", "")
	dir := t.TempDir()
	s := stacktest.DevWith(t, stack.DevConfig{DataDir: dir, Gateway: gateway.Config{Auth: true}})
	adminKey, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		t.Fatalf("hearth dev --auth wrote no admin key: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "admin.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key mode %v", fi.Mode().Perm())
	}
	hearth := func(key, stdin string, args ...string) (int, string, string) {
		t.Helper()
		t.Setenv("HEARTH_API_KEY", key)
		var stdout, stderr bytes.Buffer
		if stdin != "" {
			f := filepath.Join(t.TempDir(), "stdin")
			os.WriteFile(f, []byte(stdin), 0o600)
			in, _ := os.Open(f)
			defer in.Close()
			old := os.Stdin
			os.Stdin = in
			defer func() { os.Stdin = old }()
		}
		code := run(context.Background(), append(args, "--gateway", s.GatewayURL), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	admin := strings.TrimSpace(string(adminKey))

	if code, _, errOut := hearth("", "", "ls"); code != 1 || !strings.Contains(errOut, "unauthorized") || !strings.Contains(errOut, "HEARTH_API_KEY") {
		t.Fatalf("ls without a key: %d %q", code, errOut)
	}
	code, out, errOut := hearth(admin, "", "key", "create", "ci", "--scope", "deploy", "--key-namespace", "team-a")
	m := regexp.MustCompile(`(?m)^key: (hk_\S+)$`).FindStringSubmatch(out)
	id := regexp.MustCompile(`(?m)^id:  (\S+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil || id == nil {
		t.Fatalf("key create: %d %q %q", code, out, errOut)
	}
	deployKey := m[1]
	if code, out, _ := hearth(admin, "", "key", "ls"); code != 0 || !strings.Contains(out, id[1]) || strings.Contains(out, deployKey) {
		t.Fatalf("key ls: %d %q", code, out)
	}

	// The value from stdin, a file and a flag; never printed.
	value := "s3cr3t-" + strings.Repeat("x", 8)
	if code, out, errOut := hearth(deployKey, value, "secret", "set", "db-password", "--namespace", "team-a"); code != 0 || !strings.Contains(out, "created") || strings.Contains(out+errOut, value) {
		t.Fatalf("secret set (stdin): %d %q %q", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "v")
	os.WriteFile(file, []byte(value+"2"), 0o600)
	if code, out, errOut := hearth(deployKey, "", "secret", "set", "db-password", "--from-file", file, "--namespace", "team-a"); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("secret set (file): %d %q %q", code, out, errOut)
	}
	if code, out, _ := hearth(deployKey, "", "secret", "ls", "--namespace", "team-a"); code != 0 || !strings.Contains(out, "db-password") || strings.Contains(out, value) {
		t.Fatalf("secret ls: %d %q", code, out)
	}
	// The deploy key cannot touch another namespace.
	if code, _, errOut := hearth(deployKey, "", "secret", "set", "x", "--value", "v", "--namespace", "team-b"); code != 1 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("secret set in another namespace: %d %q", code, errOut)
	}
	hello := filepath.Join(t.TempDir(), "hello.wasm")
	os.WriteFile(hello, stacktest.ExampleWasm(t, "hello"), 0o644)
	if code, out, errOut := hearth(deployKey, "", "deploy", "greet", hello, "--namespace", "team-a", "--secret", "db-password"); code != 0 {
		t.Fatalf("deploy with a secret: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := hearth(deployKey, "", "deploy", "greet", hello, "--namespace", "team-a", "--secret", "nope"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Fatalf("deploy with a missing secret: %d %q", code, errOut)
	}
	if code, out, _ := hearth(deployKey, "", "secret", "rm", "db-password", "--namespace", "team-a"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("secret rm: %d %q", code, out)
	}
	if code, _, errOut := hearth(deployKey, "", "audit"); code != 1 || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("audit with a deploy key: %d %q", code, errOut)
	}
	code, out, _ = hearth(admin, "", "audit", "--limit", "20")
	for _, want := range []string{"secret.put", "secret.delete", "function.deploy", "key.create", "denied", id[1]} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("audit: %d, no %q in %q", code, want, out)
		}
	}
	if strings.Contains(out, value) {
		t.Fatal("the audit log shows a secret value")
	}
	if code, out, _ := hearth(admin, "", "key", "rm", id[1]); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("key rm: %d %q", code, out)
	}
	if code, _, errOut := hearth(deployKey, "", "ls", "--namespace", "team-a"); code != 1 || !strings.Contains(errOut, "unauthorized") {
		t.Fatalf("a revoked key: %d %q", code, errOut)
	}
}

// lockedBuffer is a bytes.Buffer written by a role while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestGatewayRequiresKeys: hearth gateway does not start without keys
// unless told --insecure-no-auth, and then says so in its log; with
// HEARTH_ADMIN_KEY it starts and checks keys.
func TestGatewayRequiresKeys(t *testing.T) {
	conn := stacktest.ExternalConn(t)
	t.Setenv("HEARTH_ADMIN_KEY", "")
	t.Setenv("HEARTH_SECRETS_KEY", "")
	args := []string{"gateway", "--nats", conn.NATSURL, "--s3-endpoint", conn.S3.Endpoint, "--s3-bucket", "hearth", "--listen", "127.0.0.1:0"}
	t.Setenv("HEARTH_S3_ACCESS_KEY", conn.S3.AccessKey)
	t.Setenv("HEARTH_S3_SECRET_KEY", conn.S3.SecretKey)

	var stderr bytes.Buffer
	if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "HEARTH_ADMIN_KEY") || !strings.Contains(stderr.String(), "--insecure-no-auth") {
		t.Fatalf("gateway without keys: exit %d, stderr %q", code, stderr.String())
	}
	t.Setenv("HEARTH_ADMIN_KEY", "short")
	stderr.Reset()
	if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "at least 32") {
		t.Fatalf("gateway with a short admin key: exit %d, stderr %q", code, stderr.String())
	}
	t.Setenv("HEARTH_ADMIN_KEY", "")
	t.Setenv("HEARTH_SECRETS_KEY", "not a key")
	stderr.Reset()
	if code := run(context.Background(), append(args, "--insecure-no-auth"), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "HEARTH_SECRETS_KEY") {
		t.Fatalf("gateway with a bad secrets key: exit %d, stderr %q", code, stderr.String())
	}
	t.Setenv("HEARTH_SECRETS_KEY", "")

	for _, c := range []struct {
		name      string
		extra     []string
		adminKey  string
		wantLog   string
		wantNoKey int
	}{
		{"insecure", []string{"--insecure-no-auth"}, "", "auth is off", 200},
		{"keys", nil, "an-admin-key-of-at-least-32-characters!", "no secrets key", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HEARTH_ADMIN_KEY", c.adminKey)
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, logs lockedBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, append(append([]string{}, args...), c.extra...), &stdout, &logs) }()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("exit %d: %s", code, logs.String())
				}
			}()
			var url string
			testutil.Eventually(t, 20*time.Second, func() error {
				m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(stdout.String())
				if m == nil {
					return errString("not listening yet: " + logs.String())
				}
				url = "http://" + strings.TrimPrefix(m[1], "http://")
				return nil
			})
			if !strings.Contains(logs.String(), c.wantLog) {
				t.Errorf("log %q lacks %q", logs.String(), c.wantLog)
			}
			resp, body := stacktest.Call(t, "GET", url+"/v1/functions", "", nil)
			if resp.StatusCode != c.wantNoKey {
				t.Errorf("GET /v1/functions without a key: %d %s, want %d", resp.StatusCode, body, c.wantNoKey)
			}
			if resp, _ := stacktest.Call(t, "GET", url+"/healthz", "", nil); resp.StatusCode != 200 {
				t.Errorf("healthz: %d", resp.StatusCode)
			}
			if c.adminKey != "" {
				if resp, body := stacktest.CallAs(t, c.adminKey, "GET", url+"/v1/functions", "", nil); resp.StatusCode != 200 {
					t.Errorf("with the admin key: %d %s", resp.StatusCode, body)
				}
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestDevNATSListenPublic: hearth dev refuses a non-loopback address for
// its embedded NATS (which has no credentials) unless told.
func TestDevNATSListenPublic(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"dev", "--data", t.TempDir(), "--nats-listen", "0.0.0.0:0"}, &bytes.Buffer{}, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--nats-listen-public") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
