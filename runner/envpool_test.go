package runner

import (
	"context"
	"maps"
	"strconv"
	"testing"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/wire"
)

// BenchmarkWarmCallEnv is BenchmarkWarmCall's reactor with an env the size
// of a function's spec env and a few secrets, rebuilt for each call as the
// gateway does (equal content, another map): what comparing it with the
// pool's env costs on the hot path.
func BenchmarkWarmCallEnv(b *testing.B) {
	store := newStore(b)
	e := newTestEngine(b, store)
	f := fn{name: "reverse", digest: upload(b, store, example("reverse")), abi: abi.Reactor}
	env := make(map[string]string)
	for i := range 8 {
		env["VAR_"+strconv.Itoa(i)] = "value-of-a-secret-" + strconv.Itoa(i)
	}
	reqs := [2]*wire.Request{f.request("POST"), f.request("POST")}
	reqs[0].Env, reqs[1].Env = maps.Clone(env), maps.Clone(env)
	if res := e.Run(context.Background(), reqs[0], benchBody, limits.DefaultOutputBytes); res.Err != nil {
		b.Fatal(res.Err)
	}
	waitCompiled(b, e, f)
	e.Run(context.Background(), reqs[1], benchBody, limits.DefaultOutputBytes) // the first compiled instance
	i := 0
	for b.Loop() {
		i++
		if res := e.Run(context.Background(), reqs[i%2], benchBody, limits.DefaultOutputBytes); res.Err != nil || res.Cold {
			b.Fatalf("warm call: cold=%v err=%v", res.Cold, res.Err)
		}
	}
}

// envOf runs one call of f with env and returns the env the function saw.
func envOf(t *testing.T, e *Engine, f fn, env map[string]string) (map[string]string, Result) {
	t.Helper()
	req := f.request("POST")
	req.Env = env
	res := e.Run(context.Background(), req, nil, limits.DefaultOutputBytes)
	if res.Err != nil {
		t.Fatalf("call with env %v: %v (stderr %q)", env, res.Err, res.Stderr)
	}
	seen, err := testmodules.DecodeEnv(res.Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	return seen, res
}

// envReactor loads EnvReactor and waits for its compiled tier, so that
// every instance from here on is a compiled one that stays in the pool.
func envReactor(t *testing.T) (*Engine, fn) {
	t.Helper()
	store := newStore(t)
	e := newTestEngine(t, store)
	e.SetTieredStart(false)
	return e, fn{name: "env", digest: upload(t, store, testmodules.EnvReactor), abi: abi.Reactor}
}

func wantIdle(t *testing.T, e *Engine, idle, busy int) {
	t.Helper()
	if warm, _ := e.Warm(); len(warm) != 1 || warm[0].Idle != idle || warm[0].Busy != busy {
		t.Fatalf("warm set %+v, want %d idle and %d busy", warm, idle, busy)
	}
}

// A reactor instance's env is fixed when it starts: a call with another
// env (a rotated secret) gets a new instance, never a warm one with the old.
func TestReactorEnvChangeStartsNewInstances(t *testing.T) {
	e, f := envReactor(t)
	for i, step := range []struct {
		env  map[string]string
		cold bool
	}{
		{map[string]string{"A": "1"}, true},
		{map[string]string{"A": "1"}, false}, // the same env (another map): warm
		{map[string]string{"A": "2"}, true},  // rotated
		{map[string]string{"A": "2"}, false},
		{map[string]string{"A": "2", "B": "x"}, true}, // one more
		{map[string]string{"B": "x"}, true},           // one less
		{map[string]string{"A": "x"}, true},           // as many, another name
		{nil, true},
		{map[string]string{}, false}, // no env either way
		{map[string]string{"A": "1"}, true},
	} {
		seen, res := envOf(t, e, f, maps.Clone(step.env))
		if len(seen) != len(step.env) || (len(step.env) > 0 && !maps.Equal(seen, step.env)) {
			t.Fatalf("call %d with env %v: the function saw %v", i, step.env, seen)
		}
		if res.Cold != step.cold {
			t.Fatalf("call %d with env %v: cold=%v, want %v", i, step.env, res.Cold, step.cold)
		}
		wantIdle(t, e, 1, 0) // the instances of an old env are closed
	}
}

// An instance busy when the env changes is closed when its call ends, not
// put back for a later call to find.
func TestReactorEnvChangeDiscardsBusyInstances(t *testing.T) {
	e, f := envReactor(t)
	old := map[string]string{"A": "1"}
	envOf(t, e, f, old)
	envOf(t, e, f, old)
	wantIdle(t, e, 1, 0)

	// Hold the old env's instance as a call running now would.
	req := f.request("POST")
	req.Env = old
	p := e.pool(&call{req: req})
	busy, _ := p.take(true, old)
	if busy == nil {
		t.Fatal("no idle instance to take")
	}
	wantIdle(t, e, 0, 1)

	seen, res := envOf(t, e, f, map[string]string{"A": "2"})
	if seen["A"] != "2" || !res.Cold {
		t.Fatalf("call with A=2 saw %v, cold=%v; want A=2 on a new instance", seen, res.Cold)
	}
	wantIdle(t, e, 1, 1)
	p.put(busy) // the old call ends
	if !busy.mod.IsClosed() {
		t.Fatal("the instance with the old env went back to the pool")
	}
	wantIdle(t, e, 1, 0)
	if seen, res := envOf(t, e, f, map[string]string{"A": "2"}); seen["A"] != "2" || res.Cold {
		t.Fatalf("next call saw %v, cold=%v; want A=2 on the warm instance", seen, res.Cold)
	}
}

// Prewarm requests carry the spec's env, not the secrets a call gets:
// prewarmed instances take the env of the version's calls, and before the
// first call, a prewarmed instance whose env turns out wrong is not used.
func TestPrewarmUsesTheCallsEnv(t *testing.T) {
	e, f := envReactor(t)
	spec := map[string]string{"MODE": "prod"}
	withSecret := map[string]string{"MODE": "prod", "DB_PASSWORD": "s3cret"}
	prewarm := func(n int) {
		t.Helper()
		req := f.request("POST")
		req.Env = maps.Clone(spec)
		if _, err := e.Prewarm(context.Background(), req, n); err != nil {
			t.Fatal(err)
		}
	}

	prewarm(1) // before any call: the prewarm's env
	wantIdle(t, e, 1, 0)
	if seen, res := envOf(t, e, f, maps.Clone(withSecret)); !maps.Equal(seen, withSecret) || !res.Cold {
		t.Fatalf("first call saw %v, cold=%v; want its own env on a new instance", seen, res.Cold)
	}
	wantIdle(t, e, 1, 0)

	prewarm(3) // now with the calls' env
	wantIdle(t, e, 3, 0)
	for i := range 3 {
		if seen, res := envOf(t, e, f, maps.Clone(withSecret)); !maps.Equal(seen, withSecret) || res.Cold {
			t.Fatalf("call %d after prewarm saw %v, cold=%v; want the secret on a warm instance", i, seen, res.Cold)
		}
	}
}

// A command instantiates per call, with the env of that call.
func TestCommandSeesEachCallsEnv(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	f := fn{name: "printenv", digest: upload(t, store, testmodules.PrintEnv), abi: abi.Command}
	for _, v := range []string{"1", "2", "2", "3"} {
		seen, _ := envOf(t, e, f, map[string]string{"A": v})
		if seen["A"] != v || seen["HEARTH_FUNCTION"] != "printenv" {
			t.Fatalf("call with A=%s: the command saw %v", v, seen)
		}
	}
}
