package stack_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/natsauth/natsauthtest"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/runner"
)

// TestRolesWithNATSAuth runs a gateway and a runner role against NATS
// servers that want a password, a token, an NKey, a credentials file, or
// TLS with a client certificate (and a password besides), and calls a
// function through them.
func TestRolesWithNATSAuth(t *testing.T) {
	nkeyFile, nkeyServer := natsauthtest.NKey(t)
	credsFile, credsServer := natsauthtest.Creds(t)
	tlsFiles := natsauthtest.NewTLS(t)
	tlsServer := tlsFiles.Server(t)
	hello := stacktest.ExampleWasm(t, "hello")
	for _, c := range []struct {
		name   string
		server func(*server.Options)
		auth   natsauth.Config
	}{
		{"user and password", natsauthtest.UserPassword("hearth", "s3cret"), natsauth.Config{User: "hearth", Password: "s3cret"}},
		{"token", natsauthtest.Token("tok-123"), natsauth.Config{Token: "tok-123"}},
		{"nkey", nkeyServer, natsauth.Config{NKeyFile: nkeyFile}},
		{"creds", credsServer, natsauth.Config{CredsFile: credsFile}},
		{"tls client certificate and password", func(o *server.Options) {
			tlsServer(o)
			natsauthtest.UserPassword("hearth", "s3cret")(o)
		}, natsauth.Config{User: "hearth", Password: "s3cret", TLSCA: tlsFiles.CA, TLSCert: tlsFiles.ClientCert, TLSKey: tlsFiles.ClientKey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := natsauthtest.Server(t, c.server)
			conn := stack.Conn{NATSURL: ns.ClientURL(), NATSAuth: c.auth, S3: testutil.S3Config(t)}
			gw := stacktest.GatewayRole(t, conn, gateway.Config{})
			stacktest.RunnerRole(t, conn, runner.Config{})
			stacktest.MustDeploy(t, gw.GatewayURL, "hello", hello, "")
			stacktest.WaitRunners(t, gw.GatewayURL, 1)
			resp, body := stacktest.Call(t, http.MethodPost, gw.GatewayURL+"/v1/functions/hello/invoke", "", []byte("auth"))
			if resp.StatusCode != http.StatusOK || string(body) != "Hello, auth!\n" {
				t.Fatalf("invoke: %d %q", resp.StatusCode, body)
			}
		})
	}
}

// TestRoleRefusedByNATS: a role with a wrong password, or that does not
// trust the server's CA, fails at once with an error that names the
// cause, and without the password in it.
func TestRoleRefusedByNATS(t *testing.T) {
	s3 := testutil.S3Config(t)
	startRunner := func(conn stack.Conn) error {
		s := stack.New(stacktest.QuietLogger())
		defer s.Close(context.Background())
		return s.StartRunnerRole(context.Background(), conn, runner.Config{CacheDir: t.TempDir()})
	}

	ns := natsauthtest.Server(t, natsauthtest.UserPassword("hearth", "s3cret"))
	err := startRunner(stack.Conn{NATSURL: ns.ClientURL(), NATSAuth: natsauth.Config{User: "hearth", Password: "wrong-pw"}, S3: s3})
	want := "connect to NATS at " + ns.ClientURL() + ": NATS refused the credentials: authorization violation; check --nats-user/--nats-password"
	if err == nil || err.Error() != want {
		t.Errorf("wrong password: %v\nwant %s", err, want)
	}
	// A wrong password in the URL is not printed either.
	u, _ := url.Parse(ns.ClientURL())
	u.User = url.UserPassword("hearth", "wrong-pw")
	err = startRunner(stack.Conn{NATSURL: u.String(), S3: s3})
	if err == nil || strings.Contains(err.Error(), "wrong-pw") || !strings.Contains(err.Error(), "hearth:xxxxx@") || !strings.Contains(err.Error(), "authorization violation") {
		t.Errorf("wrong password in the URL: %v", err)
	}
	// No credentials at all: the error says what to pass.
	err = startRunner(stack.Conn{NATSURL: ns.ClientURL(), S3: s3})
	if err == nil || !strings.Contains(err.Error(), "it wants credentials") {
		t.Errorf("no credentials: %v", err)
	}

	tlsFiles, other := natsauthtest.NewTLS(t), natsauthtest.NewTLS(t)
	tlsNS := natsauthtest.Server(t, tlsFiles.Server(t))
	err = startRunner(stack.Conn{NATSURL: tlsNS.ClientURL(), NATSAuth: natsauth.Config{TLSCA: other.CA, TLSCert: tlsFiles.ClientCert, TLSKey: tlsFiles.ClientKey}, S3: s3})
	if err == nil || !strings.Contains(err.Error(), "not signed by a CA this role trusts") || !strings.Contains(err.Error(), "check --nats-tls-ca") {
		t.Errorf("wrong CA: %v", err)
	}
	// A bad combination is refused before connecting.
	err = startRunner(stack.Conn{NATSURL: ns.ClientURL(), NATSAuth: natsauth.Config{User: "hearth", Password: "s3cret", Token: "t"}, S3: s3})
	if err == nil || !strings.Contains(err.Error(), "two ways to authenticate") {
		t.Errorf("user and token: %v", err)
	}
}

// TestDevNATSLoopback: the dev stack's embedded NATS, which wants no
// credentials, listens on loopback, also when --nats-listen gives only a
// port.
func TestDevNATSLoopback(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", ":0"} {
		s := stacktest.DevWith(t, stack.DevConfig{NATSListen: listen})
		addr, ok := s.NATSServer.Addr().(*net.TCPAddr)
		if !ok || !addr.IP.IsLoopback() {
			t.Errorf("--nats-listen %s: embedded NATS listens on %v, want loopback", listen, s.NATSServer.Addr())
		}
		u, err := url.Parse(s.NATSServer.ClientURL())
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Errorf("--nats-listen %s: client URL %s, want 127.0.0.1", listen, s.NATSServer.ClientURL())
		}
		if s.Conn.NATSURL != s.NATSServer.ClientURL() {
			t.Errorf("dev stack connects to %s, not its embedded NATS at %s", s.Conn.NATSURL, s.NATSServer.ClientURL())
		}
	}
}
