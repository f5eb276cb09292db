// Package natsauth says how a Hearth role proves who it is to NATS and
// secures the connection: at most one of a user and password, a token, an
// NKey seed file or a credentials (.creds) file, plus TLS with a CA to
// verify the server by and a client certificate.
//
// [Config.Options] checks a configuration before anything connects (a
// certificate without its key, two ways to authenticate at once, a file
// that cannot be read; each error names hearth's flag for the setting) and
// turns it into nats.go options. [Config.Explain] turns a connection NATS
// refused into an error that says why. Secrets never appear in what a
// Config prints or logs, nor in [RedactURL]'s URLs.
package natsauth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// Config is how to authenticate to NATS and whether to use TLS. The zero
// Config connects without either (or with credentials in the URL).
type Config struct {
	User      string // with Password
	Password  string // secret
	Token     string // secret
	NKeyFile  string // an NKey user seed (SU…)
	CredsFile string // a NATS credentials file: a user JWT and its seed
	TLSCA     string // PEM CA certificates to verify the server by
	TLSCert   string // PEM client certificate, with TLSKey
	TLSKey    string // PEM private key of TLSCert
}

// Method names the way the config authenticates, by its flags:
// "--nats-user/--nats-password", "--nats-token", "--nats-nkey",
// "--nats-creds", or "" for none.
func (c Config) Method() string {
	m := c.methods()
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

func (c Config) methods() []string {
	var m []string
	if c.User != "" || c.Password != "" {
		m = append(m, "--nats-user/--nats-password")
	}
	if c.Token != "" {
		m = append(m, "--nats-token")
	}
	if c.NKeyFile != "" {
		m = append(m, "--nats-nkey")
	}
	if c.CredsFile != "" {
		m = append(m, "--nats-creds")
	}
	return m
}

// TLS reports whether the config asks for TLS.
func (c Config) TLS() bool { return c.TLSCA != "" || c.TLSCert != "" || c.TLSKey != "" }

// Validate checks the config for connecting to urls (comma-separated, as
// nats.Connect takes them) without connecting: see Options.
func (c Config) Validate(urls string) error {
	_, err := c.Options(urls)
	return err
}

// Options checks the config and returns the nats.go options that apply
// it. It is an error to give a user without a password or the reverse, two
// ways to authenticate (credentials in a URL count as one), a certificate
// without its key or the reverse, or a file that cannot be read or is not
// what it should be. Files are read again by nats.go on every reconnect,
// so rotated certificates and credentials are picked up.
func (c Config) Options(urls string) ([]nats.Option, error) {
	if c.User != "" && c.Password == "" {
		return nil, errors.New("--nats-user needs a password: set HEARTH_NATS_PASSWORD (or --nats-password)")
	}
	if c.User == "" && c.Password != "" {
		return nil, errors.New("a NATS password without a user: pass --nats-user (or HEARTH_NATS_USER)")
	}
	methods := c.methods()
	if urlHasCredentials(urls) {
		methods = append(methods, "credentials in the --nats URL")
	}
	if len(methods) > 1 {
		return nil, fmt.Errorf("two ways to authenticate to NATS at once: %s and %s; use one", methods[0], methods[1])
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		if c.TLSCert == "" {
			return nil, errors.New("--nats-tls-key needs --nats-tls-cert, the certificate of that key")
		}
		return nil, errors.New("--nats-tls-cert needs --nats-tls-key, the certificate's private key")
	}

	var opts []nats.Option
	switch {
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	case c.NKeyFile != "":
		if _, err := readFile("--nats-nkey", c.NKeyFile); err != nil {
			return nil, err
		}
		opt, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey %s: not an NKey user seed: %v", c.NKeyFile, strings.TrimPrefix(err.Error(), "nats: "))
		}
		opts = append(opts, opt)
	case c.CredsFile != "":
		b, err := readFile("--nats-creds", c.CredsFile)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(b, []byte("NATS USER JWT")) || !bytes.Contains(b, []byte("USER NKEY SEED")) {
			return nil, fmt.Errorf("--nats-creds %s: not a NATS credentials file (want a USER JWT and a USER NKEY SEED block, as `nsc generate creds` writes)", c.CredsFile)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}

	if c.TLSCA != "" {
		b, err := readFile("--nats-tls-ca", c.TLSCA)
		if err != nil {
			return nil, err
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--nats-tls-ca %s: no PEM certificate in it", c.TLSCA)
		}
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		if _, err := readFile("--nats-tls-cert", c.TLSCert); err != nil {
			return nil, err
		}
		if _, err := readFile("--nats-tls-key", c.TLSKey); err != nil {
			return nil, err
		}
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return nil, fmt.Errorf("--nats-tls-cert %s with --nats-tls-key %s: %v", c.TLSCert, c.TLSKey, err)
		}
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	return opts, nil
}

// readFile reads a file a flag names; its error says which flag.
func readFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s %s: cannot read it: %v", flag, path, err)
	}
	return b, nil
}

