package autoscaler

import "fmt"

// FixedK is the fixed keep-alive policy of OpenWhisk and Lambda, named
// fixed-K: a function is warm in minute t when one of the minutes
// t-K … t-1 had invocations. K < 1 is never warm.
func FixedK(k int) Policy { return fixed{k: k} }

type fixed struct{ k int }

func (p fixed) Name() string { return fmt.Sprintf("fixed-%d", p.k) }

func (p fixed) New(FunctionInfo) FunctionPolicy { return &keepAlive{window: p.k} }

// keepAlive is warm for window minutes after the last invoked minute.
type keepAlive struct {
	window int
	last   int // last invoked minute; 0 before the first
}

func (s *keepAlive) Warm(t int) bool {
	return s.last > 0 && t > s.last && t-s.last <= s.window
}

func (s *keepAlive) Observe(t, count int) {
	if count > 0 {
		s.last = t
	}
}
