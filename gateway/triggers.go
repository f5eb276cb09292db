package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/triggers"
	"github.com/hearthfn/hearth/internal/tracing"
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
	out := t.g.Execute(ctx, inv, scheduler.Sync)
	t.g.recordSync(inv, &out, mode)
	if out.Err != nil {
		return nil, errors.New(out.Err.Error())
	}
	return out.Output, nil
}

// Enqueue queues an async invocation under id; the stream keeps one of
// several with the same id.
func (t triggerInvoker) Enqueue(ctx context.Context, ns, fn string, input []byte, mode, id string) error {
	inv, err := t.g.triggerInvocation(ctx, ns, fn, input, id)
	if err != nil {
		return err
	}
	_, err = t.g.queue.Enqueue(ctx, inv, mode, "", "")
	return err
}

func (g *Gateway) triggerInvocation(ctx context.Context, ns, fn string, input []byte, id string) (*invocation.Invocation, error) {
	f, err := g.registry.Lookup(ctx, ns, fn)
	if err != nil {
		return nil, err
	}
	v := f.Latest()
	// A trigger's call starts a trace of its own: no request brought one.
	req := invocation.WithVersion(&wire.Request{InvocationID: id, Namespace: ns, Function: fn, Method: "POST", Path: "/",
		Traceparent: tracing.NewTrace().String()}, v)
	return &invocation.Invocation{Namespace: ns, Function: fn, Req: req, Body: input, Start: time.Now(), Records: v.Spec.Records}, nil
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
