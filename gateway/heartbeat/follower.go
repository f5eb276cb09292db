package heartbeat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// Follower follows runner heartbeats into a scheduler's table.
type Follower struct {
	nc       *nats.Conn
	sched    *scheduler.Scheduler
	interval time.Duration // the runners' heartbeat period
	log      *slog.Logger

	sub  *nats.Subscription
	stop context.CancelFunc
	done chan struct{}
}

// New makes a follower for sched's table; interval is the runners'
// heartbeat period (the sweep runs as often).
func New(nc *nats.Conn, sched *scheduler.Scheduler, interval time.Duration, log *slog.Logger) *Follower {
	return &Follower{nc: nc, sched: sched, interval: interval, log: log}
}

// Start subscribes to the heartbeats and starts the sweep.
func (f *Follower) Start() error {
	table := f.sched.Table()
	sub, err := f.nc.Subscribe(wire.HeartbeatWildcard, func(m *nats.Msg) {
		var hb wire.Heartbeat
		if err := json.Unmarshal(m.Data, &hb); err != nil {
			f.log.Warn("bad heartbeat", "subject", m.Subject, "error", err)
			return
		}
		table.Observe(hb, time.Now())
		f.sched.Wake() // the runner may have room now
	})
	if err != nil {
		return fmt.Errorf("gateway: follow heartbeats: %w", err)
	}
	f.sub = sub
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan struct{})
	go f.sweep(ctx)
	return nil
}

func (f *Follower) sweep(ctx context.Context) {
	defer close(f.done)
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, id := range f.sched.Table().Sweep(now) {
				f.log.Warn("runner missed its heartbeats; no more work goes to it", "runner", id)
			}
		}
	}
}

// Stop unsubscribes and stops the sweep.
func (f *Follower) Stop(ctx context.Context) error {
	if f.sub == nil {
		return nil
	}
	_ = f.sub.Unsubscribe()
	f.stop()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
