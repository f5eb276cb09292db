package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyBytes is the length of the master key: AES-256.
const KeyBytes = 32

const makeKeyHint = "make one with `openssl rand -base64 32` or `head -c32 /dev/urandom | base64`"

// ParseKey reads a master key: 64 hex characters, or standard or URL-safe
// base64 (padded or not) of exactly 32 bytes, with surrounding whitespace
// trimmed. The error never repeats the input, which may be a real key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the secrets key is empty; it must be 32 bytes as base64 or 64 hex characters; " + makeKeyHint)
	}
	if len(s) == 2*KeyBytes {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	decoded := -1
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) == KeyBytes {
			return key, nil
		}
		decoded = len(key)
	}
	if decoded >= 0 {
		return nil, fmt.Errorf("the secrets key decodes to %d bytes; it must be exactly %d (AES-256); %s", decoded, KeyBytes, makeKeyHint)
	}
	return nil, fmt.Errorf("the secrets key (%d characters) is neither 64 hex characters nor base64 of %d bytes; %s", len(s), KeyBytes, makeKeyHint)
}

// Fingerprint names a master key without revealing it: the first 8 bytes
// of SHA-256("hearth-secrets-key-id" || key), in hex. Every stored record
// carries the fingerprint of the key that sealed it.
func Fingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hearth-secrets-key-id"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// LoadOrCreateKeyFile reads the master key from path (any form ParseKey
// accepts) or, when the file does not exist, creates it with a fresh
// random key written as base64 and returns that; a restart then reads the
// same key. A new file has mode 0600 and a missing directory is created
// with 0700. The file appears whole or not at all (a temporary file in the
// same directory, then linked into place), and when two processes create
// it at once both end up with the one that got there first.
//
// A file whose mode lets the group or others read it is not refused (this
// package has no logger to warn with); the caller may check the mode. Only
// a file that cannot be read or parsed is an error.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: create the key directory %s: %w", dir, err)
	}
	key = make([]byte, KeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: generate a key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("secrets: create the key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link the file stays under path
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: write the key file %s: %w", tmpName, err)
	}
	// A link fails when path exists, so a key another process created in
	// the meantime is kept; where hard links are not supported, rename.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return nil, fmt.Errorf("secrets: create the key file %s: %w", path, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable
		_ = d.Close()
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secrets: read the key file: %w", err)
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secrets: key file %s: %w", path, err)
	}
	return key, nil
}
