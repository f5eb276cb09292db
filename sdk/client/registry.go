package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Alias names a version of a function, or splits calls between versions
// by weight. "latest" is listed too (Implicit): it moves on every deploy.
type Alias struct {
	Name      string      `json:"name"`
	Version   int         `json:"version,omitempty"`
	Weights   map[int]int `json:"weights,omitempty"` // version → percent, adding up to 100
	UpdatedAt time.Time   `json:"updated_at,omitzero"`
	Implicit  bool        `json:"implicit,omitempty"`
}

func functionPath(name string) string { return "/v1/functions/" + url.PathEscape(name) }

// Versions returns every version of a function, oldest first.
func (c *Client) Versions(ctx context.Context, name string) ([]Version, error) {
	var out struct {
		Versions []Version `json:"versions"`
	}
	err := c.do(ctx, http.MethodGet, functionPath(name)+"/versions", "", nil, http.StatusOK, &out)
	return out.Versions, err
}

// Version returns version n of a function.
func (c *Client) Version(ctx context.Context, name string, n int) (*Version, error) {
	var out Version
	err := c.do(ctx, http.MethodGet, functionPath(name)+"/versions/"+strconv.Itoa(n), "", nil, http.StatusOK, &out)
	return &out, err
}

// Aliases returns a function's aliases: latest first, then its own in
// name order.
func (c *Client) Aliases(ctx context.Context, name string) ([]Alias, error) {
	var out struct {
		Aliases []Alias `json:"aliases"`
	}
	err := c.do(ctx, http.MethodGet, functionPath(name)+"/aliases", "", nil, http.StatusOK, &out)
	return out.Aliases, err
}

// Alias returns one alias of a function.
func (c *Client) Alias(ctx context.Context, name, alias string) (*Alias, error) {
	var out Alias
	err := c.do(ctx, http.MethodGet, functionPath(name)+"/aliases/"+url.PathEscape(alias), "", nil, http.StatusOK, &out)
	return &out, err
}

// SetAlias points alias at version, creating or moving it; moving an alias
// back is how a rollback is done.
func (c *Client) SetAlias(ctx context.Context, name, alias string, version int) (*Alias, error) {
	return c.putAlias(ctx, name, alias, map[string]any{"version": version})
}

// SetAliasWeights splits the calls of alias between versions: weights maps
// versions to whole percentages that add up to 100 (e.g. {3: 90, 4: 10}).
func (c *Client) SetAliasWeights(ctx context.Context, name, alias string, weights map[int]int) (*Alias, error) {
	return c.putAlias(ctx, name, alias, map[string]any{"weights": weights})
}

func (c *Client) putAlias(ctx context.Context, name, alias string, body map[string]any) (*Alias, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("hearth: %w", err)
	}
	req, err := c.request(ctx, http.MethodPut, functionPath(name)+"/aliases/"+url.PathEscape(alias), "application/json", bytesReader(raw))
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(req, resendIdempotent)
	if err != nil {
		return nil, fmt.Errorf("hearth: set alias %s of %s: %w", alias, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, decodeError(resp)
	}
	var out Alias
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("hearth: decode alias %s of %s: %w", alias, name, err)
	}
	return &out, nil
}

// DeleteAlias removes alias; calls through it then answer 404.
func (c *Client) DeleteAlias(ctx context.Context, name, alias string) error {
	return c.do(ctx, http.MethodDelete, functionPath(name)+"/aliases/"+url.PathEscape(alias), "", nil, http.StatusNoContent, nil)
}
