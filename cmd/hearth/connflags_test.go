package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spf13/pflag"

	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/natsauth/natsauthtest"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
)

// connEnv are the variables connFlags reads; clearConnEnv empties them
// so that the test's environment does not leak in.
var connEnv = []string{
	"HEARTH_NATS_URL", "HEARTH_NATS_USER", "HEARTH_NATS_PASSWORD", "HEARTH_NATS_TOKEN", "HEARTH_NATS_NKEY", "HEARTH_NATS_CREDS",
	"HEARTH_NATS_TLS_CA", "HEARTH_NATS_TLS_CERT", "HEARTH_NATS_TLS_KEY",
	"HEARTH_S3_ENDPOINT", "HEARTH_S3_ACCESS_KEY", "HEARTH_S3_SECRET_KEY", "HEARTH_S3_ACCESS_KEY_FILE", "HEARTH_S3_SECRET_KEY_FILE", "HEARTH_S3_BUCKET",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
}

func clearConnEnv(t *testing.T) {
	t.Helper()
	for _, k := range connEnv {
		t.Setenv(k, "")
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConnFlagUsageErrors: bad NATS and S3 credential settings are usage
// errors (exit 2) of the gateway and the runner, naming the flag, before
// anything connects; no secret is printed.
func TestConnFlagUsageErrors(t *testing.T) {
	clearConnEnv(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	empty := writeFile(t, filepath.Join(dir, "empty"), " \n")
	secretFile := writeFile(t, filepath.Join(dir, "secret"), "file-SEKRIT\n")
	credsFile, _ := natsauthtest.Creds(t)
	tlsFiles := natsauthtest.NewTLS(t)
	base := []string{"--nats", "nats://127.0.0.1:1", "--s3-endpoint", "http://127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--nats-tls-cert", tlsFiles.ClientCert}, nil, "--nats-tls-cert needs --nats-tls-key"},
		{nil, map[string]string{"HEARTH_NATS_TLS_KEY": tlsFiles.ClientKey}, "--nats-tls-key needs --nats-tls-cert"},
		{[]string{"--nats-creds", credsFile, "--nats-user", "hearth"}, map[string]string{"HEARTH_NATS_PASSWORD": "pw-SEKRIT"},
			"two ways to authenticate to NATS at once: --nats-user/--nats-password and --nats-creds; use one"},
		{nil, map[string]string{"HEARTH_NATS_TOKEN": "tok-SEKRIT", "HEARTH_NATS_CREDS": credsFile}, "--nats-token and --nats-creds"},
		{[]string{"--nats", "nats://u:pw-SEKRIT@127.0.0.1:1"}, map[string]string{"HEARTH_NATS_TOKEN": "tok-SEKRIT"}, "--nats-token and credentials in the --nats URL"},
		{[]string{"--nats-user", "hearth"}, nil, "--nats-user needs a password: set HEARTH_NATS_PASSWORD"},
		{nil, map[string]string{"HEARTH_NATS_PASSWORD": "pw-SEKRIT"}, "a NATS password without a user"},
		{[]string{"--nats-nkey", missing}, nil, "--nats-nkey " + missing + ": cannot read it: no such file or directory"},
		{[]string{"--nats-creds", empty}, nil, "--nats-creds " + empty + ": not a NATS credentials file"},
		{nil, map[string]string{"HEARTH_NATS_TLS_CA": missing}, "--nats-tls-ca " + missing + ": cannot read it"},
		{[]string{"--nats-tls-cert", missing, "--nats-tls-key", tlsFiles.ClientKey}, nil, "--nats-tls-cert " + missing + ": cannot read it"},
		{[]string{"--s3-secret-key-file", secretFile}, map[string]string{"HEARTH_S3_SECRET_KEY": "env-SEKRIT"},
			"--s3-secret-key (or HEARTH_S3_SECRET_KEY) and --s3-secret-key-file (or HEARTH_S3_SECRET_KEY_FILE) are both set: use one"},
		{[]string{"--s3-access-key", "AK", "--s3-access-key-file", secretFile}, nil, "--s3-access-key (or HEARTH_S3_ACCESS_KEY) and --s3-access-key-file"},
		{[]string{"--s3-access-key-file", missing}, nil, "--s3-access-key-file " + missing + ": cannot read it: no such file or directory"},
		{nil, map[string]string{"HEARTH_S3_SECRET_KEY_FILE": empty}, "--s3-secret-key-file " + empty + " is empty"},
	} {
		for _, role := range []string{"runner", "gateway"} {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := run(context.Background(), append(append([]string{role}, base...), c.args...), io.Discard, &stderr)
			for k := range c.env {
				t.Setenv(k, "")
			}
			if code != 2 || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("%s %v %v: exit %d, stderr %q; want 2 and %q", role, c.args, c.env, code, stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "SEKRIT") {
				t.Errorf("%s %v: a secret in stderr %q", role, c.args, stderr.String())
			}
		}
	}
}

// TestHelpHidesSecrets: -h prints the flags' defaults, which never
// include a password, token or secret key from the environment.
func TestHelpHidesSecrets(t *testing.T) {
	clearConnEnv(t)
	t.Setenv("HEARTH_NATS_PASSWORD", "pw-SEKRIT")
	t.Setenv("HEARTH_NATS_TOKEN", "tok-SEKRIT")
	t.Setenv("HEARTH_S3_SECRET_KEY", "s3-SEKRIT")
	for _, role := range []string{"runner", "gateway"} {
		var stdout bytes.Buffer
		if code := run(context.Background(), []string{role, "-h"}, &stdout, io.Discard); code != 0 {
			t.Fatalf("%s -h: exit %d", role, code)
		}
		help := stdout.String()
		if strings.Contains(help, "SEKRIT") {
			t.Errorf("%s -h shows a secret:\n%s", role, help)
		}
		for _, f := range []string{"--nats-user", "--nats-password", "--nats-token", "--nats-nkey", "--nats-creds", "--nats-tls-ca", "--nats-tls-cert", "--nats-tls-key", "--s3-access-key-file", "--s3-secret-key-file"} {
			if !strings.Contains(help, f) {
				t.Errorf("%s -h does not list %s", role, f)
			}
		}
	}
}

// TestS3KeysFromFilesAndEnv: S3 keys come from a flag or HEARTH_S3_*, or
// from files (trimmed, as Kubernetes mounts secrets), or else from the
// standard AWS variables.
func TestS3KeysFromFilesAndEnv(t *testing.T) {
	dir := t.TempDir()
	access := writeFile(t, filepath.Join(dir, "access"), "  AKFILE\n")
	secret := writeFile(t, filepath.Join(dir, "secret"), "SKFILE\r\n\n")
	for _, c := range []struct {
		name             string
		args             []string
		env              map[string]string
		access, secretOK string
	}{
		{"files", []string{"--s3-access-key-file", access, "--s3-secret-key-file", secret}, nil, "AKFILE", "SKFILE"},
		{"file env vars", nil, map[string]string{"HEARTH_S3_ACCESS_KEY_FILE": access, "HEARTH_S3_SECRET_KEY_FILE": secret}, "AKFILE", "SKFILE"},
		{"files over AWS", []string{"--s3-access-key-file", access, "--s3-secret-key-file", secret},
			map[string]string{"AWS_ACCESS_KEY_ID": "AKAWS", "AWS_SECRET_ACCESS_KEY": "SKAWS"}, "AKFILE", "SKFILE"},
		{"AWS fallback", nil, map[string]string{"AWS_ACCESS_KEY_ID": "AKAWS", "AWS_SECRET_ACCESS_KEY": "SKAWS"}, "AKAWS", "SKAWS"},
		{"HEARTH over AWS", nil, map[string]string{"HEARTH_S3_ACCESS_KEY": "AKH", "HEARTH_S3_SECRET_KEY": "SKH",
			"AWS_ACCESS_KEY_ID": "AKAWS", "AWS_SECRET_ACCESS_KEY": "SKAWS"}, "AKH", "SKH"},
		{"flags over env", []string{"--s3-access-key", "AKF", "--s3-secret-key", "SKF"},
			map[string]string{"HEARTH_S3_ACCESS_KEY": "AKH", "HEARTH_S3_SECRET_KEY": "SKH"}, "AKF", "SKF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearConnEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var cf connFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			cf.register(fs)
			if err := fs.Parse(append([]string{"--s3-endpoint", "http://127.0.0.1:1"}, c.args...)); err != nil {
				t.Fatal(err)
			}
			if err := cf.validate(); err != nil {
				t.Fatal(err)
			}
			if cf.cfg.S3.AccessKey != c.access || cf.cfg.S3.SecretKey != c.secretOK {
				t.Errorf("keys %q/%q, want %q/%q", cf.cfg.S3.AccessKey, cf.cfg.S3.SecretKey, c.access, c.secretOK)
			}
		})
	}
}

