package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hearthfn/hearth/internal/natsauth"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/stack"
)

// connFlags are the flags that say where NATS and S3 are and how a role
// proves itself to them. Secrets (the NATS password and token, the S3
// secret key) have no default in the flag set, so that -h never prints
// them; validate takes them from the environment.
type connFlags struct {
	cfg                              stack.Conn
	s3AccessKeyFile, s3SecretKeyFile string
}

func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.cfg.NATSURL, "nats", envOr("HEARTH_NATS_URL", "nats://127.0.0.1:4222"), "NATS server URL(s), comma-separated; tls:// for TLS (env HEARTH_NATS_URL)")
	a := &c.cfg.NATSAuth
	fs.StringVar(&a.User, "nats-user", envOr("HEARTH_NATS_USER", ""), "NATS user; the password from HEARTH_NATS_PASSWORD (env HEARTH_NATS_USER)")
	fs.StringVar(&a.Password, "nats-password", "", "NATS password; prefer the env var HEARTH_NATS_PASSWORD")
	fs.StringVar(&a.Token, "nats-token", "", "NATS token; prefer the env var HEARTH_NATS_TOKEN")
	fs.StringVar(&a.NKeyFile, "nats-nkey", envOr("HEARTH_NATS_NKEY", ""), "NKey user seed `file` to authenticate to NATS with (env HEARTH_NATS_NKEY)")
	fs.StringVar(&a.CredsFile, "nats-creds", envOr("HEARTH_NATS_CREDS", ""), "NATS credentials `file` (user JWT and seed) (env HEARTH_NATS_CREDS)")
	fs.StringVar(&a.TLSCA, "nats-tls-ca", envOr("HEARTH_NATS_TLS_CA", ""), "PEM `file` of the CA to verify the NATS server by; implies TLS (env HEARTH_NATS_TLS_CA)")
	fs.StringVar(&a.TLSCert, "nats-tls-cert", envOr("HEARTH_NATS_TLS_CERT", ""), "PEM client certificate `file` for NATS, with --nats-tls-key (env HEARTH_NATS_TLS_CERT)")
	fs.StringVar(&a.TLSKey, "nats-tls-key", envOr("HEARTH_NATS_TLS_KEY", ""), "PEM private key `file` of --nats-tls-cert (env HEARTH_NATS_TLS_KEY)")

	fs.StringVar(&c.cfg.S3.Endpoint, "s3-endpoint", envOr("HEARTH_S3_ENDPOINT", ""), "S3 endpoint, e.g. http://127.0.0.1:9000 (env HEARTH_S3_ENDPOINT)")
	fs.StringVar(&c.cfg.S3.AccessKey, "s3-access-key", envOr("HEARTH_S3_ACCESS_KEY", ""), "S3 access key (env HEARTH_S3_ACCESS_KEY, else AWS_ACCESS_KEY_ID)")
	fs.StringVar(&c.cfg.S3.SecretKey, "s3-secret-key", "", "S3 secret key; prefer the env var HEARTH_S3_SECRET_KEY (else AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&c.s3AccessKeyFile, "s3-access-key-file", envOr("HEARTH_S3_ACCESS_KEY_FILE", ""), "`file` holding the S3 access key, such as a mounted Kubernetes secret (env HEARTH_S3_ACCESS_KEY_FILE)")
	fs.StringVar(&c.s3SecretKeyFile, "s3-secret-key-file", envOr("HEARTH_S3_SECRET_KEY_FILE", ""), "`file` holding the S3 secret key, such as a mounted Kubernetes secret (env HEARTH_S3_SECRET_KEY_FILE)")
	fs.StringVar(&c.cfg.S3.Bucket, "s3-bucket", envOr("HEARTH_S3_BUCKET", "hearth"), "S3 bucket (env HEARTH_S3_BUCKET)")
}

