//go:build !linux

package runner

import (
	"errors"
	"os"
)

// makePipe: elsewhere shared compiled code is written to the cache before
// wazero opens it (on macOS the poller cannot wait on named pipes).
func makePipe(string) (*os.File, error) { return nil, errors.ErrUnsupported }
