// Package transport carries one placed call to a runner and brings its
// answer back. The gateway's invocation core sees one RunnerClient-shaped
// method, Call, with two implementations:
//
//   - Local hands the call to a runner in the same process (`hearth dev`,
//     `hearth gateway --with-runner`), with no encoding and no NATS hop
//     (decision 0006);
//   - NATS sends it as a request to the runner's subject (or to any runner
//     when the call is not placed yet) and decodes the answer; bodies and
//     outputs above the NATS message limit travel through the object store
//     (the claim check, claimcheck.go), and a call on a runner declared
//     dead meanwhile ends at once with ErrRunnerLost.
//
// Both return a runner's own refusal as wire.ErrNotTaking, so the caller
// can offer the call to another runner.
package transport
