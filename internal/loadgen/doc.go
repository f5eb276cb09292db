// Package loadgen is a small load generator: a fixed number of workers
// each run an operation back to back for a duration (a closed loop), or
// start one every 1/Rate seconds (an open loop, latency counted from when
// each was due: corrected for coordinated omission), and every
// operation's latency goes into a histogram. It measures anything that can
// be written as a Go function — an HTTP request, an in-process call, a
// scheduler decision — so that every case of `hearth bench` is measured the
// same way.
//
// A caller writes the operation as an [Op] (it gets its [Worker]) and calls
// [Run] with a [Config] (workers, duration, warm-up); the [Result] holds
// the count, the latency [Histogram] and the CPU the process used
// ([ProcessCPU]).
//
// The workers run under the pprof label loadgen=worker, as do the
// goroutines they start (an HTTP client's connection goroutines), so a CPU
// profile can tell the load generator's share from the server's:
// `go tool pprof -tagignore loadgen=worker`.
package loadgen
