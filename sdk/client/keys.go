package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The scopes of an API key (docs/api.md says what each allows; API keys
// and the audit log take ScopeAdmin).
const (
	ScopeRead   = "read"
	ScopeInvoke = "invoke"
	ScopeDeploy = "deploy"
	ScopeAdmin  = "admin"
)

// RateLimit is the request rate a key may sustain (RPS, per second) and
// its burst.
type RateLimit struct {
	RPS   float64 `json:"rps" yaml:"rps"`
	Burst int     `json:"burst,omitempty" yaml:"burst"` // 0: the rps rounded up
}

// KeyRequest asks for a new API key.
type KeyRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`               // of ScopeRead, ScopeInvoke, ScopeDeploy, ScopeAdmin
	Namespace string     `json:"namespace"`            // the namespace it may act in, or "*" for all
	RateLimit *RateLimit `json:"rate_limit,omitempty"` // nil: the gateway's default
}

// Key is an API key as listed: everything but its secret.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Namespace string     `json:"namespace"`
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// NewKey is a key just created, with the key itself (Key): the only time
// the gateway shows it.
type NewKey struct {
	ID        string     `json:"id"`
	Key       string     `json:"key"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Namespace string     `json:"namespace"`
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// CreateKey creates an API key (admin scope).
func (c *Client) CreateKey(ctx context.Context, r KeyRequest) (*NewKey, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("hearth: %w", err)
	}
	var out NewKey
	err = c.do(ctx, http.MethodPost, "/v1/keys", "application/json", bytes.NewReader(body), http.StatusCreated, &out)
	return &out, err
}

// ListKeys lists the API keys (admin scope).
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) {
	var out struct {
		Keys []Key `json:"keys"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/keys", "", nil, http.StatusOK, &out)
	return out.Keys, err
}

// DeleteKey revokes the API key with id (admin scope); an unknown id is an
// *Error with Status 404.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/keys/"+url.PathEscape(id), "", nil, http.StatusNoContent, nil)
}
