package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/wire"
)

// Autoscaling: every gateway counts its invocations per function and
// publishes the counts on DemandSubject each tick; one gateway at a time
// (a lease in NATS KV) runs the autoscaler.Controller on the sum, telling
// runners to prewarm or retire instances; its demand history is kept in
// NATS KV so that the next leader resumes with what was learned.
const (
	DemandSubject    = "hearth.demand"
	AutoscalerBucket = "hearth_autoscaler"
	leaseKey         = "leader"
	historyKey       = "history"
)

type autoscale struct {
	g      *Gateway
	id     string
	kv     jetstream.KeyValue
	sub    *nats.Subscription
	stop   context.CancelFunc
	done   chan struct{}
	policy autoscaler.Policy

	mu       sync.Mutex
	local    map[string]int // this gateway's counts in the current tick
	incoming map[string]int // everyone's counts, for the leader
	ctrl     *autoscaler.Controller
	leaseRev uint64
}

func (g *Gateway) startAutoscaler(ctx context.Context) error {
	policies, err := autoscaler.ParsePolicies(g.cfg.Autoscale)
	if err != nil || len(policies) != 1 {
		return fmt.Errorf("gateway: autoscale policy %q: use one of fixed-K, hybrid, predictive", g.cfg.Autoscale)
	}
	kv, err := g.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: AutoscalerBucket, Description: "Hearth autoscaler lease and demand history",
		History: 1, TTL: max(3*g.cfg.AutoscaleTick, time.Second), Storage: jetstream.FileStorage, Replicas: g.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("gateway: autoscaler bucket: %w", err)
	}
	a := &autoscale{g: g, id: nuid.Next(), kv: kv, policy: policies[0], local: map[string]int{}, incoming: map[string]int{}}
	a.sub, err = g.nc.Subscribe(DemandSubject, a.onDemand)
	if err != nil {
		return err
	}
	actx, cancel := context.WithCancel(context.Background())
	a.stop, a.done = cancel, make(chan struct{})
	g.autoscale = a
	go a.run(actx)
	return nil
}

// count adds one invocation of a function in this tick.
func (a *autoscale) count(ns, fn string) {
	a.mu.Lock()
	a.local[ns+"/"+fn]++
	a.mu.Unlock()
}

func (a *autoscale) onDemand(m *nats.Msg) {
	var counts map[string]int
	if json.Unmarshal(m.Data, &counts) != nil {
		return
	}
	a.mu.Lock()
	for k, n := range counts {
		a.incoming[k] += n
	}
	a.mu.Unlock()
}

func (a *autoscale) run(ctx context.Context) {
	defer close(a.done)
	t := time.NewTicker(a.g.cfg.AutoscaleTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.tick(ctx)
		}
	}
}

// tick publishes this gateway's counts and, if it holds the lease, runs
// one step of the controller.
func (a *autoscale) tick(ctx context.Context) {
	a.mu.Lock()
	local := a.local
	a.local = map[string]int{}
	a.mu.Unlock()
	if data, err := json.Marshal(local); err == nil {
		_ = a.g.nc.Publish(DemandSubject, data)
		_ = a.g.nc.Flush()
	}
	if !a.lead(ctx) {
		return
	}
	a.mu.Lock()
	incoming := a.incoming
	a.incoming = map[string]int{}
	ctrl := a.ctrl
	a.mu.Unlock()
	for k, n := range incoming {
		ns, fn, _ := strings.Cut(k, "/")
		ctrl.Record(autoscaler.FunctionKey{Namespace: ns, Name: fn}, n)
	}
	for _, d := range ctrl.Tick(ctx) {
		if d.Err != nil {
			a.g.log.Debug("autoscaler command failed", "function", d.Function.Name, "warm", d.Warm, "error", d.Err)
		}
	}
	a.saveHistory(ctx, ctrl)
}

// lead renews or takes the lease; a new leader resumes from the history.
func (a *autoscale) lead(ctx context.Context) bool {
	if a.leaseRev != 0 {
		rev, err := a.kv.Update(ctx, leaseKey, []byte(a.id), a.leaseRev)
		if err == nil {
			a.leaseRev = rev
			return true
		}
		a.leaseRev = 0
		a.g.log.Info("autoscaler lease lost")
	}
	rev, err := a.kv.Create(ctx, leaseKey, []byte(a.id))
	if err != nil {
		return false
	}
	a.leaseRev = rev
	ctrl := autoscaler.NewController(a.policy, a, nil)
	if entry, err := a.kv.Get(ctx, historyKey); err == nil {
		var saved map[string][]int
		if json.Unmarshal(entry.Value(), &saved) == nil {
			history := make(map[autoscaler.FunctionKey][]int, len(saved))
			for k, h := range saved {
				ns, fn, _ := strings.Cut(k, "/")
				history[autoscaler.FunctionKey{Namespace: ns, Name: fn}] = h
			}
			ctrl.Resume(history)
		}
	}
	a.mu.Lock()
	a.ctrl = ctrl
	a.mu.Unlock()
	a.g.log.Info("this gateway runs the autoscaler", "policy", a.policy.Name())
	return true
}

func (a *autoscale) saveHistory(ctx context.Context, ctrl *autoscaler.Controller) {
	saved := map[string][]int{}
	for k, h := range ctrl.History() {
		saved[k.Namespace+"/"+k.Name] = h
	}
	if data, err := json.Marshal(saved); err == nil {
		_, _ = a.kv.Put(ctx, historyKey, data)
	}
}

// Prewarm asks the function's home runner (the scheduler's choice for its
// module) for one warm instance.
func (a *autoscale) Prewarm(ctx context.Context, fn autoscaler.FunctionKey) error {
	f, err := a.g.registry.Lookup(ctx, fn.Namespace, fn.Name)
	if err != nil {
		return err
	}
	req := withVersion(&wire.Request{Namespace: fn.Namespace, Function: fn.Name}, f.Latest())
	d, err := a.g.sched.Place(scheduler.Request{Digest: req.Digest}, nil)
	if err != nil {
		return err
	}
	return a.command(ctx, d.Runner.ID, wire.Control{Op: wire.OpPrewarm, Request: req, Instances: 1})
}

// Retire asks every runner with the function's module warm to let its idle
// instances go.
func (a *autoscale) Retire(ctx context.Context, fn autoscaler.FunctionKey) error {
	f, err := a.g.registry.Lookup(ctx, fn.Namespace, fn.Name)
	if err != nil {
		return err
	}
	req := withVersion(&wire.Request{Namespace: fn.Namespace, Function: fn.Name}, f.Latest())
	var errs []error
	for _, r := range a.g.sched.Table().Runners() {
		if r.HasModule(req.Digest) {
			errs = append(errs, a.command(ctx, r.ID, wire.Control{Op: wire.OpRetire, Request: req}))
		}
	}
	return errors.Join(errs...)
}

func (a *autoscale) command(ctx context.Context, runnerID string, cmd wire.Control) error {
	data, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := a.g.nc.RequestWithContext(ctx, wire.ControlSubject(runnerID), data)
	if err != nil {
		return err
	}
	var reply wire.ControlReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return err
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	if cmd.Op == wire.OpPrewarm && reply.Changed > 0 {
		a.g.metrics.prewarms.WithLabelValues(cmd.Request.Namespace, cmd.Request.Function).Add(float64(reply.Changed))
	}
	return nil
}

func (a *autoscale) close() {
	a.stop()
	<-a.done
	_ = a.sub.Unsubscribe()
}