// startRunnerCmd runs `hearth runner` with args until it says it takes
// work, and returns a function that stops it and reports its exit code.
func startRunnerCmd(t *testing.T, args ...string) (stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"runner", "--cache-dir", t.TempDir()}, args...), &stdout, &stderr)
	}()
	var code int
	exited := false
	testutil.Eventually(t, 30*time.Second, func() error {
		select {
		case code = <-done:
			exited = true
			return nil
		default:
		}
		if !strings.Contains(stdout.String(), "taking work from") {
			return fmt.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		return nil
	})
	if exited {
		cancel()
		t.Fatalf("hearth runner %v exited %d: %s", args, code, stderr.String())
	}
	return func() int { cancel(); return <-done }
}

// TestRunnerNATSAuthFlags: `hearth runner` connects with the auth flags
// and env vars (user and password over TLS with a client certificate, an
// NKey), and a wrong password or CA exits 1 with an error that names the
// cause.
func TestRunnerNATSAuthFlags(t *testing.T) {
	clearConnEnv(t)
	s3 := testutil.S3Config(t)
	t.Setenv("HEARTH_S3_ACCESS_KEY", s3.AccessKey)
	t.Setenv("HEARTH_S3_SECRET_KEY", s3.SecretKey)
	tlsFiles := natsauthtest.NewTLS(t)
	serverTLS := tlsFiles.Server(t)
	ns := natsauthtest.Server(t, func(o *server.Options) { serverTLS(o); natsauthtest.UserPassword("hearth", "pw-SEKRIT")(o) })
	base := []string{"--nats", ns.ClientURL(), "--s3-endpoint", s3.Endpoint, "--nats-user", "hearth"}
	tlsArgs := []string{"--nats-tls-ca", tlsFiles.CA, "--nats-tls-cert", tlsFiles.ClientCert, "--nats-tls-key", tlsFiles.ClientKey}

	t.Setenv("HEARTH_NATS_PASSWORD", "pw-SEKRIT")
	if code := startRunnerCmd(t, append(base, tlsArgs...)...)(); code != 0 {
		t.Errorf("runner with user, password and TLS: exit %d", code)
	}

	t.Setenv("HEARTH_NATS_PASSWORD", "wrong-SEKRIT")
	var stderr bytes.Buffer
	code := run(context.Background(), append(append([]string{"runner"}, base...), tlsArgs...), io.Discard, &stderr)
	want := "NATS refused the credentials: authorization violation; check --nats-user/--nats-password"
	if code != 1 || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "SEKRIT") {
		t.Errorf("wrong password: exit %d, stderr %q; want 1 and %q", code, stderr.String(), want)
	}

	t.Setenv("HEARTH_NATS_PASSWORD", "pw-SEKRIT")
	other := natsauthtest.NewTLS(t)
	stderr.Reset()
	code = run(context.Background(), append(append([]string{"runner"}, base...),
		"--nats-tls-ca", other.CA, "--nats-tls-cert", tlsFiles.ClientCert, "--nats-tls-key", tlsFiles.ClientKey), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "not signed by a CA this role trusts") || !strings.Contains(stderr.String(), "--nats-tls-ca") {
		t.Errorf("wrong CA: exit %d, stderr %q", code, stderr.String())
	}

	t.Setenv("HEARTH_NATS_PASSWORD", "")
	nkeyFile, nkeyServer := natsauthtest.NKey(t)
	nkeyNS := natsauthtest.Server(t, nkeyServer)
	t.Setenv("HEARTH_NATS_NKEY", nkeyFile)
	if code := startRunnerCmd(t, "--nats", nkeyNS.ClientURL(), "--s3-endpoint", s3.Endpoint)(); code != 0 {
		t.Errorf("runner with an NKey: exit %d", code)
	}
}