// validate completes the connection from the environment and the key
// files and refuses what cannot work, before anything connects.
func (c *connFlags) validate() error {
	if c.cfg.S3.Endpoint == "" {
		return usagef("no S3 endpoint: pass --s3-endpoint or set HEARTH_S3_ENDPOINT (or use `hearth dev` for a self-contained platform)")
	}
	a := &c.cfg.NATSAuth
	if a.Password == "" {
		a.Password = os.Getenv("HEARTH_NATS_PASSWORD")
	}
	if a.Token == "" {
		a.Token = os.Getenv("HEARTH_NATS_TOKEN")
	}
	if err := a.Validate(c.cfg.NATSURL); err != nil {
		return usagef("%v", err)
	}

	if c.cfg.S3.SecretKey == "" {
		c.cfg.S3.SecretKey = os.Getenv("HEARTH_S3_SECRET_KEY")
	}
	var err error
	if c.cfg.S3.AccessKey, err = s3Key("access-key", c.cfg.S3.AccessKey, c.s3AccessKeyFile, "AWS_ACCESS_KEY_ID"); err != nil {
		return err
	}
	if c.cfg.S3.SecretKey, err = s3Key("secret-key", c.cfg.S3.SecretKey, c.s3SecretKeyFile, "AWS_SECRET_ACCESS_KEY"); err != nil {
		return err
	}
	return nil
}

// s3Key is an S3 key given directly (--s3-NAME or HEARTH_S3_…), or read
// from a file (--s3-NAME-file or HEARTH_S3_…_FILE) and trimmed, or else
// the standard AWS environment variable aws.
func s3Key(name, direct, file, aws string) (string, error) {
	env := "HEARTH_S3_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	switch {
	case direct != "" && file != "":
		return "", usagef("--s3-%[1]s (or %[2]s) and --s3-%[1]s-file (or %[2]s_FILE) are both set: use one", name, env)
	case direct != "":
		return direct, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", usagef("--s3-%s-file %s: cannot read it: %v", name, file, err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", usagef("--s3-%s-file %s is empty", name, file)
		}
		return key, nil
	}
	return os.Getenv(aws), nil
}

// childConn returns the flags and environment that give a `hearth
// runner` child process the connection of this one: file paths (made
// absolute) as flags, the NATS URL as a flag unless it has credentials in
// it, and secrets only in the environment, never on the command line
// where ps shows them. Every variable of a credential is set, empty when
// unused, so that what the child inherits cannot add a second way to
// authenticate.
func childConn(natsURL string, auth natsauth.Config, s3 objstore.Config) (args, env []string) {
	if natsauth.RedactURL(natsURL) == natsURL {
		args = append(args, "--nats", natsURL)
		env = append(env, "HEARTH_NATS_URL=")
	} else {
		env = append(env, "HEARTH_NATS_URL="+natsURL)
	}
	env = append(env,
		"HEARTH_NATS_USER="+auth.User,
		"HEARTH_NATS_PASSWORD="+auth.Password,
		"HEARTH_NATS_TOKEN="+auth.Token)
	for _, f := range []struct{ flag, env, path string }{
		{"--nats-nkey", "HEARTH_NATS_NKEY", auth.NKeyFile},
		{"--nats-creds", "HEARTH_NATS_CREDS", auth.CredsFile},
		{"--nats-tls-ca", "HEARTH_NATS_TLS_CA", auth.TLSCA},
		{"--nats-tls-cert", "HEARTH_NATS_TLS_CERT", auth.TLSCert},
		{"--nats-tls-key", "HEARTH_NATS_TLS_KEY", auth.TLSKey},
	} {
		env = append(env, f.env+"=")
		if f.path != "" {
			if abs, err := filepath.Abs(f.path); err == nil {
				f.path = abs
			}
			args = append(args, f.flag, f.path)
		}
	}
	args = append(args, "--s3-endpoint", s3.Endpoint)
	if s3.Bucket != "" {
		args = append(args, "--s3-bucket", s3.Bucket)
	}
	env = append(env,
		"HEARTH_S3_ACCESS_KEY="+s3.AccessKey, "HEARTH_S3_SECRET_KEY="+s3.SecretKey,
		"HEARTH_S3_ACCESS_KEY_FILE=", "HEARTH_S3_SECRET_KEY_FILE=")
	return args, env
}
