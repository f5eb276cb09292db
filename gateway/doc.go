// Package gateway is Hearth's HTTP front door: the /v1 API (functions,
// versions, aliases, triggers, invocations, the DLQ, runners), the /fn
// passthrough, health and metrics. It holds no state of its own; several
// gateways can serve the same cluster.
//
// A role enters with New (the connections in Deps, the settings in
// Config), then Serve or Handler, and leaves with Shutdown. New opens the
// records and starts the background services, each a package with a stop
// of its own, stopped newest first so that producers stop before what
// they write to:
//
//   - records.Writer — the batched writer of sync calls' records
//   - heartbeat.Follower — the scheduler's runner table from heartbeats
//   - async.Queue — the async intake, dispatcher and dead-letter queue
//   - triggers.Manager — NATS subjects and cron schedules
//   - autoscaler.Leader — forecasts, prewarms and runner scaling
//
// The invocation core reads top-down in two files: invoke.go (the routes →
// prepare: resolve the function, read the body → call → the answer, or
// accept for an async call) and execute.go (Execute: place with the
// scheduler → one transport call, Local or NATS → the Outcome, with the
// errors mapped to the API's codes). The async dispatcher and the triggers
// run calls through the same Execute.
package gateway
