// Package loadgen is a small closed-loop load generator: a fixed number of
// workers each run an operation back to back for a duration, and every
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
