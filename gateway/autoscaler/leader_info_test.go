package autoscaler

import (
	"context"
	"errors"
	"testing"

	"github.com/hearthfn/hearth/registry"
)

// oneFunction is a registry of one function with a memory of its own.
type oneFunction struct {
	name     string
	memoryMB int
}

func (o oneFunction) Lookup(_ context.Context, _, name string) (*registry.Function, error) {
	if name != o.name {
		return nil, errors.New("no such function")
	}
	return &registry.Function{Name: name, Versions: []registry.Version{{Version: 1, Spec: registry.Spec{MemoryMB: o.memoryMB}}}}, nil
}

// TestLeaderGivesPoliciesTheFunctionsMemory: the live policy prices an idle
// minute by the function's memory, as the replay does with a trace's.
func TestLeaderGivesPoliciesTheFunctionsMemory(t *testing.T) {
	a := &Leader{deps: LeaderDeps{Functions: oneFunction{name: "big", memoryMB: 1536}}}
	if got := a.functionInfo(FunctionKey{"default", "big"}); got.MemoryMB != 1536 {
		t.Errorf("memory of big: %v, want 1536", got.MemoryMB)
	}
	if got := a.functionInfo(FunctionKey{"default", "gone"}); got.MemoryMB != DefaultMemoryMB {
		t.Errorf("memory of a function not found: %v, want %v", got.MemoryMB, DefaultMemoryMB)
	}
}
