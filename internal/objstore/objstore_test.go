package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
)

// stores returns the object stores the tests run against: the embedded S3
// server, and a real MinIO server when one is available.
func stores(t *testing.T) map[string]objstore.Config {
	t.Helper()
	s3, err := embeds3.Start(embeds3.Config{Dir: t.TempDir(), AccessKey: "ak-test", SecretKey: "sk-test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s3.Close(context.Background()) })
	out := map[string]objstore.Config{
		"embedded": {Endpoint: s3.Endpoint(), AccessKey: "ak-test", SecretKey: "sk-test-secret"},
	}
	if testutil.HaveMinIO(t) {
		m := testutil.StartMinIO(t)
		out["minio"] = objstore.Config{Endpoint: "http://" + m.Endpoint, AccessKey: m.AccessKey, SecretKey: m.SecretKey}
	}
	return out
}

func TestStore(t *testing.T) {
	for name, cfg := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store, err := objstore.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Ping(ctx); err == nil {
				t.Fatal("Ping before the bucket exists: want an error")
			}
			if err := store.EnsureBucket(ctx); err != nil {
				t.Fatal(err)
			}
			if err := store.EnsureBucket(ctx); err != nil {
				t.Fatalf("EnsureBucket twice: %v", err)
			}
			if err := store.Ping(ctx); err != nil {
				t.Fatal(err)
			}

			key := objstore.ModuleKey("abc123")
			if ok, err := store.Exists(ctx, key); err != nil || ok {
				t.Fatalf("Exists before Put = %v, %v", ok, err)
			}
			if _, err := store.Get(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("Get of a missing object: %v, want ErrNotFound", err)
			}
			if _, err := store.Open(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
				t.Fatalf("Open of a missing object: %v, want ErrNotFound", err)
			}
			big := make([]byte, 40<<20) // 40 MiB: goes multipart
			if _, err := rand.Read(big); err != nil {
				t.Fatal(err)
			}
			if err := store.Put(ctx, key, big, "application/wasm"); err != nil {
				t.Fatal(err)
			}
			got, err := store.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(big) || !bytes.Equal(got, big) {
				t.Fatalf("round trip of %d bytes gave %d bytes (equal=%v)", len(big), len(got), bytes.Equal(got, big))
			}
			if ok, err := store.Exists(ctx, key); err != nil || !ok {
				t.Fatalf("Exists after Put = %v, %v", ok, err)
			}
			r, err := store.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			streamed, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(streamed, big) {
				t.Fatalf("Open streamed %d bytes (equal=%v), %v", len(streamed), bytes.Equal(streamed, big), err)
			}
			if err := store.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if ok, _ := store.Exists(ctx, key); ok {
				t.Fatal("object still exists after Delete")
			}
		})
	}
}

func TestStoreRejectsWrongCredentials(t *testing.T) {
	for name, cfg := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cfg.SecretKey = "wrong-secret"
			store, err := objstore.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.EnsureBucket(context.Background()); err == nil {
				t.Fatal("EnsureBucket with a wrong secret: want an error")
			}
		})
	}
}

func TestNewRequiresEndpoint(t *testing.T) {
	if _, err := objstore.New(objstore.Config{}); err == nil {
		t.Fatal("want an error for an empty endpoint")
	}
}
