package embeds3

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// credentialsFileName is the file, in the data directory, holding the keys.
const credentialsFileName = "s3-credentials.json"

// credentialsFile is the JSON stored in credentialsFileName.
type credentialsFile struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// LoadOrCreateCredentials reads dir/s3-credentials.json (mode 0600), or creates it with random keys.
//
// The directory is created (mode 0700) if needed. An existing file readable
// by others is narrowed to mode 0600. The file is written to a temporary name
// and linked into place, so a reader never sees half a file and two processes
// starting together agree on one pair of keys.
func LoadOrCreateCredentials(dir string) (accessKey, secretKey string, err error) {
	path := filepath.Join(dir, credentialsFileName)
	accessKey, secretKey, err = readCredentials(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return accessKey, secretKey, err
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("embeds3: create credentials directory: %w", err)
	}
	accessKey, secretKey = randomCredentials()
	data, err := json.MarshalIndent(credentialsFile{AccessKey: accessKey, SecretKey: secretKey}, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("embeds3: encode credentials: %w", err)
	}
	if err := writeNewFile(path, append(data, '\n')); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readCredentials(path) // another process was first
		}
		return "", "", err
	}
	return accessKey, secretKey, nil
}

// readCredentials reads and checks a credentials file, narrowing its mode to 0600.
func readCredentials(path string) (accessKey, secretKey string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("embeds3: read credentials: %w", err)
	}
	var creds credentialsFile
	if err := json.Unmarshal(data, &creds); err != nil {
		return "", "", fmt.Errorf("embeds3: parse %s: %w", path, err)
	}
	if creds.AccessKey == "" || creds.SecretKey == "" {
		return "", "", fmt.Errorf("embeds3: %s lacks access_key or secret_key", path)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("embeds3: stat credentials: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", "", fmt.Errorf("embeds3: restrict credentials file mode: %w", err)
		}
	}
	return creds.AccessKey, creds.SecretKey, nil
}

// writeNewFile writes data to path with mode 0600, failing with fs.ErrExist
// if path already exists.
func writeNewFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".s3-credentials-*")
	if err != nil {
		return fmt.Errorf("embeds3: write credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("embeds3: write credentials: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("embeds3: install credentials file: %w", err)
	}
	return nil
}

// randomCredentials returns a fresh access key (20 characters of base32, like
// AWS's) and secret key (40 characters of URL-safe base64).
func randomCredentials() (accessKey, secretKey string) {
	secret := make([]byte, 30)
	rand.Read(secret) // never returns an error
	return rand.Text()[:20], base64.RawURLEncoding.EncodeToString(secret)
}
