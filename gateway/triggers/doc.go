// Package triggers runs the event sources that invoke functions: NATS
// subjects (a queue group, at-most-once, with request-reply; or a
// JetStream consumer, at-least-once) and cron schedules, which fire once
// per fire time however many gateways run them.
//
// The gateway owns one Manager. NewManager makes it from a NATS connection,
// the Invoker that runs functions (the gateway), and a Source that lists the
// bindings that should run; Start runs it, and every tick it starts the new
// bindings, stops the removed ones and queues the cron invocations that are
// due. Stop(ctx) stops the loop and every trigger, then waits until no call
// into the Invoker is in progress; once it returns the Invoker is never
// called again, so the owner may tear down what the Invoker uses. Calls still
// running when ctx ends have their context canceled, and Stop waits for
// them to return. JetStream messages that arrive while the manager stops are
// nak'ed so that another gateway runs them.
//
// Schedules are read by internal/cron, the parser the registry validates
// them with at deploy.
package triggers
