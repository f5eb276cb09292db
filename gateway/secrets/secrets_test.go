package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
)

const ns = "default"

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeyBytes) }

// connect starts a NATS server and returns a JetStream context on it and
// its URL, for a second gateway's connection.
func connect(t testing.TB) (jetstream.JetStream, string) {
	t.Helper()
	nc := testutil.ConnectNATS(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc.ConnectedUrl()
}

// connectAgain is another gateway's connection to the same server.
func connectAgain(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func open(t testing.TB, js jetstream.JetStream, key []byte) *Store {
	t.Helper()
	s, err := Open(context.Background(), js, key, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func put(t testing.TB, s *Store, name, value string) (bool, Meta) {
	t.Helper()
	created, meta, err := s.Put(context.Background(), ns, name, []byte(value))
	if err != nil {
		t.Fatalf("Put %s: %v", name, err)
	}
	return created, meta
}

// waitForWatch writes a record straight to the bucket and waits until the
// store's watch delivers it: the watch is ordered, so every earlier event
// has been applied by then.
func waitForWatch(t *testing.T, js jetstream.JetStream, s *Store) {
	t.Helper()
	kv, err := js.KeyValue(t.Context(), Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), "zz-watch.marker", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := s.Get("zz-watch", "marker"); !ok {
			return errors.New("the watch has not delivered the marker")
		}
		return nil
	})
}

func rawEntry(t *testing.T, js jetstream.JetStream, key string) jetstream.KeyValueEntry {
	t.Helper()
	kv, err := js.KeyValue(t.Context(), Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return e
}

func TestRoundTrip(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	put(t, s, "db-password", "hunter2")
	put(t, s, "api-token", "tok-123")
	// The same gateway answers at once, without waiting for its watch.
	if _, ok := s.Get(ns, "db-password"); !ok {
		t.Fatal("Get right after Put: not found")
	}
	env, err := s.Env(ns, []string{"db-password", "api-token"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DB_PASSWORD": "hunter2", "API_TOKEN": "tok-123"}
	if fmt.Sprint(env) != fmt.Sprint(want) {
		t.Fatalf("Env = %v, want %v", env, want)
	}
	if env, err := s.Env(ns, nil); err != nil || len(env) != 0 {
		t.Fatalf("Env of no names = %v, %v", env, err)
	}
	// Another namespace has its own secrets.
	if _, _, err := s.Put(t.Context(), "shop", "db-password", []byte("other")); err != nil {
		t.Fatal(err)
	}
	env, err = s.Env("shop", []string{"db-password"})
	if err != nil || env["DB_PASSWORD"] != "other" {
		t.Fatalf("Env in shop = %v, %v", env, err)
	}
	if got := s.List("shop"); len(got) != 1 {
		t.Fatalf("List(shop) = %v", got)
	}
}

func TestCreatedThenUpdated(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	created, first := put(t, s, "token", "v1")
	if !created {
		t.Fatal("first Put: created = false")
	}
	if first.Name != "token" || first.CreatedAt.IsZero() || !first.UpdatedAt.Equal(first.CreatedAt) {
		t.Fatalf("first Put meta = %+v", first)
	}
	created, second := put(t, s, "token", "v2")
	if created {
		t.Fatal("second Put: created = true")
	}
	if !second.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("update changed created_at: %v, then %v", first.CreatedAt, second.CreatedAt)
	}
	if second.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("updated_at went back: %v, then %v", first.UpdatedAt, second.UpdatedAt)
	}
	if got, _ := s.Get(ns, "token"); got != second {
		t.Errorf("Get = %+v, want %+v", got, second)
	}
	env, err := s.Env(ns, []string{"token"})
	if err != nil || env["TOKEN"] != "v2" {
		t.Fatalf("Env after update = %v, %v", env, err)
	}
}

func TestListAndGetNeverCarryTheValue(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	const value = "very-secret-value"
	put(t, s, "zeta", value)
	put(t, s, "alpha", value)
	list := s.List(ns)
	if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "zeta" {
		t.Fatalf("List = %+v, want alpha, zeta", list)
	}
	meta, ok := s.Get(ns, "zeta")
	if !ok {
		t.Fatal("Get zeta: not found")
	}
	for _, v := range []any{list, meta} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(value)) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString([]byte(value)))) {
			t.Fatalf("%s carries the value", raw)
		}
	}
	raw, _ := json.Marshal(meta)
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields["name"] != "zeta" || fields["created_at"] == nil || fields["updated_at"] == nil {
		t.Fatalf("Meta JSON = %s, want name, created_at, updated_at", raw)
	}
	if got := s.List("empty"); got == nil || len(got) != 0 {
		t.Fatalf("List of an empty namespace = %#v, want []", got)
	}
}

