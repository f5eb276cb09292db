package wire

import "time"

// Heartbeat subjects: a runner publishes its heartbeats on HeartbeatPrefix
// followed by its id (hearth.heartbeat.<runner id>); HeartbeatWildcard
// matches the heartbeats of all runners.
const (
	HeartbeatPrefix   = "hearth.heartbeat."
	HeartbeatWildcard = "hearth.heartbeat.*"
	// HeartbeatInterval is how often runners publish.
	HeartbeatInterval = time.Second
)

// Runner states.
const (
	StateReady    = "ready"
	StateDraining = "draining" // finishing in-flight work, taking none
	StateStopped  = "stopped"  // the last heartbeat of a runner
)

// Heartbeat is a runner's periodic report: what it can take and what it
// has warm. The scheduler and the autoscaler consume it.
type Heartbeat struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Capacity int    `json:"capacity"`  // invocations at once
	InFlight int    `json:"in_flight"` // invocations running now
	// InFlightBy splits InFlight by the gateway that sent the calls
	// (Request.Gateway; "" for calls without one), counted at the same
	// instant, so that a gateway can tell its own calls from the others'.
	InFlightBy  map[string]int `json:"in_flight_by,omitempty"`
	MemoryBytes uint64         `json:"memory_bytes"` // linear memory of live instances
	Warm        []WarmModule   `json:"warm,omitempty"`
	// Started is when the runner began to take work; a gateway tells a
	// runner that just joined (warmed before it takes calls) from one that
	// was running when the gateway started. Zero from older runners.
	Started time.Time `json:"started,omitzero"`
	Time    time.Time `json:"time"`
}

// WarmModule is a module a runner has compiled, with its instance counts.
type WarmModule struct {
	Digest   string `json:"digest"`
	MemoryMB int    `json:"memory_mb"`
	Idle     int    `json:"idle"` // pooled instances ready for a call (reactor)
	Busy     int    `json:"busy"`
}
