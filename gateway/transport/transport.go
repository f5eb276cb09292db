package transport

import (
	"context"
	"errors"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// ErrRunnerLost ends a call whose runner died while running it.
var ErrRunnerLost = errors.New("runner lost")

// MalformedResponse is a runner's answer that could not be decoded.
type MalformedResponse struct{ Err error }

func (m *MalformedResponse) Error() string { return m.Err.Error() }

// StorageError is a claim check that failed: the body could not be
// stored, or a claim-checked output could not be read (Response is then
// the runner's answer).
type StorageError struct {
	Op  string // OpStoreBody or OpReadOutput
	Err error
}

// The operations of a StorageError.
const (
	OpStoreBody  = "store the request body"
	OpReadOutput = "read the function's output"
)

func (e *StorageError) Error() string { return "could not " + e.Op + ": " + e.Err.Error() }
func (e *StorageError) Unwrap() error { return e.Err }

// Runner is a runner in the gateway's own process: *runner.Runner is one.
type Runner interface {
	ID() string
	// Invoke runs one invocation; wire.ErrNotTaking when the runner is
	// not taking work.
	Invoke(ctx context.Context, req *wire.Request, body []byte) (*wire.Response, []byte, error)
}

// Local calls a runner of this process directly.
type Local struct{ R Runner }

// Call runs req on the local runner; target is ignored (it is this runner,
// or the call is not placed yet).
func (l Local) Call(ctx context.Context, req *wire.Request, body []byte, _ *scheduler.Runner) (*wire.Response, []byte, error) {
	return l.R.Invoke(ctx, req, body)
}