func TestStoredSealed(t *testing.T) {
	js, _ := connect(t)
	key := testKey(1)
	s := open(t, js, key)
	const value = "plaintext-password-123"
	put(t, s, "db", value)
	first := rawEntry(t, js, ns+".db").Value()
	for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value)), hex.EncodeToString([]byte(value))} {
		if bytes.Contains(first, []byte(form)) {
			t.Fatalf("the stored record %s contains the value (%s)", first, form)
		}
	}
	var rec struct {
		Ciphertext []byte `json:"ciphertext"`
		KeyID      string `json:"key_id"`
		CreatedAt  string `json:"created_at"`
		UpdatedAt  string `json:"updated_at"`
	}
	if err := json.Unmarshal(first, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.KeyID != Fingerprint(key) || len(rec.KeyID) != 16 {
		t.Errorf("key_id = %q, want %q", rec.KeyID, Fingerprint(key))
	}
	if len(rec.Ciphertext) != nonceBytes+len(value)+tagBytes {
		t.Errorf("ciphertext is %d bytes, want nonce + %d + tag", len(rec.Ciphertext), len(value))
	}
	for _, ts := range []string{rec.CreatedAt, rec.UpdatedAt} {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("timestamp %q: %v", ts, err)
		}
	}
	// The same value written again is sealed under a fresh nonce.
	put(t, s, "db", value)
	var again struct {
		Ciphertext []byte `json:"ciphertext"`
	}
	if err := json.Unmarshal(rawEntry(t, js, ns+".db").Value(), &again); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.Ciphertext[:nonceBytes], rec.Ciphertext[:nonceBytes]) || bytes.Equal(again.Ciphertext, rec.Ciphertext) {
		t.Error("two writes of one value used the same nonce")
	}
}

func TestTwoGateways(t *testing.T) {
	js, url := connect(t)
	a := open(t, js, testKey(1))
	b := open(t, connectAgain(t, url), testKey(1))

	put(t, a, "shared", "s3cret")
	testutil.Eventually(t, 5*time.Second, func() error {
		env, err := b.Env(ns, []string{"shared"})
		if err != nil {
			return err
		}
		if env["SHARED"] != "s3cret" {
			return errors.New("gateway b has an old value")
		}
		return nil
	})
	put(t, a, "shared", "rotated")
	testutil.Eventually(t, 5*time.Second, func() error {
		env, err := b.Env(ns, []string{"shared"})
		if err != nil {
			return err
		}
		if env["SHARED"] != "rotated" {
			return errors.New("gateway b has not seen the rotation")
		}
		return nil
	})
	if err := a.Delete(t.Context(), ns, "shared"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := b.Get(ns, "shared"); ok {
			return errors.New("gateway b still has the deleted secret")
		}
		return nil
	})
	var missing *MissingError
	if _, err := b.Env(ns, []string{"shared"}); !errors.As(err, &missing) {
		t.Fatalf("Env of a secret deleted on another gateway: %v, want *MissingError", err)
	}
	// Deleted on b, set again on b: a sees the new one.
	put(t, b, "shared", "again")
	testutil.Eventually(t, 5*time.Second, func() error {
		env, err := a.Env(ns, []string{"shared"})
		if err != nil {
			return err
		}
		if env["SHARED"] != "again" {
			return errors.New("gateway a has not seen the new value")
		}
		return nil
	})
}

func TestOpenReplaysExisting(t *testing.T) {
	js, url := connect(t)
	a := open(t, js, testKey(1))
	put(t, a, "one", "1")
	put(t, a, "two", "2")
	put(t, a, "gone", "x")
	if err := a.Delete(t.Context(), ns, "gone"); err != nil {
		t.Fatal(err)
	}
	// Open returns after the replay: no polling needed.
	b := open(t, connectAgain(t, url), testKey(1))
	if got := b.List(ns); len(got) != 2 || got[0].Name != "one" || got[1].Name != "two" {
		t.Fatalf("a new gateway lists %+v, want one, two", got)
	}
	if m := b.Missing(ns, []string{"one", "gone", "two", "never"}); fmt.Sprint(m) != "[gone never]" {
		t.Fatalf("Missing = %v", m)
	}
}

