package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/wire"
)

// followHeartbeats keeps the scheduler's runner table from the runners'
// heartbeats, and sweeps out runners that stop beating.
func (g *Gateway) followHeartbeats() error {
	table := g.sched.Table()
	sub, err := g.nc.Subscribe(wire.HeartbeatWildcard, func(m *nats.Msg) {
		var hb wire.Heartbeat
		if err := json.Unmarshal(m.Data, &hb); err != nil {
			g.log.Warn("bad heartbeat", "subject", m.Subject, "error", err)
			return
		}
		table.Observe(hb, time.Now())
		g.sched.Wake() // the runner may have room now
	})
	if err != nil {
		return fmt.Errorf("gateway: follow heartbeats: %w", err)
	}
	g.beats = sub
	ctx, cancel := context.WithCancel(context.Background())
	g.stopSweep, g.sweepDone = cancel, make(chan struct{})
	go func() {
		defer close(g.sweepDone)
		tick := time.NewTicker(g.cfg.HeartbeatInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				for _, id := range table.Sweep(now) {
					g.log.Warn("runner missed its heartbeats; no more work goes to it", "runner", id)
				}
			}
		}
	}()
	return nil
}

// listRunners answers GET /v1/runners: the runner table.
func (g *Gateway) listRunners(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"runners": g.sched.Table().Infos(), "strategy": g.sched.Strategy().Name()})
}
