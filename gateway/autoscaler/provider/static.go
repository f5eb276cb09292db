package provider

import (
	"context"
	"errors"
	"fmt"
)

// ErrNegative is returned by Scale when asked for fewer than zero runners.
var ErrNegative = errors.New("runner count must be zero or more")

// ErrFixed is returned by a Static provider's Scale when asked for a number
// of runners other than the one it was given.
var ErrFixed = errors.New("static provider cannot change the number of runners")

func checkCount(n int) error {
	if n < 0 {
		return fmt.Errorf("scale to %d: %w", n, ErrNegative)
	}
	return nil
}

// Static is a provider for a fixed set of runners run elsewhere (by hand,
// systemd, another orchestrator); Static(n) has n of them. Runners reports
// n; Scale succeeds only when asked for n and returns an error wrapping
// ErrFixed otherwise.
type Static int

// Name returns "static".
func (s Static) Name() string { return "static" }

// Runners returns n.
func (s Static) Runners(context.Context) (int, error) { return int(s), nil }

// Scale returns nil for n and an error wrapping ErrFixed (or ErrNegative)
// for any other count.
func (s Static) Scale(_ context.Context, n int) error {
	if err := checkCount(n); err != nil {
		return err
	}
	if n != int(s) {
		return fmt.Errorf("scale to %d: %w (it runs %d; change them where they are run, or use the process or kubernetes provider)", n, ErrFixed, int(s))
	}
	return nil
}
