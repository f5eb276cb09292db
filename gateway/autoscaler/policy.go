package autoscaler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FunctionInfo is what a policy knows about a function before it has seen
// any of its traffic.
type FunctionInfo struct {
	// MemoryMB is the memory a warm instance holds, the price of keeping
	// it warm for a minute without work.
	MemoryMB float64
	// Trigger is the function's trigger (http, timer, queue, …), or empty
	// when it is not known.
	Trigger string
}

// Policy decides when functions keep a warm instance. A Policy is an
// immutable configuration: New may be called concurrently, once per
// function.
type Policy interface {
	// Name is the policy's name as ParsePolicies accepts it and as tables
	// report it.
	Name() string
	// New returns the decision state of one function.
	New(fn FunctionInfo) FunctionPolicy
}

// FunctionPolicy decides, for one function, whether an instance should be
// warm in the coming minute. It is driven minute by minute, with t = 1, 2,
// …: Warm(t) first, then Observe(t, count) once minute t is over. It
// therefore knows the counts of the minutes before t only; looking ahead
// is impossible by construction. A minute that is never observed counts as
// a minute without invocations. A FunctionPolicy is not safe for concurrent
// use.
type FunctionPolicy interface {
	// Warm reports whether the function should be warm during minute t,
	// knowing the counts of the minutes before t only. The live
	// autoscaler pre-warms an instance when it turns true and retires it
	// when it turns false. Warm does not change the state: the live
	// autoscaler also asks it about the minutes after the coming one, to
	// size runners ahead (Controller.Ahead).
	Warm(t int) bool
	// Observe records the invocations of minute t; it is called after
	// Warm(t) and before Warm(t+1).
	Observe(t int, count int)
}

// ErrUnknownPolicy is wrapped by ParsePolicies' error for a name it does
// not know.
var ErrUnknownPolicy = errors.New("unknown policy")

// ParsePolicies parses a comma-separated list of policy names, such as
// "fixed-10,fixed-60,hybrid,predictive", keeping its order. It accepts
// fixed-N for any whole number N ≥ 1, hybrid and predictive; a name may
// appear once.
func ParsePolicies(list string) ([]Policy, error) {
	var ps []Policy
	seen := map[string]bool{}
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(raw)
		p, err := parsePolicy(name)
		if err != nil {
			return nil, err
		}
		if seen[p.Name()] {
			return nil, fmt.Errorf("policy %s is listed twice", p.Name())
		}
		seen[p.Name()] = true
		ps = append(ps, p)
	}
	return ps, nil
}

func parsePolicy(name string) (Policy, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("%w: empty name in the policy list (want e.g. fixed-10,fixed-60,hybrid,predictive)", ErrUnknownPolicy)
	case name == "hybrid":
		return Hybrid(), nil
	case name == "predictive":
		return Predictive(), nil
	case strings.HasPrefix(name, "fixed-"):
		digits := strings.TrimPrefix(name, "fixed-")
		k, err := strconv.Atoi(digits)
		if err != nil || k < 1 || strings.TrimLeft(digits, "0123456789") != "" {
			return nil, fmt.Errorf("%w %q: fixed-N needs a whole number of minutes N ≥ 1, such as fixed-10", ErrUnknownPolicy, name)
		}
		return FixedK(k), nil
	}
	return nil, fmt.Errorf("%w %q: want fixed-N (N ≥ 1 minutes), hybrid or predictive", ErrUnknownPolicy, name)
}
