package natsauth_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/natsauth/natsauthtest"
)

// connect connects to url with cfg's options; a refusal is explained.
func connect(t *testing.T, url string, cfg natsauth.Config) error {
	t.Helper()
	opts, err := cfg.Options(url)
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
	if err != nil {
		if why := cfg.Explain(err); why != nil {
			return why
		}
		return err
	}
	defer nc.Close()
	return nc.Flush()
}

// TestConnectEachWay connects to servers that want a password, a token,
// an NKey, a credentials file and a TLS client certificate.
func TestConnectEachWay(t *testing.T) {
	nkeyFile, nkeyServer := natsauthtest.NKey(t)
	credsFile, credsServer := natsauthtest.Creds(t)
	tlsFiles := natsauthtest.NewTLS(t)
	for _, c := range []struct {
		name   string
		server func(*server.Options)
		cfg    natsauth.Config
	}{
		{"user and password", natsauthtest.UserPassword("hearth", "s3cret"), natsauth.Config{User: "hearth", Password: "s3cret"}},
		{"token", natsauthtest.Token("tok-123"), natsauth.Config{Token: "tok-123"}},
		{"nkey", nkeyServer, natsauth.Config{NKeyFile: nkeyFile}},
		{"creds", credsServer, natsauth.Config{CredsFile: credsFile}},
		{"tls client certificate", tlsFiles.Server(t), natsauth.Config{TLSCA: tlsFiles.CA, TLSCert: tlsFiles.ClientCert, TLSKey: tlsFiles.ClientKey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := natsauthtest.Server(t, c.server)
			if err := connect(t, ns.ClientURL(), c.cfg); err != nil {
				t.Fatalf("connect: %v", err)
			}
			// Without the credentials the server says no, and the error
			// says what is missing.
			err := connect(t, ns.ClientURL(), natsauth.Config{TLSCA: c.cfg.TLSCA})
			if err == nil {
				t.Fatal("connected without credentials")
			}
			if !strings.Contains(err.Error(), "--nats") {
				t.Errorf("refusal without credentials: %v; want the flags to pass", err)
			}
		})
	}
	t.Run("user and password in the URL", func(t *testing.T) {
		ns := natsauthtest.Server(t, natsauthtest.UserPassword("hearth", "s3cret"))
		url := strings.Replace(ns.ClientURL(), "nats://", "nats://hearth:s3cret@", 1)
		if err := connect(t, url, natsauth.Config{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRefusedIsExplained: a wrong password, a wrong CA and a missing
// client certificate give errors that name the cause and the flags.
func TestRefusedIsExplained(t *testing.T) {
	ns := natsauthtest.Server(t, natsauthtest.UserPassword("hearth", "s3cret"))
	err := connect(t, ns.ClientURL(), natsauth.Config{User: "hearth", Password: "wrong"})
	if err == nil || err.Error() != "NATS refused the credentials: authorization violation; check --nats-user/--nats-password" {
		t.Errorf("wrong password: %v", err)
	}
	if !strings.Contains(fmt.Sprint(err), "authorization violation") || strings.Contains(fmt.Sprint(err), "wrong") {
		t.Errorf("wrong password: %v (the password must not be in it)", err)
	}

	tlsFiles := natsauthtest.NewTLS(t)
	other := natsauthtest.NewTLS(t)
	tlsNS := natsauthtest.Server(t, tlsFiles.Server(t))
	err = connect(t, tlsNS.ClientURL(), natsauth.Config{TLSCA: other.CA, TLSCert: tlsFiles.ClientCert, TLSKey: tlsFiles.ClientKey})
	if err == nil || !strings.Contains(err.Error(), "not signed by a CA this role trusts") || !strings.Contains(err.Error(), "--nats-tls-ca") {
		t.Errorf("wrong CA: %v", err)
	}
	t.Logf("wrong CA: %v", err)
	// A client certificate from another CA: the server refuses the handshake.
	err = connect(t, tlsNS.ClientURL(), natsauth.Config{TLSCA: tlsFiles.CA, TLSCert: other.ClientCert, TLSKey: other.ClientKey})
	if err == nil || !strings.Contains(err.Error(), "refused this role's client certificate") || !strings.Contains(err.Error(), "--nats-tls-cert") {
		t.Errorf("client certificate of another CA: %v", err)
	}
	t.Logf("client certificate of another CA: %v", err)
	// No client certificate at all.
	err = connect(t, tlsNS.ClientURL(), natsauth.Config{TLSCA: tlsFiles.CA})
	if err == nil || !strings.Contains(err.Error(), "wants a client certificate") || !strings.Contains(err.Error(), "--nats-tls-cert") {
		t.Errorf("no client certificate: %v", err)
	}
	t.Logf("no client certificate: %v", err)
	// No TLS settings at all: nats.go upgrades, and the CA is unknown.
	err = connect(t, tlsNS.ClientURL(), natsauth.Config{})
	if err == nil || !strings.Contains(err.Error(), "--nats-tls-ca") {
		t.Errorf("no TLS settings: %v", err)
	}
	// TLS asked for, from a server without it.
	plain := natsauthtest.Server(t, nil)
	err = connect(t, plain.ClientURL(), natsauth.Config{TLSCA: tlsFiles.CA})
	if err == nil || !strings.Contains(err.Error(), "does not offer it") {
		t.Errorf("TLS against a plain server: %v", err)
	}
	// Anything else is not explained.
	if why := (natsauth.Config{}).Explain(nats.ErrNoServers); why != nil {
		t.Errorf("ErrNoServers explained as %v", why)
	}
}

// TestOptionsUsageErrors: bad combinations and unreadable files are
// refused before connecting, naming the flag.
func TestOptionsUsageErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	nkeyFile, _ := natsauthtest.NKey(t)
	credsFile, _ := natsauthtest.Creds(t)
	tlsFiles := natsauthtest.NewTLS(t)
	for _, c := range []struct {
		cfg  natsauth.Config
		url  string
		want string
	}{
		{natsauth.Config{User: "u"}, "", "--nats-user needs a password"},
		{natsauth.Config{Password: "p"}, "", "without a user"},
		{natsauth.Config{CredsFile: credsFile, User: "u", Password: "p"}, "", "two ways to authenticate to NATS at once: --nats-user/--nats-password and --nats-creds"},
		{natsauth.Config{Token: "t", NKeyFile: nkeyFile}, "", "--nats-token and --nats-nkey"},
		{natsauth.Config{Token: "t"}, "nats://u:p@127.0.0.1:4222", "--nats-token and credentials in the --nats URL"},
		{natsauth.Config{TLSCert: tlsFiles.ClientCert}, "", "--nats-tls-cert needs --nats-tls-key"},
		{natsauth.Config{TLSKey: tlsFiles.ClientKey}, "", "--nats-tls-key needs --nats-tls-cert"},
		{natsauth.Config{NKeyFile: missing}, "", "--nats-nkey " + missing + ": cannot read it: no such file or directory"},
		{natsauth.Config{NKeyFile: junk}, "", "--nats-nkey " + junk + ": not an NKey user seed"},
		{natsauth.Config{CredsFile: missing}, "", "--nats-creds " + missing + ": cannot read it"},
		{natsauth.Config{CredsFile: junk}, "", "not a NATS credentials file"},
		{natsauth.Config{TLSCA: missing}, "", "--nats-tls-ca " + missing + ": cannot read it"},
		{natsauth.Config{TLSCA: junk}, "", "--nats-tls-ca " + junk + ": no PEM certificate"},
		{natsauth.Config{TLSCert: missing, TLSKey: tlsFiles.ClientKey}, "", "--nats-tls-cert " + missing + ": cannot read it"},
		{natsauth.Config{TLSCert: tlsFiles.ClientCert, TLSKey: missing}, "", "--nats-tls-key " + missing + ": cannot read it"},
		{natsauth.Config{TLSCert: tlsFiles.ClientCert, TLSKey: tlsFiles.ServerKey}, "", "private key does not match"},
	} {
		err := c.cfg.Validate(c.url)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v with URL %q: %v; want %q", c.cfg, c.url, err, c.want)
		}
	}
	if os.Geteuid() != 0 { // root reads any file
		if err := (natsauth.Config{TLSCA: unreadable}).Validate(""); err == nil || !strings.Contains(err.Error(), "--nats-tls-ca "+unreadable+": cannot read it: permission denied") {
			t.Errorf("unreadable CA: %v", err)
		}
	}
	if err := (natsauth.Config{}).Validate("nats://127.0.0.1:4222,127.0.0.1:4223"); err != nil {
		t.Errorf("no auth: %v", err)
	}
}

// TestSecretsHidden: a config prints and logs without its password or
// token, and URLs are redacted.
func TestSecretsHidden(t *testing.T) {
	cfg := natsauth.Config{User: "hearth", Password: "pw-secret", Token: "tok-secret", TLSCA: "/ca.pem"}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("conn", "nats", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), log.String()} {
		if strings.Contains(s, "secret") || !strings.Contains(s, "hearth") || !strings.Contains(s, "/ca.pem") {
			t.Errorf("printed as %q", s)
		}
	}
	for in, want := range map[string]string{
		"nats://u:pw@h:4222,nats://tok@h2:4222": "nats://u:xxxxx@h:4222,nats://xxxxx@h2:4222",
		"nats://h:4222":                         "nats://h:4222",
		"h:4222":                                "h:4222",
	} {
		if got := natsauth.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
