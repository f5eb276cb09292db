package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
)

// gcConfig makes modules collectable a moment after their last deploy.
var gcConfig = registry.Config{GCGrace: 300 * time.Millisecond, GCInterval: -1}

func moduleExists(t *testing.T, e env, wasm []byte) bool {
	t.Helper()
	ok, err := e.store.Exists(context.Background(), objstore.ModuleKey(registry.DigestOf(wasm)[len("sha256:"):]))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestIdenticalModulesStoredOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.open(t)
	echo := functions.Examples()[0].Wasm
	for _, d := range []registry.DeployRequest{
		{Name: "a", Module: hello()}, {Name: "a", Module: hello()}, {Name: "b", Module: hello()},
		{Namespace: "team", Name: "c", Module: hello()}, {Name: "d", Module: echo},
	} {
		if _, _, err := r.Deploy(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := e.store.List(ctx, "modules/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{objstore.ModuleKey(registry.DigestOf(hello())[7:]), objstore.ModuleKey(registry.DigestOf(echo)[7:])}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("module objects %v, want one per distinct module: %v", keys, want)
	}
}

// TestGCDeletesUnusedModules: a module stays while any version of any
// function uses it, and goes (with its shared compiled code) once none does.
func TestGCDeletesUnusedModules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.openWith(t, gcConfig)
	echo := functions.Examples()[0].Wasm
	reverse := functions.Examples()[2].Wasm
	for _, d := range []registry.DeployRequest{
		{Name: "a", Module: hello()}, {Namespace: "team", Name: "b", Module: hello()},
		{Name: "c", Module: echo}, {Name: "c", Module: reverse},
	} {
		if _, _, err := r.Deploy(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// Compiled code a runner shared for echo.
	echoHex := registry.DigestOf(echo)[7:]
	compiledKey := "compiled/wazero-v1/linux-amd64/" + echoHex + "/0"
	if err := e.store.Put(ctx, compiledKey, []byte("code"), ""); err != nil {
		t.Fatal(err)
	}

	collect := func(t *testing.T, gone []byte) {
		t.Helper()
		testutil.Eventually(t, 10*time.Second, func() error {
			if _, err := r.CollectGarbage(ctx); err != nil {
				return err
			}
			if moduleExists(t, e, gone) {
				return errors.New("module still stored")
			}
			return nil
		})
	}

	// Nothing is deleted while everything is used, however old.
	if rep, err := r.CollectGarbage(ctx); err != nil || len(rep.Deleted) != 0 || rep.Modules != 3 {
		t.Fatalf("gc with every module in use: %+v %v", rep, err)
	}

	// c used echo then reverse: both go with c; hello stays for b.
	if err := r.Delete(ctx, registry.DefaultNamespace, "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, registry.DefaultNamespace, "c"); err != nil {
		t.Fatal(err)
	}
	collect(t, echo)
	collect(t, reverse)
	if !moduleExists(t, e, hello()) {
		t.Fatal("hello's module was deleted while team/b still uses it")
	}
	if ok, _ := e.store.Exists(ctx, compiledKey); ok {
		t.Fatal("shared compiled code of a deleted module is still stored")
	}
	// b still runs.
	if _, v, err := r.Resolve(ctx, "team", "b"); err != nil || !moduleExists(t, e, hello()) || v.Digest != registry.DigestOf(hello()) {
		t.Fatalf("team/b after gc: %+v %v", v, err)
	}

	// Deleting the last user of hello lets it go too.
	if err := r.Delete(ctx, "team", "b"); err != nil {
		t.Fatal(err)
	}
	collect(t, hello())

	// A deploy of bytes that were collected stores them again.
	if _, _, err := r.Deploy(ctx, registry.DeployRequest{Name: "again", Module: echo}); err != nil {
		t.Fatal(err)
	}
	if !moduleExists(t, e, echo) {
		t.Fatal("redeployed module not stored")
	}
}

// TestGCKeepsRecentlyDeployedModules: within the grace period after its
// last deploy, an unused module stays (a deploy of the same bytes may be
// about to record its version).
func TestGCKeepsRecentlyDeployedModules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.openWith(t, registry.Config{GCGrace: time.Hour, GCInterval: -1})
	if _, _, err := r.Deploy(ctx, registry.DeployRequest{Name: "a", Module: hello()}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, registry.DefaultNamespace, "a"); err != nil {
		t.Fatal(err)
	}
	rep, err := r.CollectGarbage(ctx)
	if err != nil || len(rep.Deleted) != 0 || !moduleExists(t, e, hello()) {
		t.Fatalf("gc within the grace period: %+v %v", rep, err)
	}
}

// TestGCRacesDeploys runs collections while functions using the same
// bytes are deployed and deleted, from two registries; afterwards every
// version of every function has its module.
func TestGCRacesDeploys(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const grace = 100 * time.Millisecond
	cfg := registry.Config{GCGrace: grace, GCInterval: -1, Runtime: wazero.NewRuntimeConfigInterpreter()}
	regs := []*registry.Registry{e.openWith(t, cfg), e.openWith(t, cfg)}
	echo := hello()

	stop := make(chan struct{})
	var collected atomic.Int64
	var gcs sync.WaitGroup
	for _, r := range regs {
		gcs.Add(1)
		go func() {
			defer gcs.Done()
			pace := time.NewTicker(5 * time.Millisecond)
			defer pace.Stop()
			for {
				select {
				case <-stop:
					return
				case <-pace.C:
				}
				rep, err := r.CollectGarbage(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				collected.Add(int64(len(rep.Deleted)))
			}
		}()
	}
	var deploys sync.WaitGroup
	const workers, rounds = 2, 12
	for w := range workers {
		deploys.Add(1)
		go func() {
			defer deploys.Done()
			r := regs[w%2]
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			for i := range rounds {
				// Jitter, so that the module is sometimes unused for longer
				// than the grace period and collections run into deploys.
				<-time.After(time.Duration(rng.Int64N(int64(3 * grace))))
				name := fmt.Sprintf("f%d-%d", w, i)
				if _, _, err := r.Deploy(ctx, registry.DeployRequest{Name: name, Module: echo}); err != nil {
					t.Error(err)
					return
				}
				// The version now uses the module, so no collection may
				// delete it from here on; one that deleted it during the
				// deploy would show here.
				if !moduleExists(t, e, echo) {
					t.Errorf("%s version 1 recorded without its module", name)
					return
				}
				if i < rounds-1 {
					if err := r.Delete(ctx, registry.DefaultNamespace, name); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	deploys.Wait()
	close(stop)
	gcs.Wait()

	fns, err := regs[0].List(ctx, registry.DefaultNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != workers {
		t.Fatalf("%d functions left, want %d", len(fns), workers)
	}
	if !moduleExists(t, e, echo) {
		t.Fatal("a collection deleted a module that deployed versions use")
	}
	t.Logf("%d collections deleted the module during the run", collected.Load())
}
