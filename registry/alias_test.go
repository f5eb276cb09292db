package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/registry"
)

func (e env) openWith(t *testing.T, cfg registry.Config) *registry.Registry {
	t.Helper()
	r, err := registry.Open(context.Background(), cfg, e.js, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// deployN deploys hello n times as name.
func deployN(t *testing.T, r *registry.Registry, name string, n int) {
	t.Helper()
	for range n {
		if _, _, err := r.Deploy(context.Background(), registry.DeployRequest{Name: name, Module: hello()}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseRef(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want registry.Ref
	}{
		{"hello", registry.Ref{Name: "hello", Alias: "latest"}},
		{"hello@3", registry.Ref{Name: "hello", Version: 3}},
		{"hello:prod", registry.Ref{Name: "hello", Alias: "prod"}},
		{"hello:latest", registry.Ref{Name: "hello", Alias: "latest"}},
		{"a-1@123456789", registry.Ref{Name: "a-1", Version: 123456789}},
	} {
		got, err := registry.ParseRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, mention string }{
		{"Hello", `function name "Hello" is not valid`},
		{"", `function name "" is not valid`},
		{"@3", `function name "" is not valid`},
		{"hello@", `"" is not a version number`},
		{"hello@0", `"0" is not a version number`},
		{"hello@03", `"03" is not a version number`},
		{"hello@-1", `"-1" is not a version number`},
		{"hello@x", `"x" is not a version number`},
		{"hello@1234567890", "is not a version number"},
		{"hello:", `the alias "" is not valid`},
		{"hello:Prod", `the alias "Prod" is not valid`},
		{"hello@3:prod", "names more than one version or alias"},
		{"hello:prod@3", "names more than one version or alias"},
		{"hello::prod", "names more than one version or alias"},
	} {
		_, err := registry.ParseRef(tt.in)
		var ve *registry.ValidationError
		if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidName || !strings.Contains(ve.Message, tt.mention) {
			t.Errorf("ParseRef(%q) = %v; want invalid_name mentioning %q", tt.in, err, tt.mention)
		}
	}
}

func TestAliasPick(t *testing.T) {
	a := registry.Alias{Weights: map[int]int{4: 10, 3: 90}}
	counts := map[int]int{}
	for roll := range 100 {
		counts[a.Pick(roll)]++
	}
	if counts[3] != 90 || counts[4] != 10 || a.Pick(0) != 3 || a.Pick(99) != 4 {
		t.Fatalf("90/10 split over every roll: %v", counts)
	}
	if got := (registry.Alias{Version: 7}).Pick(55); got != 7 {
		t.Fatalf("single-version alias picks %d", got)
	}
	if s := a.String(); s != "3=90 4=10" {
		t.Fatalf("String = %q", s)
	}
}

func TestAliasValidationMessages(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	deployN(t, r, "hello", 3)
	tests := []struct {
		name, alias string
		target      registry.AliasTarget
		mention     string
	}{
		{"latest is reserved", "latest", registry.AliasTarget{Version: 1}, `the alias "latest" is Hearth's own`},
		{"bad name", "Prod", registry.AliasTarget{Version: 1}, `alias name "Prod" is not valid`},
		{"digit first", "1st", registry.AliasTarget{Version: 1}, `alias name "1st" is not valid`},
		{"nothing", "prod", registry.AliasTarget{}, "give a version"},
		{"both", "prod", registry.AliasTarget{Version: 1, Weights: map[int]int{1: 50, 2: 50}}, "not both"},
		{"negative version", "prod", registry.AliasTarget{Version: -2}, "version -2 is not valid"},
		{"missing version", "prod", registry.AliasTarget{Version: 9}, "hello has no version 9; its versions are 1 to 3"},
		{"empty weights", "prod", registry.AliasTarget{Weights: map[int]int{}}, "weights is empty"},
		{"zero weight", "prod", registry.AliasTarget{Weights: map[int]int{1: 100, 2: 0}}, "the weight of version 2 is 0; weights are whole percentages from 1 to 100"},
		{"negative weight", "prod", registry.AliasTarget{Weights: map[int]int{1: 110, 2: -10}}, "the weight of version 1 is 110"},
		{"sum below", "prod", registry.AliasTarget{Weights: map[int]int{1: 50, 2: 40}}, "the weights add up to 90; they must add up to 100"},
		{"sum above", "prod", registry.AliasTarget{Weights: map[int]int{1: 60, 2: 50}}, "add up to 110"},
		{"weighted missing version", "prod", registry.AliasTarget{Weights: map[int]int{1: 90, 7: 10}}, "hello has no version 7"},
		{"weighted version zero", "prod", registry.AliasTarget{Weights: map[int]int{0: 90, 1: 10}}, "version 0 is not valid"},
		{"too many targets", "prod", registry.AliasTarget{Weights: map[int]int{1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10, 9: 10, 10: 5, 11: 5}}, "between 11 versions; the most is 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.SetAlias(ctx, registry.DefaultNamespace, "hello", tt.alias, tt.target)
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidAlias || !strings.Contains(ve.Message, tt.mention) {
				t.Fatalf("SetAlias = %v; want invalid_alias mentioning %q", err, tt.mention)
			}
		})
	}
	if _, _, err := r.SetAlias(ctx, registry.DefaultNamespace, "nope", "prod", registry.AliasTarget{Version: 1}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("alias of a missing function: %v", err)
	}
	if _, err := r.Get(ctx, registry.DefaultNamespace, "nope"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("SetAlias created a function: %v", err)
	}
	fn, _ := r.Get(ctx, registry.DefaultNamespace, "hello")
	if len(fn.Aliases) != 0 {
		t.Fatalf("refused aliases were stored: %+v", fn.Aliases)
	}
}

// TestAliasesAndRollback points aliases at versions, invokes through them
// (Resolve is what the gateway calls), rolls back, and removes one.
func TestAliasesAndRollback(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	deployN(t, r, "hello", 3)
	resolve := func(ref string) int {
		t.Helper()
		_, v, err := r.Resolve(ctx, registry.DefaultNamespace, ref)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", ref, err)
		}
		return v.Version
	}

	a, created, err := r.SetAlias(ctx, registry.DefaultNamespace, "hello", "prod", registry.AliasTarget{Version: 3})
	if err != nil || !created || a.Version != 3 || a.UpdatedAt.IsZero() {
		t.Fatalf("SetAlias: %+v %v %v", a, created, err)
	}
	if got := resolve("hello:prod"); got != 3 {
		t.Fatalf("prod resolves to %d", got)
	}
	// Roll back: move the alias.
	if _, created, err = r.SetAlias(ctx, registry.DefaultNamespace, "hello", "prod", registry.AliasTarget{Version: 2}); err != nil || created {
		t.Fatalf("move prod: %v created=%v", err, created)
	}
	if got := resolve("hello:prod"); got != 2 {
		t.Fatalf("after rollback prod resolves to %d", got)
	}
	// A deploy moves latest, not prod.
	deployN(t, r, "hello", 1)
	if got, prod, byName := resolve("hello:latest"), resolve("hello:prod"), resolve("hello"); got != 4 || prod != 2 || byName != 4 {
		t.Fatalf("after a deploy: latest %d, prod %d, bare name %d", got, prod, byName)
	}
	if got := resolve("hello@1"); got != 1 {
		t.Fatalf("hello@1 resolves to %d", got)
	}
	// A weight of 100 is just that version.
	a, _, err = r.SetAlias(ctx, registry.DefaultNamespace, "hello", "canary", registry.AliasTarget{Weights: map[int]int{4: 100}})
	if err != nil || a.Version != 4 || a.Weights != nil {
		t.Fatalf("canary 4=100: %+v %v", a, err)
	}

	fn, _ := r.Get(ctx, registry.DefaultNamespace, "hello")
	if len(fn.Aliases) != 2 || fn.Aliases[0].Name != "canary" || fn.Aliases[1].Name != "prod" {
		t.Fatalf("aliases %+v, want canary and prod in name order", fn.Aliases)
	}

	for _, tt := range []struct {
		ref  string
		want error
	}{
		{"hello@9", registry.ErrVersionNotFound},
		{"hello:staging", registry.ErrAliasNotFound},
		{"nope", registry.ErrNotFound},
		{"nope:prod", registry.ErrNotFound},
	} {
		_, _, err := r.Resolve(ctx, registry.DefaultNamespace, tt.ref)
		if !errors.Is(err, tt.want) {
			t.Errorf("Resolve(%s) = %v, want %v", tt.ref, err, tt.want)
		}
	}
	_, _, err = r.Resolve(ctx, registry.DefaultNamespace, "hello:staging")
	if msg := err.Error(); msg != `hello has no alias "staging"; its aliases are latest, canary, prod` {
		t.Errorf("unknown alias message %q", msg)
	}
	_, _, err = r.Resolve(ctx, registry.DefaultNamespace, "hello@9")
	if msg := err.Error(); msg != "hello has no version 9; its versions are 1 to 4" {
		t.Errorf("unknown version message %q", msg)
	}

	if err := r.DeleteAlias(ctx, registry.DefaultNamespace, "hello", "prod"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Resolve(ctx, registry.DefaultNamespace, "hello:prod"); !errors.Is(err, registry.ErrAliasNotFound) {
		t.Fatalf("removed alias still resolves: %v", err)
	}
	if err := r.DeleteAlias(ctx, registry.DefaultNamespace, "hello", "prod"); !errors.Is(err, registry.ErrAliasNotFound) {
		t.Fatalf("second DeleteAlias: %v", err)
	}
	var ve *registry.ValidationError
	if err := r.DeleteAlias(ctx, registry.DefaultNamespace, "hello", "latest"); !errors.As(err, &ve) {
		t.Fatalf("DeleteAlias(latest): %v", err)
	}
	if err := r.DeleteAlias(ctx, registry.DefaultNamespace, "nope", "prod"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("DeleteAlias of a missing function: %v", err)
	}
}

// TestWeightedAliasSplit resolves a 90/10 alias many times through the
// real path (random per call) and checks the share of the 10% version is
// within statistical bounds: for n=2000, p=0.1 the standard deviation of
// the share is 0.67%, so 6–14% is six deviations either side.
func TestWeightedAliasSplit(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	deployN(t, r, "hello", 4)
	if _, _, err := r.SetAlias(ctx, registry.DefaultNamespace, "hello", "prod", registry.AliasTarget{Weights: map[int]int{3: 90, 4: 10}}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	counts := map[int]int{}
	for range n {
		_, v, err := r.Resolve(ctx, registry.DefaultNamespace, "hello:prod")
		if err != nil {
			t.Fatal(err)
		}
		counts[v.Version]++
	}
	share := float64(counts[4]) / n
	if counts[3]+counts[4] != n || share < 0.06 || share > 0.14 {
		t.Fatalf("90/10 split over %d calls: %v (%.1f%% to version 4)", n, counts, 100*share)
	}
}

// TestConcurrentAliasSets changes aliases and deploys at once through two
// registries (two gateways); no alias and no version is lost.
func TestConcurrentAliasSets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	regs := []*registry.Registry{e.open(t), e.open(t)}
	deployN(t, regs[0], "hello", 2)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, err := regs[i%2].SetAlias(ctx, registry.DefaultNamespace, "hello", fmt.Sprintf("a%d", i), registry.AliasTarget{Version: 1 + i%2})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, _, err := regs[(i+1)%2].Deploy(ctx, registry.DeployRequest{Name: "hello", Module: hello()})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fn, err := regs[0].Get(ctx, registry.DefaultNamespace, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(fn.Versions) != 2+n || len(fn.Aliases) != n {
		t.Fatalf("%d versions and %d aliases after %d concurrent deploys and alias sets; want %d and %d", len(fn.Versions), len(fn.Aliases), n, 2+n, n)
	}
	for i := range n {
		a, ok := fn.Alias(fmt.Sprintf("a%d", i))
		if !ok || a.Version != 1+i%2 {
			t.Fatalf("alias a%d = %+v, %v", i, a, ok)
		}
	}

	// Concurrent moves of one alias: the last write wins, and it is one
	// of the values written.
	wg = sync.WaitGroup{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := regs[i%2].SetAlias(ctx, registry.DefaultNamespace, "hello", "prod", registry.AliasTarget{Version: 1 + i}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	fn, _ = regs[0].Get(ctx, registry.DefaultNamespace, "hello")
	if a, ok := fn.Alias("prod"); !ok || a.Version < 1 || a.Version > n {
		t.Fatalf("prod after concurrent moves: %+v %v", a, ok)
	}
	// The other registry's cache catches up through its watcher.
	testutil.Eventually(t, 5*time.Second, func() error {
		_, v, err := regs[1].Resolve(ctx, registry.DefaultNamespace, "hello:prod")
		if err != nil {
			return err
		}
		want, _ := fn.Alias("prod")
		if v.Version != want.Version {
			return fmt.Errorf("second registry resolves prod to %d, want %d", v.Version, want.Version)
		}
		return nil
	})
}

// TestResolveSeesFreshDeploys resolves a version and an alias that the
// resolving registry's cache has not seen yet.
func TestResolveSeesFreshDeploys(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	writer, reader := e.open(t), e.open(t)
	deployN(t, writer, "hello", 1)
	if _, _, err := reader.Resolve(ctx, registry.DefaultNamespace, "hello"); err != nil {
		t.Fatal(err)
	}
	deployN(t, writer, "hello", 1)
	if _, _, err := writer.SetAlias(ctx, registry.DefaultNamespace, "hello", "prod", registry.AliasTarget{Version: 2}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"hello@2", "hello:prod"} {
		if _, v, err := reader.Resolve(ctx, registry.DefaultNamespace, ref); err != nil || v.Version != 2 {
			t.Fatalf("Resolve(%s) right after the write: %d %v", ref, v.Version, err)
		}
	}
}

func TestDifferentModulesPerVersion(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	echo := functions.Examples()[0].Wasm
	for _, m := range [][]byte{hello(), echo} {
		if _, _, err := r.Deploy(ctx, registry.DeployRequest{Name: "fn", Module: m}); err != nil {
			t.Fatal(err)
		}
	}
	_, v1, _ := r.Resolve(ctx, registry.DefaultNamespace, "fn@1")
	_, v2, _ := r.Resolve(ctx, registry.DefaultNamespace, "fn@2")
	if v1.Digest != registry.DigestOf(hello()) || v2.Digest != registry.DigestOf(echo) {
		t.Fatalf("versions point at %s and %s", v1.Digest, v2.Digest)
	}
}
