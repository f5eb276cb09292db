package autoscaler

import (
	"context"
	"math"
)

// Scaler adds and removes runners for the autoscaler: it reports how many
// runners there are and sets that number. Scale-down drains runners first
// (the runner's own SIGTERM drain finishes in-flight work).
//
// Package gateway/autoscaler/provider has the Static and Process scalers;
// internal/kubeprovider has the Kubernetes one.
type Scaler interface {
	// Name says which kind of scaler this is, such as "static", "process"
	// or "kubernetes".
	Name() string
	// Runners reports how many runners there are now.
	Runners(ctx context.Context) (int, error)
	// Scale makes the number of runners n (n >= 0). Scaling down stops
	// runners gracefully.
	Scale(ctx context.Context, n int) error
}

// DesiredRunners returns how many runners carry load in-flight invocations
// when each runner takes perRunner at once and should be kept at target
// utilisation: ceil(load / (perRunner × target)). A target outside (0, 1]
// counts as 1. It returns 0 when there is no load or no per-runner capacity;
// callers apply their own minimum.
//
// load and perRunner usually come from the scheduler's runner table: the sum
// of Runner.Load() and a typical Runner.Capacity().
func DesiredRunners(load, perRunner int, target float64) int {
	if load <= 0 || perRunner <= 0 {
		return 0
	}
	if !(target > 0 && target <= 1) {
		target = 1
	}
	return int(math.Ceil(float64(load) / (float64(perRunner) * target)))
}
