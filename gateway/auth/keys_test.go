package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

func openKeys(t *testing.T, js jetstream.JetStream, bootstrap string) *Keys {
	t.Helper()
	k, err := OpenKeys(context.Background(), js, bootstrap, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

func jetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(testutil.ConnectNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	k := openKeys(t, js, "")
	key, token, err := k.Create(ctx, KeyRequest{Name: "ci", Scopes: []string{"deploy"}, Namespace: "team-a", RateLimit: &RateLimit{RPS: 5}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key.RateLimit.Burst != 5 || key.Namespace != "team-a" || len(key.Scopes) != 1 {
		t.Fatalf("key %+v", key)
	}
	p, err := k.Authenticate("Bearer " + token)
	if err != nil || p.KeyID != key.ID || !p.Covers("team-a") || p.Covers("team-b") || !p.Meets(NeedDeploy) || p.Meets(NeedAdmin) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	// The bucket holds the hash, never the key or its secret.
	entry, err := k.kv.Get(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(entry.Value()), token[20:]) {
		t.Fatal("the stored entry contains the key's secret")
	}
	if got := k.List(nil); len(got) != 1 || got[0].ID != key.ID {
		t.Fatalf("List = %+v", got)
	}
	if _, err := k.Delete(ctx, key.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Authenticate("Bearer " + token); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a deleted key authenticates: %v", err)
	}
	if _, err := k.Delete(ctx, key.ID, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestRevocationReachesEveryGateway: two gateways watch one bucket; a key
// made on one works on the other, and once revoked on one it is refused by
// the other within seconds, also while calls keep using it.
func TestRevocationReachesEveryGateway(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	a, b := openKeys(t, js, ""), openKeys(t, js, "")
	key, token, err := a.Create(ctx, KeyRequest{Name: "x", Scopes: []string{"invoke"}, Namespace: "default"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() error { _, err := b.Authenticate("Bearer " + token); return err })

	// Calls on both gateways while the key is revoked: no panic, no race,
	// and afterwards refused everywhere.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, k := range []*Keys{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_, _ = k.Authenticate("Bearer " + token)
			}
		}()
	}
	if _, err := a.Delete(ctx, key.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate("Bearer " + token); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("the revoking gateway still accepts the key: %v", err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, err := b.Authenticate("Bearer " + token); !errors.Is(err, ErrUnknownKey) {
			return errors.New("the other gateway still accepts the revoked key")
		}
		return nil
	})
	stop.Store(true)
	wg.Wait()
}

// TestKeysSurviveRestart: a gateway opened again on the same bucket knows
// the keys made before.
func TestKeysSurviveRestart(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	first, err := OpenKeys(ctx, js, "", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := first.Create(ctx, KeyRequest{Name: "x", Scopes: []string{"read"}, Namespace: "*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	again := openKeys(t, js, "")
	if _, err := again.Authenticate("Bearer " + token); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
}

func TestBootstrapKey(t *testing.T) {
	js := jetStream(t)
	if _, err := OpenKeys(context.Background(), js, "short", 1, nil); err == nil {
		t.Fatal("a short admin key was accepted")
	}
	boot := NewAdminKey()
	k := openKeys(t, js, boot)
	p, err := k.Authenticate("Bearer " + boot)
	if err != nil || p.KeyID != BootstrapID || !p.Meets(NeedAdmin) || !p.Covers("anything") {
		t.Fatalf("bootstrap: %+v %v", p, err)
	}
	if _, err := k.Authenticate("Bearer " + boot[:len(boot)-1] + "x"); err == nil && !strings.HasSuffix(boot, "x") {
		t.Fatal("a wrong bootstrap key was accepted")
	}
}

func TestCreateRefuses(t *testing.T) {
	ctx := context.Background()
	k := openKeys(t, jetStream(t), "")
	for name, req := range map[string]KeyRequest{
		"no name":        {Scopes: []string{"read"}, Namespace: "default"},
		"long name":      {Name: strings.Repeat("n", 101), Scopes: []string{"read"}, Namespace: "default"},
		"control":        {Name: "a\nb", Scopes: []string{"read"}, Namespace: "default"},
		"no scopes":      {Name: "x", Namespace: "default"},
		"empty scopes":   {Name: "x", Scopes: []string{}, Namespace: "default"},
		"unknown scope":  {Name: "x", Scopes: []string{"write"}, Namespace: "default"},
		"no namespace":   {Name: "x", Scopes: []string{"read"}},
		"path namespace": {Name: "x", Scopes: []string{"read"}, Namespace: "../x"},
		"upper ns":       {Name: "x", Scopes: []string{"read"}, Namespace: "A_B"},
		"long ns":        {Name: "x", Scopes: []string{"read"}, Namespace: strings.Repeat("a", 300)},
		"zero rps":       {Name: "x", Scopes: []string{"read"}, Namespace: "default", RateLimit: &RateLimit{}},
		"negative burst": {Name: "x", Scopes: []string{"read"}, Namespace: "default", RateLimit: &RateLimit{RPS: 1, Burst: -1}},
		"huge rps":       {Name: "x", Scopes: []string{"read"}, Namespace: "default", RateLimit: &RateLimit{RPS: 1e9}},
	} {
		var ie *InputError
		if _, _, err := k.Create(ctx, req, nil); !errors.As(err, &ie) {
			t.Errorf("%s: Create = %v, want an InputError", name, err)
		} else if len(ie.Msg) > 400 {
			t.Errorf("%s: message of %d bytes", name, len(ie.Msg))
		}
	}
	// A key grants no more than it has.
	nsAdmin := &Principal{KeyID: "a", Namespace: "team-a", set: setOf([]Scope{ScopeAdmin})}
	deployer := &Principal{KeyID: "d", Namespace: "*", set: setOf([]Scope{ScopeDeploy})}
	for name, c := range map[string]struct {
		by  *Principal
		req KeyRequest
	}{
		"other namespace": {nsAdmin, KeyRequest{Name: "x", Scopes: []string{"read"}, Namespace: "team-b"}},
		"all namespaces":  {nsAdmin, KeyRequest{Name: "x", Scopes: []string{"read"}, Namespace: "*"}},
		"wider scope":     {deployer, KeyRequest{Name: "x", Scopes: []string{"admin"}, Namespace: "team-a"}},
	} {
		if _, _, err := k.Create(ctx, c.req, c.by); !errors.Is(err, ErrNotCovered) {
			t.Errorf("%s: Create = %v, want ErrNotCovered", name, err)
		}
	}
	if _, _, err := k.Create(ctx, KeyRequest{Name: "x", Scopes: []string{"read"}, Namespace: "team-a"}, nsAdmin); err != nil {
		t.Errorf("a namespace's admin cannot make a key of its namespace: %v", err)
	}
	// A namespace's admin sees and deletes only its namespace's keys.
	other, _, err := k.Create(ctx, KeyRequest{Name: "b", Scopes: []string{"read"}, Namespace: "team-b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range k.List(nsAdmin) {
		if key.Namespace != "team-a" {
			t.Errorf("team-a's admin lists %+v", key)
		}
	}
	if _, err := k.Delete(ctx, other.ID, nsAdmin); !errors.Is(err, ErrNotFound) {
		t.Errorf("team-a's admin deletes a team-b key: %v", err)
	}
}
