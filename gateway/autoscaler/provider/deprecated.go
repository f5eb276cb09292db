package provider

import "github.com/hearthfn/hearth/gateway/autoscaler"

// Provider is the autoscaler's Scaler.
//
// Deprecated: use autoscaler.Scaler. This alias keeps gateway and
// cmd/hearth compiling until they switch, and goes then.
type Provider = autoscaler.Scaler

// Desired is autoscaler.DesiredRunners.
//
// Deprecated: use autoscaler.DesiredRunners. It goes when gateway switches.
func Desired(load, perRunner int, target float64) int {
	return autoscaler.DesiredRunners(load, perRunner, target)
}
