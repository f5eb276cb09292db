// Package procutil has what the code that starts hearth, NATS and MinIO
// processes on this machine (internal/bench's cluster case, internal/chaos)
// needs around them: a free loopback port to give one, an environment
// without Hearth's own variables, and the end of a process's log for an
// error message. Each function stands alone.
package procutil
