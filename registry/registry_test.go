package registry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
)

type env struct {
	store *objstore.Store
	js    jetstream.JetStream
}

func newEnv(t *testing.T) env {
	t.Helper()
	js, err := jetstream.New(testutil.ConnectNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	return env{store: testutil.StartS3(t), js: js}
}

func (e env) open(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Open(context.Background(), registry.Config{}, e.js, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func hello() []byte { return functions.Examples()[1].Wasm }

func TestDeployStoresModuleAndVersions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.open(t)

	_, v1, err := r.Deploy(ctx, registry.DeployRequest{Name: "hello", Module: hello()})
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.ABI != abi.Command || v1.Digest != registry.DigestOf(hello()) {
		t.Fatalf("first version %+v", v1)
	}
	if v1.Spec.MemoryMB != limits.DefaultMemoryMB || v1.Spec.TimeoutMs != int(limits.DefaultTimeout.Milliseconds()) {
		t.Fatalf("defaults not applied: %+v", v1.Spec)
	}
	stored, err := e.store.Get(ctx, objstore.ModuleKey(v1.DigestHex()))
	if err != nil || len(stored) != len(hello()) {
		t.Fatalf("module in S3: %d bytes, %v", len(stored), err)
	}
	fn, v2, err := r.Deploy(ctx, registry.DeployRequest{Name: "hello", Module: hello(), Spec: registry.Spec{TimeoutMs: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || len(fn.Versions) != 2 || fn.Latest().Spec.TimeoutMs != 500 {
		t.Fatalf("second deploy: %+v", fn)
	}

	// A second registry (another gateway) sees the function through its watcher.
	other := e.open(t)
	testutil.Eventually(t, 5*time.Second, func() error {
		got, err := other.Lookup(ctx, registry.DefaultNamespace, "hello")
		if err != nil {
			return err
		}
		if got.Latest().Version != 2 {
			return errors.New("stale version")
		}
		return nil
	})

	if err := r.Delete(ctx, registry.DefaultNamespace, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, registry.DefaultNamespace, "hello"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	testutil.Eventually(t, 5*time.Second, func() error {
		if _, err := other.Lookup(ctx, registry.DefaultNamespace, "hello"); !errors.Is(err, registry.ErrNotFound) {
			return errors.New("other registry still finds the deleted function")
		}
		return nil
	})
	if err := r.Delete(ctx, registry.DefaultNamespace, "hello"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestConcurrentDeploysKeepEveryVersion(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	regs := []*registry.Registry{e.open(t), e.open(t)}
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(r *registry.Registry) {
			defer wg.Done()
			_, _, err := r.Deploy(ctx, registry.DeployRequest{Name: "race", Module: hello()})
			errs <- err
		}(regs[i%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fn, err := regs[0].Get(ctx, registry.DefaultNamespace, "race")
	if err != nil {
		t.Fatal(err)
	}
	if len(fn.Versions) != n {
		t.Fatalf("%d versions after %d concurrent deploys", len(fn.Versions), n)
	}
	for i, v := range fn.Versions {
		if v.Version != i+1 {
			t.Fatalf("version %d numbered %d", i+1, v.Version)
		}
	}
}

func TestListByNamespace(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	for _, d := range []registry.DeployRequest{
		{Name: "b", Module: hello()}, {Name: "a", Module: hello()}, {Namespace: "team", Name: "c", Module: hello()},
	} {
		if _, _, err := r.Deploy(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	fns, err := r.List(ctx, registry.DefaultNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].Name != "a" || fns[1].Name != "b" {
		t.Fatalf("default namespace lists %v", fns)
	}
	fns, err = r.List(ctx, "empty")
	if err != nil || len(fns) != 0 {
		t.Fatalf("empty namespace: %v %v", fns, err)
	}
}

func TestValidationErrors(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	tests := []struct {
		name string
		req  registry.DeployRequest
		code string
	}{
		{"bad name", registry.DeployRequest{Name: "-x", Module: hello()}, registry.CodeInvalidName},
		{"bad namespace", registry.DeployRequest{Namespace: "A", Name: "x", Module: hello()}, registry.CodeInvalidName},
		{"not wasm", registry.DeployRequest{Name: "x", Module: []byte("hello")}, registry.CodeInvalidModule},
		{"memory", registry.DeployRequest{Name: "x", Module: hello(), Spec: registry.Spec{MemoryMB: -1}}, registry.CodeInvalidSpec},
		{"timeout", registry.DeployRequest{Name: "x", Module: hello(), Spec: registry.Spec{TimeoutMs: int(limits.MaxTimeout.Milliseconds()) + 1}}, registry.CodeInvalidSpec},
		{"env", registry.DeployRequest{Name: "x", Module: hello(), Spec: registry.Spec{Env: map[string]string{"A-B": "x"}}}, registry.CodeInvalidSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.Deploy(ctx, tt.req)
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Code != tt.code {
				t.Fatalf("got %v, want a %s validation error", err, tt.code)
			}
		})
	}
}

func TestDeployDetectsABI(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	for _, tt := range []struct {
		name string
		wasm []byte
		abi  string
	}{
		{"hello", functions.Examples()[1].Wasm, abi.Command},
		{"reverse", functions.Examples()[2].Wasm, abi.Reactor},
	} {
		_, v, err := r.Deploy(ctx, registry.DeployRequest{Name: tt.name, Module: tt.wasm})
		if err != nil {
			t.Fatal(err)
		}
		if v.ABI != tt.abi {
			t.Errorf("%s: ABI %q, want %q", tt.name, v.ABI, tt.abi)
		}
	}
}
