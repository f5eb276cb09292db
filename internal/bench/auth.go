package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/internal/stack"
)

// warmReactorAuth is hearth-warm-reactor with API keys on: a second
// gateway on the same platform (its runner is this gateway's local runner
// too, as in `hearth dev --auth`) with Auth, a key of scope invoke made
// through its API with the bootstrap admin key, and every call carrying
// that key, so that the guard takes the normal key path (parse, lookup,
// HMAC) and the gateway drops the credential from the headers the
// function sees. Everything else is hearth-warm-reactor's: runner, NATS,
// records, the pooled reactor.
func (b *bencher) warmReactorAuth(ctx context.Context) (Result, error) {
	s, err := b.platform(ctx)
	if err != nil {
		return Result{}, err
	}
	gw, err := b.authGateway(ctx, s)
	if err != nil {
		return Result{}, err
	}
	return b.syncLoad(ctx, gw.url, gw.url+"/v1/functions/reverse-c/invoke", gw.key, gw.admin, reversed(b.body))
}

// keyedGateway is a gateway with API keys on: its URL, the header of a
// key of scope invoke for namespace default and that of the bootstrap
// admin key (for /metrics).
type keyedGateway struct {
	url        string
	key, admin http.Header
}

// authGateway starts, on first use, a gateway with API keys on, on s's
// NATS, registry, store and runner, and makes its invoke key through POST
// /v1/keys. It runs neither the async dispatcher nor triggers, which stay
// the platform's gateway's.
func (b *bencher) authGateway(ctx context.Context, s *stack.Stack) (*keyedGateway, error) {
	if b.keyed != nil {
		return b.keyed, nil
	}
	b.bar.Status("starting a gateway with API keys on and making a key…")
	adminKey := auth.NewAdminKey()
	url, err := s.StartExtraGateway(ctx, gateway.Config{Auth: true, AdminKey: adminKey, NoDispatcher: true, NoTriggers: true})
	if err != nil {
		return nil, err
	}
	gw := &keyedGateway{url: url, admin: bearer(adminKey)}
	key, err := createKey(ctx, url, gw.admin, auth.KeyRequest{Name: "bench", Scopes: []string{"invoke"}, Namespace: "default"})
	if err != nil {
		return nil, err
	}
	gw.key = bearer(key)
	// A call without the key must be refused, or this measures nothing.
	status, err := post(ctx, url+"/v1/functions/reverse-c/invoke", nil, b.body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusUnauthorized {
		return nil, fmt.Errorf("a call without a key answered %d, want 401: auth is not on", status)
	}
	b.keyed = gw
	return gw, nil
}

// bearer is the header that carries key.
func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

// createKey makes a key through POST /v1/keys and returns it.
func createKey(ctx context.Context, base string, header http.Header, kr auth.KeyRequest) (string, error) {
	body, err := json.Marshal(kr)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/keys", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("create a key: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("create a key: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create a key: status %d, want 201: %.200s", resp.StatusCode, raw)
	}
	var created struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.Key == "" {
		return "", fmt.Errorf("create a key: no key in the answer %.200q (%v)", raw, err)
	}
	return created.Key, nil
}

// post sends body to url with header and returns the status.
func post(ctx context.Context, url string, header http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