// TestChildRunnerConn: the runners the process provider starts get the
// gateway's NATS credentials and TLS, file paths (absolute) as flags and
// secrets only in their environment, which overrides what they inherit;
// with those, a runner connects.
func TestChildRunnerConn(t *testing.T) {
	clearConnEnv(t)
	s3 := testutil.S3Config(t)
	s3.Bucket = "child"
	tlsFiles := natsauthtest.NewTLS(t)
	serverTLS := tlsFiles.Server(t)
	ns := natsauthtest.Server(t, func(o *server.Options) { serverTLS(o); natsauthtest.UserPassword("hearth", "pw-SEKRIT")(o) })

	t.Chdir(filepath.Dir(tlsFiles.CA))
	auth := natsauth.Config{User: "hearth", Password: "pw-SEKRIT",
		TLSCA: filepath.Base(tlsFiles.CA), TLSCert: filepath.Base(tlsFiles.ClientCert), TLSKey: filepath.Base(tlsFiles.ClientKey)}
	args, env := childConn(ns.ClientURL(), auth, s3)
	t.Chdir(t.TempDir())

	if joined := strings.Join(args, " "); strings.Contains(joined, "SEKRIT") || strings.Contains(joined, s3.SecretKey) {
		t.Errorf("a secret on the command line: %s", joined)
	}
	for _, want := range [][]string{{"--nats", ns.ClientURL()}, {"--nats-tls-ca", tlsFiles.CA}, {"--nats-tls-cert", tlsFiles.ClientCert},
		{"--nats-tls-key", tlsFiles.ClientKey}, {"--s3-endpoint", s3.Endpoint}, {"--s3-bucket", "child"}} {
		if i := slices.Index(args, want[0]); i < 0 || i+1 >= len(args) || args[i+1] != want[1] {
			t.Errorf("args %v: want %s %s", args, want[0], want[1])
		}
	}
	for _, want := range []string{"HEARTH_NATS_USER=hearth", "HEARTH_NATS_PASSWORD=pw-SEKRIT", "HEARTH_NATS_TOKEN=", "HEARTH_NATS_CREDS=",
		"HEARTH_S3_ACCESS_KEY=" + s3.AccessKey, "HEARTH_S3_SECRET_KEY=" + s3.SecretKey, "HEARTH_S3_SECRET_KEY_FILE="} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v: want %s", env, want)
		}
	}

	// What the child inherits from the gateway's environment (another
	// way to authenticate, a key file) is overridden, as exec.Cmd keeps
	// the last of duplicate variables.
	t.Setenv("HEARTH_NATS_TOKEN", "inherited")
	t.Setenv("HEARTH_S3_SECRET_KEY_FILE", "/nonexistent")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if code := startRunnerCmd(t, args...)(); code != 0 {
		t.Errorf("child runner: exit %d", code)
	}

	// Credentials in the URL go by the environment, not on the command line.
	u, _ := url.Parse(ns.ClientURL())
	u.User = url.UserPassword("hearth", "pw-SEKRIT")
	args, env = childConn(u.String(), natsauth.Config{}, objstore.Config{Endpoint: s3.Endpoint})
	if slices.Contains(args, "--nats") || strings.Contains(strings.Join(args, " "), "SEKRIT") || !slices.Contains(env, "HEARTH_NATS_URL="+u.String()) {
		t.Errorf("URL with credentials: args %v, env %v", args, env)
	}
}

// TestDevNATSListensOnLoopback: `hearth dev` with its defaults runs the
// embedded NATS, which wants no credentials, on 127.0.0.1 only.
func TestDevNATSListensOnLoopback(t *testing.T) {
	t.Setenv("HEARTH_LISTEN", "")
	t.Setenv("HEARTH_DATA", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--log-level", "error"}, &stdout, &stderr)
	}()
	natsLine := regexp.MustCompile(`NATS\s+nats://(\S+)`)
	var hostPort string
	testutil.Eventually(t, 60*time.Second, func() error {
		select {
		case code := <-done:
			done <- code
			return fmt.Errorf("hearth dev exited %d: %s", code, stderr.String())
		default:
		}
		m := natsLine.FindStringSubmatch(stdout.String())
		if m == nil {
			return fmt.Errorf("no NATS URL in %q", stdout.String())
		}
		hostPort = m[1]
		return nil
	})
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil || host != "127.0.0.1" {
		t.Errorf("hearth dev's NATS at %s, want 127.0.0.1", hostPort)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("hearth dev exit %d: %s", code, stderr.String())
	}
}
