package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/triggers"
	"github.com/hearthfn/hearth/internal/wire"
)

// triggerInvoker runs functions for the trigger manager.
type triggerInvoker struct{ g *Gateway }

// Invoke runs the function's latest version now, as a sync call.
func (t triggerInvoker) Invoke(ctx context.Context, ns, fn string, input []byte, mode string) ([]byte, error) {
	inv, err := t.g.triggerInvocation(ctx, ns, fn, input, nuid.Next())
	if err != nil {
		return nil, err
	}
	out := t.g.execute(ctx, inv, scheduler.Sync)
	t.g.recordSync(inv, out, mode)
	if out.err != nil {
		return nil, errors.New(out.err.Code + ": " + out.err.Message)
	}
	return out.output, nil
}

// Enqueue queues an async invocation under id; the stream keeps one of
// several with the same id.
func (t triggerInvoker) Enqueue(ctx context.Context, ns, fn string, input []byte, mode, id string) error {
	inv, err := t.g.triggerInvocation(ctx, ns, fn, input, id)
	if err != nil {
		return err
	}
	_, err = t.g.enqueue(ctx, inv, mode, "", "")
	return err
}

func (g *Gateway) triggerInvocation(ctx context.Context, ns, fn string, input []byte, id string) (*invocation, error) {
	f, err := g.registry.Lookup(ctx, ns, fn)
	if err != nil {
		return nil, err
	}
	req := withVersion(&wire.Request{InvocationID: id, Namespace: ns, Function: fn, Method: "POST", Path: "/"}, f.Latest())
	return &invocation{ns: ns, name: fn, fn: f, req: req, body: input, start: time.Now()}, nil
}

// triggerBindings lists the triggers of every function's latest version.
func (g *Gateway) triggerBindings() []triggers.Binding {
	var out []triggers.Binding
	for _, fn := range g.registry.Functions() {
		if len(fn.Versions) == 0 {
			continue
		}
		for _, t := range fn.Latest().Spec.Triggers {
			out = append(out, triggers.Binding{Namespace: fn.Namespace, Function: fn.Name, Type: t.Type,
				Subject: t.Subject, Schedule: t.Schedule, Options: t.Options})
		}
	}
	return out
}

// startTriggers runs the trigger manager until stopBackground.
func (g *Gateway) startTriggers() {
	m := triggers.NewManager(g.nc, g.js, triggerInvoker{g}, g.triggerBindings, g.log)
	ctx, cancel := context.WithCancel(context.Background())
	g.triggers, g.stopTriggers, g.triggersDone = m, cancel, make(chan struct{})
	go func() {
		defer close(g.triggersDone)
		m.Run(ctx, g.cfg.TriggerTick)
	}()
}
