package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/internal/testutil"
)

// benchBootstrap is the bootstrap admin key of the benchmarks: of the
// same form as a key, as hearth dev makes one.
var benchBootstrap = auth.NewAdminKey()

// benchKeys opens the keys on an in-process NATS and creates a key of
// scope invoke bound to "default", the kind a caller of a function holds;
// it returns the keys and that key's token.
func benchKeys(b *testing.B) (*auth.Keys, string) {
	b.Helper()
	js, err := jetstream.New(testutil.ConnectNATS(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	keys, err := auth.OpenKeys(ctx, js, benchBootstrap, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(keys.Close)
	_, token, err := keys.Create(ctx, auth.KeyRequest{Name: "bench", Scopes: []string{"invoke"}, Namespace: "default"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return keys, token
}

// BenchmarkAuthenticate is Keys.Authenticate of an Authorization header:
// a key from the bucket (parse, map lookup, HMAC-SHA-256 of the secret)
// and the bootstrap admin key (one constant-time compare).
func BenchmarkAuthenticate(b *testing.B) {
	keys, token := benchKeys(b)
	for _, tc := range []struct{ name, token string }{{"key", token}, {"bootstrap", benchBootstrap}} {
		b.Run(tc.name, func(b *testing.B) {
			header := "Bearer " + tc.token
			b.ReportAllocs()
			for b.Loop() {
				if _, err := keys.Authenticate(header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// guardBench runs the guard's middleware over a handler that does nothing,
// for a sync invoke of a function (Rule{NeedInvoke, InRequest}) carrying
// header, on an echo context reset before each request as echo's server
// does (so that the principal's store is made anew every time).
func guardBench(b *testing.B, keys *auth.Keys, header string) {
	b.Helper()
	rule := auth.Rule{Need: auth.NeedInvoke, Where: auth.InRequest}
	g := &auth.Guard{
		Keys:      keys,
		Rule:      func(echo.Context) (auth.Rule, bool) { return rule, true },
		Namespace: func(echo.Context) (string, error) { return "default", nil },
	}
	h := g.Middleware(func(echo.Context) error { return nil })
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/v1/functions/reverse-c/invoke", nil)
	if header != "" {
		req.Header.Set(echo.HeaderAuthorization, header)
	}
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset(req, rec)
		c.SetPath("/v1/functions/:name/invoke")
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuard is the whole middleware with auth on: the key of scope
// invoke (normal path) and the bootstrap admin key.
func BenchmarkGuard(b *testing.B) {
	keys, token := benchKeys(b)
	b.Run("key", func(b *testing.B) { guardBench(b, keys, "Bearer "+token) })
	b.Run("bootstrap", func(b *testing.B) { guardBench(b, keys, "Bearer "+benchBootstrap) })
}

// BenchmarkGuardOff is the baseline of BenchmarkGuard: auth off (Keys
// nil), the same context, route and handler.
func BenchmarkGuardOff(b *testing.B) {
	guardBench(b, nil, "")
}

// TestStoredHashesStillVerify checks the scheme of a key's stored hash
// (HMAC-SHA-256 keyed by "hearth api key v1" over id, 0, secret) against
// crypto/hmac used plainly, as the hashes of keys already in a bucket were
// made: hashSecret reuses its HMACs for speed, and must not change them.
// Concurrent callers must each get their own key.
func TestStoredHashesStillVerify(t *testing.T) {
	js, err := jetstream.New(testutil.ConnectNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := auth.OpenKeys(ctx, js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	kv, err := js.KeyValue(ctx, auth.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	var tokens, ids []string
	for i, c := range "abcdefgh" {
		id := strings.Repeat(string(c), 16)
		secret := strings.Repeat(string(rune('A'+i)), 43)
		m := hmac.New(sha256.New, []byte("hearth api key v1"))
		m.Write([]byte(id + "\x00" + secret))
		raw, err := json.Marshal(map[string]any{
			"id": id, "name": "old", "scopes": []string{"invoke"}, "namespace": "default",
			"created_at": time.Now().UTC(), "hash": hex.EncodeToString(m.Sum(nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, id, raw); err != nil {
			t.Fatal(err)
		}
		tokens, ids = append(tokens, "hk_"+id+"_"+secret), append(ids, id)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		_, err := keys.Authenticate("Bearer " + tokens[len(tokens)-1])
		return err
	})
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			for range 200 {
				p, err := keys.Authenticate("Bearer " + tokens[i])
				if err != nil || p.KeyID != ids[i] {
					t.Errorf("key %s: principal %v, error %v", ids[i], p, err)
					return
				}
				if _, err := keys.Authenticate("Bearer " + tokens[i][:len(tokens[i])-1] + "Z"); err == nil {
					t.Errorf("key %s with a wrong secret was accepted", ids[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
