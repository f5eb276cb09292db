package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// MaxSecretValue is the largest secret value, in bytes, the gateway
// stores; a larger one is answered 413.
const MaxSecretValue = 64 << 10

// SecretMeta describes a secret of a namespace; the API never returns a
// value.
type SecretMeta struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func secretPath(name string) string { return "/v1/secrets/" + url.PathEscape(name) }

// PutSecret sets the secret name of the client's namespace to value,
// creating it (created is true) or replacing its value. The value travels
// as a JSON string, so it must be UTF-8 text.
func (c *Client) PutSecret(ctx context.Context, name string, value []byte) (created bool, meta SecretMeta, err error) {
	if !utf8.Valid(value) {
		return false, meta, errors.New("hearth: a secret value must be UTF-8 text (encode binary values, e.g. as base64)")
	}
	body, err := json.Marshal(struct {
		Value string `json:"value"`
	}{string(value)})
	if err != nil {
		return false, meta, fmt.Errorf("hearth: %w", err)
	}
	req, err := c.request(ctx, http.MethodPut, secretPath(name), "application/json", bytes.NewReader(body))
	if err != nil {
		return false, meta, err
	}
	resp, err := c.roundTrip(req, resendIdempotent)
	if err != nil {
		return false, meta, fmt.Errorf("hearth: put secret %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return false, meta, decodeError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		return false, meta, fmt.Errorf("hearth: decode answer of put secret %s: %w", name, err)
	}
	return resp.StatusCode == http.StatusCreated, meta, nil
}

// ListSecrets lists the secrets of the client's namespace.
func (c *Client) ListSecrets(ctx context.Context) ([]SecretMeta, error) {
	var out struct {
		Secrets []SecretMeta `json:"secrets"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/secrets", "", nil, http.StatusOK, &out)
	return out.Secrets, err
}

// GetSecret returns the metadata of a secret (not its value).
func (c *Client) GetSecret(ctx context.Context, name string) (SecretMeta, error) {
	var out SecretMeta
	err := c.do(ctx, http.MethodGet, secretPath(name), "", nil, http.StatusOK, &out)
	return out, err
}

// DeleteSecret removes a secret of the client's namespace.
func (c *Client) DeleteSecret(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, secretPath(name), "", nil, http.StatusNoContent, nil)
}
