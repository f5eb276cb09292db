package gateway

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// autoscalerView answers GET /v1/autoscaler.
type autoscalerView struct {
	Enabled bool `json:"enabled"`
	// Leading is true when this gateway holds the autoscaler's lease and
	// answers from its own memory; else the timeline is the one the
	// leader published at the end of its last minute.
	Leading bool   `json:"leading"`
	Message string `json:"message,omitempty"`
	autoscaler.Timeline
}

// getAutoscaler answers GET /v1/autoscaler: the autoscaler's recent past
// for the functions of the request's namespace: invocations per minute
// against the forecast made for each minute, and the prewarms and retires
// sent to runners (gateway/autoscaler, timeline.go).
func (g *Gateway) getAutoscaler(c echo.Context) error {
	ns, err := namespace(c)
	if err != nil {
		return err
	}
	if g.leader == nil {
		return c.JSON(http.StatusOK, autoscalerView{Message: "the autoscaler is off on this gateway: start it with --autoscale POLICY (fixed-K, hybrid, predictive)",
			Timeline: autoscaler.Timeline{Minutes: []autoscaler.MinuteMark{}, Functions: []autoscaler.FunctionTimeline{}, Events: []autoscaler.Event{}}})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	tl, leading, err := g.leader.Timeline(ctx)
	view := autoscalerView{Enabled: true, Leading: leading}
	switch {
	case errors.Is(err, autoscaler.ErrNoTimeline):
		view.Message = "no autoscaler minute has closed yet (the leader publishes its timeline at the end of each minute)"
		tl = autoscaler.Timeline{Policy: g.cfg.Autoscale, TickMs: float64(g.cfg.AutoscaleTick) / float64(time.Millisecond), Minutes: []autoscaler.MinuteMark{}}
	case err != nil:
		return err
	}
	fns := []autoscaler.FunctionTimeline{}
	for _, f := range tl.Functions {
		if f.Namespace == ns {
			fns = append(fns, f)
		}
	}
	events := []autoscaler.Event{}
	for _, e := range tl.Events {
		if e.Namespace == ns {
			events = append(events, e)
		}
	}
	tl.Functions, tl.Events = fns, events
	view.Timeline = tl
	return c.JSON(http.StatusOK, view)
}
