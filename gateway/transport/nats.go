package transport

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// NATS calls runners through NATS request-reply.
type NATS struct {
	nc    *nats.Conn
	store ObjectStore
	log   *slog.Logger
	// inline is the largest body sent inside a message (0: the
	// connection's max payload less room for headers).
	inline int
}

// NewNATS makes a NATS transport on nc; bodies and outputs above inline
// bytes (0: what a message can carry) go through store.
func NewNATS(nc *nats.Conn, store ObjectStore, inline int, log *slog.Logger) *NATS {
	return &NATS{nc: nc, store: store, inline: inline, log: log}
}

// InlineLimit is the largest payload sent inside a NATS message.
func (t *NATS) InlineLimit() int {
	if t.inline > 0 {
		return t.inline
	}
	return wire.InlineLimit(t.nc.MaxPayload())
}

// Call sends req to target's subject, or to any runner when target is
// nil, and waits for the answer until ctx ends. A body too large for a
// message is stored first and deleted once ctx ends; an output the runner
// stored is read back. When the call was placed on a runner, it ends early
// with ErrRunnerLost if that runner is declared dead meanwhile.
func (t *NATS) Call(ctx context.Context, req *wire.Request, body []byte, target *scheduler.Runner) (*wire.Response, []byte, error) {
	if req.BodyRef != "" {
		body = nil // stored by an earlier attempt, or at async intake
	} else if len(body) > t.InlineLimit() {
		key, err := PutPayload(ctx, t.store, req.InvocationID, body)
		if err != nil {
			return nil, nil, &StorageError{Op: OpStoreBody, Err: err}
		}
		req.BodyRef, body = key, nil
		context.AfterFunc(ctx, func() { DeleteLater(t.store, key, t.log) })
	}
	resp, output, err := t.request(ctx, req, body, target)
	if err != nil {
		return nil, nil, err
	}
	if resp.OutputRef != "" && resp.Error == nil {
		if output, err = t.store.Get(ctx, resp.OutputRef); err != nil {
			return resp, nil, &StorageError{Op: OpReadOutput, Err: err}
		}
	}
	return resp, output, nil
}

// request makes the NATS request and decodes the answer.
func (t *NATS) request(ctx context.Context, req *wire.Request, body []byte, target *scheduler.Runner) (*wire.Response, []byte, error) {
	subject := wire.InvokeSubject
	if target != nil {
		subject = wire.RunnerSubject(target.ID)
	}
	msg, err := wire.EncodeRequest(subject, req, body)
	if err != nil {
		return nil, nil, err
	}
	var reply *nats.Msg
	if target == nil {
		reply, err = t.nc.RequestMsgWithContext(ctx, msg)
	} else {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(target.Context(), func() { cancel(ErrRunnerLost) })
		defer stop()
		reply, err = t.nc.RequestMsgWithContext(ctx, msg)
		if err != nil && context.Cause(ctx) == ErrRunnerLost {
			return nil, nil, ErrRunnerLost
		}
	}
	if err != nil {
		return nil, nil, err
	}
	resp, output, err := wire.DecodeResponse(reply)
	if err != nil {
		return nil, nil, &MalformedResponse{err}
	}
	return resp, output, nil
}
