package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/wire"
)

// handleControl serves the autoscaler's commands on wire.ControlSubject:
// prewarm instances of a function version, or retire its idle ones.
func (r *Runner) handleControl(msg *nats.Msg) {
	var cmd wire.Control
	reply := wire.ControlReply{}
	if err := json.Unmarshal(msg.Data, &cmd); err != nil {
		reply.Error = "bad control message: " + err.Error()
	} else {
		reply = r.control(cmd)
	}
	if msg.Reply != "" {
		data, _ := json.Marshal(reply)
		_ = msg.Respond(data)
	}
}

func (r *Runner) control(cmd wire.Control) wire.ControlReply {
	if cmd.Request == nil {
		return wire.ControlReply{Error: "control message without a function"}
	}
	switch cmd.Op {
	case wire.OpPrewarm:
		if r.draining.Load() {
			return wire.ControlReply{Error: "runner is draining"}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		n, err := r.engine.Prewarm(ctx, cmd.Request, max(cmd.Instances, 1))
		if n > 0 {
			r.metrics.prewarmed.WithLabelValues(cmd.Request.Namespace, cmd.Request.Function).Add(float64(n))
		}
		if err != nil {
			return wire.ControlReply{Changed: n, Error: err.Error()}
		}
		return wire.ControlReply{Changed: n}
	case wire.OpRetire:
		k := poolKey{namespace: cmd.Request.Namespace, function: cmd.Request.Function, version: cmd.Request.Version}
		n := r.engine.Retire(k, cmd.Instances)
		r.metrics.retiredInstances(retireAutoscaler, n)
		return wire.ControlReply{Changed: n}
	}
	return wire.ControlReply{Error: fmt.Sprintf("unknown control op %q", cmd.Op)}
}
