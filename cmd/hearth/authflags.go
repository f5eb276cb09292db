package main

import (
	"log/slog"
	"net"
	"os"

	"github.com/spf13/pflag"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/secrets"
)

// authFlags are the flags of the roles that serve the API: whether keys
// are checked, and the keys that bootstrap auth and seal secrets.
type authFlags struct {
	insecure       bool // hearth gateway --insecure-no-auth
	auth           bool // hearth dev --auth
	secretsKeyFile string
}

func (a *authFlags) registerGateway(fs *pflag.FlagSet) {
	fs.BoolVar(&a.insecure, "insecure-no-auth", false, "accept every request without an API key (never on a network others reach); otherwise keys are required and HEARTH_ADMIN_KEY (or existing keys) must be set")
	fs.StringVar(&a.secretsKeyFile, "secrets-key-file", envOr("HEARTH_SECRETS_KEY_FILE", ""), "file holding the 32-byte key (base64 or hex) that seals secrets; the same on every gateway (env HEARTH_SECRETS_KEY_FILE, or the key itself in HEARTH_SECRETS_KEY)")
}

func (a *authFlags) registerDev(fs *pflag.FlagSet) {
	fs.BoolVar(&a.auth, "auth", false, "require API keys; the bootstrap admin key is written to DATA/admin.key (mode 0600) on first start, or taken from HEARTH_ADMIN_KEY")
}

// apply fills the gateway config from the flags and the environment:
// HEARTH_ADMIN_KEY, HEARTH_SECRETS_KEY or --secrets-key-file.
func (a *authFlags) apply(cfg *gateway.Config, dev bool) error {
	cfg.Auth = a.auth || (!dev && !a.insecure)
	if cfg.Auth {
		cfg.AdminKey = os.Getenv("HEARTH_ADMIN_KEY")
	}
	env := os.Getenv("HEARTH_SECRETS_KEY")
	switch {
	case env != "" && a.secretsKeyFile != "":
		return usagef("both HEARTH_SECRETS_KEY and --secrets-key-file are set; give the secrets key one way")
	case env != "":
		key, err := secrets.ParseKey(env)
		if err != nil {
			return usagef("HEARTH_SECRETS_KEY: %v", err)
		}
		cfg.SecretsKey = key
	case a.secretsKeyFile != "":
		raw, err := os.ReadFile(a.secretsKeyFile)
		if err != nil {
			return usagef("--secrets-key-file: %v", err)
		}
		key, err := secrets.ParseKey(string(raw))
		if err != nil {
			return usagef("--secrets-key-file %s: %v", a.secretsKeyFile, err)
		}
		cfg.SecretsKey = key
	}
	return nil
}

// warn logs at start what an operator must know: that no key is checked,
// or that secrets cannot be used.
func (a *authFlags) warn(log *slog.Logger, cfg gateway.Config, listen string) {
	if !cfg.Auth {
		log.Warn("auth is off: every request is accepted without an API key", "listen", listen, "loopback_only", isLoopback(listen))
	}
	if cfg.SecretsKey == nil {
		log.Warn("no secrets key: setting secrets and calling functions that use them will fail; set HEARTH_SECRETS_KEY or --secrets-key-file (the same on every gateway)")
	}
}

// isLoopback reports whether a listen address is on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
