package stacktest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/runner"
)

// RunnerScaler is an autoscaler.Scaler of real runners in this process,
// each a runner role on its own NATS connection as `hearth runner` would
// be, taking 2 calls at once with heartbeats every Beat. It records when it
// was asked for how many. Register t.Cleanup(Scale(ctx, 0)) after the
// stack it serves, so that its runners stop first.
type RunnerScaler struct {
	T    testing.TB
	Conn stack.Conn // where the runners connect: set before the first Scale

	mu      sync.Mutex
	runners []*stack.Stack
	asked   []ScaleEvent
}

// ScaleEvent is one Scale call: when, and for how many runners.
type ScaleEvent struct {
	At time.Time
	N  int
}

func (*RunnerScaler) Name() string { return "test-roles" }

func (s *RunnerScaler) Runners(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.runners), nil
}

func (s *RunnerScaler) Scale(ctx context.Context, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, ScaleEvent{At: time.Now(), N: n})
	for len(s.runners) < n {
		rn := stack.New(QuietLogger())
		cfg := runner.Config{Concurrency: 2, HeartbeatInterval: Beat, CacheDir: s.T.TempDir()}
		if err := rn.StartRunnerRole(ctx, s.Conn, cfg); err != nil {
			return err
		}
		s.runners = append(s.runners, rn)
	}
	for len(s.runners) > n {
		last := s.runners[len(s.runners)-1]
		s.runners = s.runners[:len(s.runners)-1]
		if err := last.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Asked is every Scale call so far, in order.
func (s *RunnerScaler) Asked() []ScaleEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ScaleEvent(nil), s.asked...)
}