// urlHasCredentials reports whether one of the comma-separated URLs has
// a user, password or token in it.
func urlHasCredentials(urls string) bool {
	for _, s := range strings.Split(urls, ",") {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

// RedactURL returns the comma-separated NATS URLs with any password or
// token in them replaced by "xxxxx", for logs and error messages.
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, s := range parts {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx") // a lone user name is a token
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// Explain says why NATS refused a connection when the cause is
// authentication or TLS, naming the flags to check; it returns nil for
// any other error (an unreachable server, say). The result wraps err.
func (c Config) Explain(err error) error {
	if err == nil {
		return nil
	}
	cause := strings.TrimPrefix(err.Error(), "nats: ")
	for _, authErr := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired} {
		if !errors.Is(err, authErr) {
			continue
		}
		cause := strings.TrimPrefix(authErr.Error(), "nats: ") // the server's words, in nats.go's case
		if m := c.Method(); m != "" {
			return &explained{fmt.Sprintf("NATS refused the credentials: %s; check %s", cause, m), err}
		}
		return &explained{fmt.Sprintf("NATS refused the connection: %s; it wants credentials: pass --nats-user and HEARTH_NATS_PASSWORD, HEARTH_NATS_TOKEN, --nats-nkey or --nats-creds", cause), err}
	}
	if errors.Is(err, nats.ErrSecureConnRequired) {
		return &explained{fmt.Sprintf("the NATS server requires TLS: %s; pass --nats-tls-ca (and --nats-tls-cert/--nats-tls-key if it wants a client certificate)", cause), err}
	}
	if errors.Is(err, nats.ErrSecureConnWanted) {
		return &explained{fmt.Sprintf("TLS is asked for (--nats-tls-*) but the NATS server does not offer it: %s", cause), err}
	}
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &hostname):
		return &explained{fmt.Sprintf("the NATS server's certificate is not for the host in --nats: %s", cause), err}
	case errors.As(err, &unknownCA) || errors.As(err, &verify):
		return &explained{fmt.Sprintf("the NATS server's certificate is not signed by a CA this role trusts: %s; check --nats-tls-ca", cause), err}
	case strings.Contains(cause, "remote error: tls: certificate required"):
		return &explained{fmt.Sprintf("the NATS server wants a client certificate: %s; pass --nats-tls-cert and --nats-tls-key", cause), err}
	case strings.Contains(cause, "tls error") && (strings.Contains(cause, "after TLS handshake") || strings.Contains(cause, "broken pipe") || strings.Contains(cause, "connection reset")):
		// TLS 1.3: the server checks the client's certificate after the
		// handshake and closes the connection, so the client sees a
		// closed connection rather than the server's alert.
		return &explained{fmt.Sprintf("the NATS server closed the connection after the TLS handshake: it refused this role's client certificate, or it wants a client certificate and got none: %s; check --nats-tls-cert and --nats-tls-key", cause), err}
	case strings.Contains(cause, "remote error: tls:"):
		return &explained{fmt.Sprintf("the NATS server refused this role's client certificate: %s; check --nats-tls-cert and --nats-tls-key (signed by a CA the server trusts?)", cause), err}
	case strings.Contains(cause, "tls:"):
		return &explained{fmt.Sprintf("TLS with the NATS server failed: %s; check --nats-tls-ca, --nats-tls-cert and --nats-tls-key", cause), err}
	}
	return nil
}

// explained is an error with a message of its own that wraps its cause.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// String describes the config with its secrets hidden.
func (c Config) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("user", c.User)
	if c.Password != "" {
		add("password", "xxxxx")
	}
	if c.Token != "" {
		add("token", "xxxxx")
	}
	add("nkey", c.NKeyFile)
	add("creds", c.CredsFile)
	add("tls-ca", c.TLSCA)
	add("tls-cert", c.TLSCert)
	add("tls-key", c.TLSKey)
	return "{" + strings.Join(parts, " ") + "}"
}

// GoString is String, so that %#v does not print the secrets either.
func (c Config) GoString() string { return "natsauth.Config" + c.String() }

// LogValue logs the config with its secrets hidden.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
