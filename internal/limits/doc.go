// Package limits declares what a function gets and what it may ask for:
// the defaults that apply when its spec says nothing (memory, timeout),
// the bounds a spec is validated against (memory, timeout, concurrency,
// max_payload, env, secrets, triggers, labels, aliases), the size of what
// a deploy may send, and what the runner caps per call (output, the stderr
// tail). docs/limits.md is the user's view of the same numbers.
//
// The registry validates specs against these constants and fills in their
// defaults, the runner enforces them on every call, and
// [DefaultPayloadBytes] is the gateway's default body limit. A role's own
// settings that are not a limit of a function (the registry's collector
// intervals, the runner's idle TTL and capacity) keep their defaults in
// that role's Config.
//
// It declares constants only and imports nothing but time, so every
// package can use it.
package limits
