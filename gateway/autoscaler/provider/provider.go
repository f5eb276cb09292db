// Package provider adds and removes Hearth runners.
//
// A Provider is the autoscaler's handle on runner capacity: it reports how
// many runners it runs and sets that number. Three kinds exist: Static, for
// a fixed set of runners run elsewhere; Process, which starts and stops local
// `hearth runner` processes (what `hearth dev --autoscale` uses); and
// Kubernetes, which sets the replicas of a runner Deployment through its
// scale subresource.
//
// Scaling down always drains: a runner that is told to stop gets SIGTERM,
// stops taking work and finishes what it is running before it exits.
package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Provider adds and removes runners. Scale-down drains runners first (the
// runner's own SIGTERM drain finishes in-flight work).
type Provider interface {
	// Name says which kind of provider this is: "static", "process" or
	// "kubernetes".
	Name() string
	// Runners reports how many runners the provider runs now.
	Runners(ctx context.Context) (int, error)
	// Scale makes the number of runners n (n >= 0). Scaling down stops
	// runners gracefully.
	Scale(ctx context.Context, n int) error
}

var (
	_ Provider = static(0)
	_ Provider = (*Process)(nil)
	_ Provider = (*Kubernetes)(nil)
)

// ErrNegative is returned by Scale when asked for fewer than zero runners.
var ErrNegative = errors.New("runner count must be zero or more")

// ErrFixed is returned by a Static provider's Scale when asked for a number
// of runners other than the one it was given.
var ErrFixed = errors.New("static provider cannot change the number of runners")

func checkCount(n int) error {
	if n < 0 {
		return fmt.Errorf("scale to %d: %w", n, ErrNegative)
	}
	return nil
}

// Static returns a provider for a fixed set of n runners run elsewhere (by
// hand, systemd, another orchestrator). Runners reports n; Scale succeeds
// only when asked for n and returns an error wrapping ErrFixed otherwise.
func Static(n int) Provider { return static(n) }

type static int

func (s static) Name() string { return "static" }

func (s static) Runners(context.Context) (int, error) { return int(s), nil }

func (s static) Scale(_ context.Context, n int) error {
	if err := checkCount(n); err != nil {
		return err
	}
	if n != int(s) {
		return fmt.Errorf("scale to %d: %w (it runs %d; change them where they are run, or use the process or kubernetes provider)", n, ErrFixed, int(s))
	}
	return nil
}

// Desired returns how many runners carry load in-flight invocations when
// each runner takes perRunner at once and should be kept at target
// utilisation: ceil(load / (perRunner × target)). A target outside (0, 1]
// counts as 1. It returns 0 when there is no load or no per-runner capacity;
// callers apply their own minimum.
//
// load and perRunner usually come from the scheduler's runner table: the sum
// of Runner.Load() and a typical Runner.Capacity().
func Desired(load, perRunner int, target float64) int {
	if load <= 0 || perRunner <= 0 {
		return 0
	}
	if !(target > 0 && target <= 1) {
		target = 1
	}
	return int(math.Ceil(float64(load) / (float64(perRunner) * target)))
}
