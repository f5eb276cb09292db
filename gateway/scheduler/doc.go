// Package scheduler places invocations on runners.
//
// It keeps a [Table] of runners from their heartbeats and, for each call,
// runs a placement chain in the manner of Nomad's scheduler:
//
//  1. Filter: the feasible runners — ready (alive and not draining), below
//     their capacity, and not among those that already failed this call.
//  2. Candidates: a [Candidates] view of the feasible runners and of what
//     the table knows about them for the call, such as the least loaded
//     runner with an idle warm instance of its module.
//  3. Select: a [Strategy] scores the candidates and selects one,
//     returning a [Decision] that carries the winner, the runner-up and
//     the scores that made the choice, so that "why did it go there?" has
//     an answer (the Hearth-Placement header and the invocation record).
//
// The chain is entered through [Scheduler.Place], which decides without
// waiting, or [Scheduler.Acquire], which also counts the call on the chosen
// runner and, when every runner is at capacity, waits in bounded, fair
// per-namespace queues (admission control) before giving up with
// [ErrOverloaded].
package scheduler
