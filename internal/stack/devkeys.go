package stack

import (
	"path/filepath"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/secrets"
)

// Files under a dev data directory that hold keys (mode 0600).
const (
	AdminKeyFile   = "admin.key"   // the bootstrap admin key of hearth dev --auth
	SecretsKeyFile = "secrets.key" // the key that seals secrets at rest
)

// devKeys fills in the keys hearth dev keeps in its data directory: the
// secrets key, unless one was given (HEARTH_SECRETS_KEY), and with auth
// on the bootstrap admin key, unless one was given (HEARTH_ADMIN_KEY). Both
// are made on first start and reused after.
func devKeys(dataDir string, cfg *gateway.Config) error {
	if cfg.SecretsKey == nil {
		key, err := secrets.LoadOrCreateKeyFile(filepath.Join(dataDir, SecretsKeyFile))
		if err != nil {
			return err
		}
		cfg.SecretsKey = key
	}
	if cfg.Auth && cfg.AdminKey == "" {
		key, err := auth.LoadOrCreateAdminKey(filepath.Join(dataDir, AdminKeyFile))
		if err != nil {
			return err
		}
		cfg.AdminKey = key
	}
	return nil
}
