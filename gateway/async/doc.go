// Package async runs invocations that a caller does not wait for: intake
// (Queue.Enqueue stores an accepted invocation in the HEARTH_ASYNC
// JetStream stream, deduplicated by id; until a dispatcher starts it, its
// stream message is all there is of it, read by Queued and QueuedList),
// the dispatcher (a durable pull consumer shared by every gateway that
// runs each invocation through the gateway's Executor, retries failures
// with backoff and records every step), and the dead-letter queue
// (HEARTH_DLQ: DeadLetters lists it, Replay queues one again).
//
// A gateway opens the streams with Open, starts the dispatcher with
// StartDispatcher and stops it with Stop, which lets the runs in progress
// finish.
package async