func TestOtherKeyIsAClearError(t *testing.T) {
	js, url := connect(t)
	a := open(t, js, testKey(1))
	b := open(t, connectAgain(t, url), testKey(2))
	const value = "only-for-key-one"
	put(t, a, "db", value)
	var err error
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := b.Get(ns, "db"); !ok {
			return errors.New("gateway b has not seen db")
		}
		return nil
	})
	_, err = b.Env(ns, []string{"db"})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("Env under another key: %v, want ErrKeyMismatch", err)
	}
	msg := err.Error()
	for _, want := range []string{`db`, Fingerprint(testKey(1)), Fingerprint(testKey(2)), "every gateway must share one HEARTH_SECRETS_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, value) {
		t.Errorf("error %q contains the value", msg)
	}
	// Setting it again through b reseals it under b's key.
	put(t, b, "db", "resealed")
	if env, err := b.Env(ns, []string{"db"}); err != nil || env["DB"] != "resealed" {
		t.Fatalf("Env after resealing = %v, %v", env, err)
	}
}

func TestMovedCiphertextDoesNotOpen(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	const value = "belongs-to-a"
	put(t, s, "a", value)
	put(t, s, "b", "belongs-to-b")
	kv, err := js.KeyValue(t.Context(), Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), ns+".b", rawEntry(t, js, ns+".a").Value()); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		_, err := s.Env(ns, []string{"b"})
		if err == nil {
			return errors.New("b still opens")
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Env of a moved ciphertext: %v, want ErrCorrupt", err)
		}
		if !strings.Contains(err.Error(), "b") || strings.Contains(err.Error(), value) {
			t.Fatalf("error %q: want the name b and no value", err)
		}
		return nil
	})
	// A record that is not JSON at all is corrupt too, and still listed.
	if _, err := kv.Put(t.Context(), ns+".c", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, ok := s.Get(ns, "c"); !ok {
			return errors.New("c not seen")
		}
		return nil
	})
	if _, err := s.Env(ns, []string{"c"}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Env of a record that is not JSON: %v, want ErrCorrupt", err)
	}
}

func TestBadNames(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	for _, name := range []string{"../x", "A_B", "a.b", strings.Repeat("a", 300), "", "a*", "a>", "1abc", "-a", "a b"} {
		_, _, err := s.Put(t.Context(), ns, name, []byte("v"))
		checkInvalidName(t, "Put "+name, err)
		checkInvalidName(t, "Delete "+name, s.Delete(t.Context(), ns, name))
		if _, ok := s.Get(ns, name); ok {
			t.Errorf("Get %q: found", name)
		}
	}
	_, _, err := s.Put(t.Context(), "Bad.NS", "ok", []byte("v"))
	checkInvalidName(t, "Put in namespace Bad.NS", err)
	if got := s.List(ns); len(got) != 0 {
		t.Fatalf("bad names stored something: %+v", got)
	}
	if _, _, err := s.Put(t.Context(), ns, strings.Repeat("a", 63), []byte("v")); err != nil {
		t.Fatalf("a 63-character name: %v", err)
	}
}

func checkInvalidName(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidName) {
		t.Errorf("%s: %v, want ErrInvalidName", what, err)
		return
	}
	var ve *registry.ValidationError
	if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidName {
		t.Errorf("%s: %v is not a registry.ValidationError with code invalid_name", what, err)
	}
}

