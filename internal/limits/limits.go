package limits

import "time"

// Memory of one instance, in MB (spec memory_mb).
const (
	DefaultMemoryMB = 128
	MinMemoryMB     = 1
	MaxMemoryMB     = 4096
)

// Wall-clock time of one call (spec timeout_ms). The runner closes an
// instance whose call runs past it.
const (
	DefaultTimeout = 10 * time.Second
	MinTimeout     = time.Millisecond
	MaxTimeout     = 15 * time.Minute
)

// MaxConcurrency is the largest cap a spec may put on the calls of one
// function at once on one runner (spec concurrency; 0 is no cap).
const MaxConcurrency = 10_000

// Request bodies.
const (
	// DefaultPayloadBytes is the gateway's default limit of an invocation
	// body; over it the call gets 413.
	DefaultPayloadBytes = 32 << 20
	// MaxPayloadBytes is the largest max_payload a spec may ask for. The
	// gateway's own limit still applies when it is smaller.
	MaxPayloadBytes = 64 << 20
)

// What the runner keeps of one call's output.
const (
	// DefaultOutputBytes is the most a call may answer (a command's stdout,
	// a reactor's response); more fails the call with output_too_large.
	DefaultOutputBytes = 32 << 20
	// StderrTailBytes is how much of the end of a call's stderr (its log)
	// comes back with the call.
	StderrTailBytes = 16 << 10
)

// What a deploy may send.
const (
	// DefaultModuleBytes is the largest module a deploy accepts unless the
	// registry is configured otherwise.
	DefaultModuleBytes = 64 << 20
	// MaxSpecBytes is the largest spec document the gateway reads.
	MaxSpecBytes = 1 << 20
)

// Bounds of a spec's contents.
const (
	MaxDescriptionBytes = 1024
	MaxEnvVars          = 256
	MaxEnvBytes         = 64 << 10 // names and values together
	MaxSecrets          = 64
	MaxTriggers         = 32
	MaxTriggerOptions   = 16  // per trigger
	MaxTriggerOptBytes  = 256 // one option's value
	MaxLabels           = 64
)

// Bounds of aliases.
const (
	// MaxAliases is the most user aliases one function may have.
	MaxAliases = 100
	// MaxAliasTargets is the most versions one alias may split calls
	// between.
	MaxAliasTargets = 10
)
