package autoscaler

import "context"

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