func TestValueSize(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	if _, _, err := s.Put(t.Context(), ns, "big", bytes.Repeat([]byte("x"), MaxValueBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a value of 64 KiB + 1: %v, want ErrTooLarge", err)
	}
	for _, v := range [][]byte{nil, {}} {
		if _, _, err := s.Put(t.Context(), ns, "empty", v); !errors.Is(err, ErrEmpty) || err.Error() != "a secret needs a value" {
			t.Fatalf("an empty value: %v, want ErrEmpty", err)
		}
	}
	if _, ok := s.Get(ns, "big"); ok {
		t.Fatal("a refused value was stored")
	}
	max := bytes.Repeat([]byte{0, 1, 2, 0xff}, MaxValueBytes/4)
	if _, _, err := s.Put(t.Context(), ns, "max", max); err != nil {
		t.Fatalf("a value of exactly 64 KiB: %v", err)
	}
	env, err := s.Env(ns, []string{"max"})
	if err != nil || env["MAX"] != string(max) {
		t.Fatalf("Env of 64 KiB of binary: %v", err)
	}
}

func TestWithoutKey(t *testing.T) {
	js, url := connect(t)
	keyed := open(t, js, testKey(1))
	put(t, keyed, "db", "v")
	s := open(t, connectAgain(t, url), nil)
	if s.KeyID() != "" {
		t.Errorf("KeyID without a key = %q", s.KeyID())
	}
	if _, _, err := s.Put(t.Context(), ns, "x", []byte("v")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Put without a key: %v, want ErrNoKey", err)
	}
	if _, err := s.Env(ns, []string{"db"}); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "HEARTH_SECRETS_KEY") {
		t.Fatalf("Env without a key: %v, want ErrNoKey", err)
	}
	if got := s.List(ns); len(got) != 1 || got[0].Name != "db" {
		t.Fatalf("List without a key = %+v", got)
	}
	if _, ok := s.Get(ns, "db"); !ok {
		t.Fatal("Get without a key: not found")
	}
	if err := s.Delete(t.Context(), ns, "db"); err != nil {
		t.Fatalf("Delete without a key: %v", err)
	}
	if _, err := Open(t.Context(), js, make([]byte, 16), 1); err == nil {
		t.Fatal("Open with a 16-byte key: no error")
	}
}

