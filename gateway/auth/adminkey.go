package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NewAdminKey makes a bootstrap admin key of the same form as other keys.
func NewAdminKey() string {
	_, token, _ := newToken()
	return token
}

// LoadOrCreateAdminKey reads the bootstrap admin key kept at path (hearth
// dev --auth: DATA/admin.key), or on first start makes one and writes it
// there with mode 0600, so the same key works after a restart.
func LoadOrCreateAdminKey(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(raw))
		if len(key) < MinBootstrapLen {
			return "", fmt.Errorf("auth: %s holds %d characters, not an admin key; delete it to have a new one made", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("auth: read admin key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	key := NewAdminKey()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".admin.key-*")
	if err != nil {
		return "", fmt.Errorf("auth: write admin key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("auth: write admin key: %w", err)
	}
	if _, err := tmp.WriteString(key + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("auth: write admin key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("auth: write admin key: %w", err)
	}
	// A link, not a rename: of two processes starting at once, the second
	// finds the first's file and reads it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateAdminKey(path)
		}
		return "", fmt.Errorf("auth: write admin key: %w", err)
	}
	return key, nil
}
