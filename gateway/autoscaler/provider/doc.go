// Package provider adds and removes Hearth runners on a single host. Its
// types are autoscaler.Scalers, the autoscaler's handle on runner capacity:
// each reports how many runners it runs and sets that number.
//
// Two kinds exist: Static, for a fixed set of runners run elsewhere, and
// Process, which starts and stops local `hearth runner` processes (what
// `hearth dev --autoscale` uses). The Kubernetes scaler, which sets the
// replicas of a runner Deployment, is in internal/kubeprovider, so that
// only the programs that use it link Kubernetes' client.
//
// Scaling down always drains: a runner that is told to stop gets SIGTERM,
// stops taking work and finishes what it is running before it exits.
package provider