func TestDelete(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	if err := s.Delete(t.Context(), ns, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a missing secret: %v, want ErrNotFound", err)
	}
	put(t, s, "db", "v")
	if err := s.Delete(t.Context(), ns, "db"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(ns, "db"); ok {
		t.Fatal("Get right after Delete: found")
	}
	if m := s.Missing(ns, []string{"db"}); len(m) != 1 {
		t.Fatalf("Missing after Delete = %v", m)
	}
	if err := s.Delete(t.Context(), ns, "db"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	if created, _ := put(t, s, "db", "v2"); !created {
		t.Fatal("Put after Delete: created = false")
	}
	// The watch's older events (the first put, the purge) do not undo it:
	// once it delivers a record written after them, it has applied them.
	waitForWatch(t, js, s)
	if env, err := s.Env(ns, []string{"db"}); err != nil || env["DB"] != "v2" {
		t.Fatalf("Env after delete and set = %v, %v", env, err)
	}
}

// TestCacheKeepsNewest feeds the cache events out of order, as the watch
// delivers them after a write of this process.
func TestCacheKeepsNewest(t *testing.T) {
	s := &Store{cache: make(map[string]map[string]*entry)}
	v := func(rev uint64, name string) *entry { return &entry{rev: rev, meta: Meta{Name: name}} }
	s.remember(ns, "a", v(5, "a"))
	s.remember(ns, "a", v(3, "a")) // an older put from the watch
	if e := s.cache[ns]["a"]; e.rev != 5 {
		t.Fatalf("an older put replaced a newer one: rev %d", e.rev)
	}
	s.remember(ns, "a", &entry{rev: 5, deleted: true}) // Delete here purged rev 5
	s.remember(ns, "a", v(5, "a"))                     // the watch delivers rev 5 late
	if _, ok := s.Get(ns, "a"); ok {
		t.Fatal("a late put revived a deleted secret")
	}
	s.removed(ns, "a", 6) // the watch delivers the purge
	if _, ok := s.cache[ns]; ok {
		t.Fatal("the purge left a tombstone")
	}
	s.remember(ns, "b", v(9, "b"))
	s.removed(ns, "b", 7) // an older delete
	if _, ok := s.Get(ns, "b"); !ok {
		t.Fatal("an older delete removed a newer put")
	}
}

func TestEnvMissing(t *testing.T) {
	js, _ := connect(t)
	s := open(t, js, testKey(1))
	const value = "present-value"
	put(t, s, "present", value)
	_, err := s.Env("default", []string{"present", "db-password"})
	var missing *MissingError
	if !errors.As(err, &missing) || missing.Name != "db-password" || missing.Namespace != "default" {
		t.Fatalf("Env with a missing secret: %v, want *MissingError for db-password", err)
	}
	msg := err.Error()
	for _, want := range []string{"db-password", "deleted or never set", "hearth secret set db-password", "default"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, value) {
		t.Errorf("error %q contains a value", msg)
	}
}

func TestConcurrentFirstPut(t *testing.T) {
	js, url := connect(t)
	a := open(t, js, testKey(1))
	b := open(t, connectAgain(t, url), testKey(1))
	for round := range 10 {
		name := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]bool, 2)
		for i, s := range []*Store{a, b} {
			wg.Go(func() {
				<-start
				created, _, err := s.Put(context.Background(), ns, name, []byte(fmt.Sprint("from ", i)))
				if err != nil {
					t.Error(err)
				}
				results[i] = created
			})
		}
		close(start)
		wg.Wait()
		if results[0] == results[1] {
			t.Fatalf("%s: created = %v from both writers, want exactly one", name, results)
		}
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"db-password": "DB_PASSWORD", "a": "A", "api-token-2": "API_TOKEN_2"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, KeyBytes)
	for i := range key {
		key[i] = byte(i*7 + 0xf0) // has bytes that differ between std and URL base64
	}
	for _, s := range []string{
		hex.EncodeToString(key),
		strings.ToUpper(hex.EncodeToString(key)),
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		"  \n" + base64.StdEncoding.EncodeToString(key) + "\r\n",
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{
		"", "   ",
		base64.StdEncoding.EncodeToString(key[:31]),
		base64.StdEncoding.EncodeToString(append(key, 0)),
		hex.EncodeToString(key)[:63],
		strings.Repeat("z", 64),
		"correct horse battery staple",
	} {
		_, err := ParseKey(s)
		if err == nil {
			t.Errorf("ParseKey(%q): no error", s)
			continue
		}
		if !strings.Contains(err.Error(), "openssl rand -base64 32") || !strings.Contains(err.Error(), "head -c32 /dev/urandom | base64") {
			t.Errorf("ParseKey(%q): %q does not say how to make a key", s, err)
		}
		if strings.TrimSpace(s) != "" && strings.Contains(err.Error(), s) {
			t.Errorf("ParseKey(%q): the error repeats the input", s)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add(hex.EncodeToString(testKey(1)))
	f.Add(base64.StdEncoding.EncodeToString(testKey(2)))
	f.Add(base64.RawURLEncoding.EncodeToString(testKey(3)))
	f.Add(" \t" + base64.StdEncoding.EncodeToString(testKey(4)) + "\n")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseKey(s)
		if err == nil && len(key) != KeyBytes {
			t.Fatalf("ParseKey(%q) accepted %d bytes", s, len(key))
		}
		if err != nil && key != nil {
			t.Fatalf("ParseKey(%q) returned a key with an error", s)
		}
	})
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "hearth")
	path := filepath.Join(dir, "secrets.key")
	key, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeyBytes {
		t.Fatalf("a new key is %d bytes", len(key))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the key file has mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("the key directory has mode %v, want 0700", di.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if parsed, err := ParseKey(string(data)); err != nil || !bytes.Equal(parsed, key) {
		t.Errorf("the key file %q does not parse to the key: %v", data, err)
	}
	again, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load = %x, %v; want the same key %x", again, err, key)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the key directory holds %d files, want only the key (no temporary file)", len(entries))
	}

	hexPath := filepath.Join(t.TempDir(), "hex.key")
	if err := os.WriteFile(hexPath, []byte(hex.EncodeToString(testKey(9))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadOrCreateKeyFile(hexPath); err != nil || !bytes.Equal(got, testKey(9)) {
		t.Fatalf("a hex key file = %x, %v", got, err)
	}
	badPath := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(badPath, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(badPath); err == nil || !strings.Contains(err.Error(), badPath) {
		t.Fatalf("a bad key file: %v, want an error naming it", err)
	}
	if data, _ := os.ReadFile(badPath); string(data) != "short" {
		t.Fatal("a bad key file was overwritten")
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent creators got different keys")
		}
	}
}

func BenchmarkEnv(b *testing.B) {
	js, _ := connect(b)
	s := open(b, js, testKey(1))
	put(b, s, "db-password", "correct-horse-battery-staple")
	put(b, s, "api-token", "tok_0123456789abcdef0123456789abcdef")
	names := []string{"db-password", "api-token"}
	b.ReportAllocs()
	for b.Loop() {
		env, err := s.Env(ns, names)
		if err != nil || len(env) != 2 {
			b.Fatal(env, err)
		}
	}
}
