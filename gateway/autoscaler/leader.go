package autoscaler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/hearthfn/hearth/gateway/invocation"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// The leader loop: every gateway counts its invocations per function and
// publishes the counts on DemandSubject each tick; one gateway at a time
// (a lease in NATS KV) runs the Controller on the sum, telling runners to
// prewarm or retire instances; its demand history is kept in NATS KV so
// that the next leader resumes with what was learned.
const (
	DemandSubject    = "hearth.demand"
	AutoscalerBucket = "hearth_autoscaler"
	leaseKey         = "leader"
	historyKey       = "history"
)

// LeaderConfig configures a gateway's part in autoscaling.
type LeaderConfig struct {
	// Policy names the keep-alive policy (fixed-K, hybrid, predictive).
	Policy string
	// Tick is the policy's "minute".
	Tick time.Duration
	// MinRunners and MaxRunners bound how many runners the Scaler is asked
	// for (MaxRunners 0: no cap).
	MinRunners, MaxRunners int
	// FixedRunners is how many runners the Scaler does not manage (a
	// runner in the gateway's own process): sizing counts their slots and
	// asks the Scaler for the rest.
	FixedRunners int
	Replicas     int // JetStream replicas of the lease bucket
}

// Functions finds the function a forecast is about.
type Functions interface {
	Lookup(ctx context.Context, namespace, name string) (*registry.Function, error)
}

// LeaderDeps are what the leader loop works with.
type LeaderDeps struct {
	NATS      *nats.Conn
	JS        jetstream.JetStream
	Functions Functions
	Scheduler *scheduler.Scheduler
	// Scaler, when set, adds and removes runners.
	Scaler Scaler
	// Unplaced counts calls in flight that no runner entry holds (sent to
	// any runner before heartbeats arrived).
	Unplaced func() int
	Metrics  *LeaderMetrics // nil: series of its own, not registered
	Log      *slog.Logger
	// WarmRequest, when set, is the request a runner is sent to warm a
	// version: a call's, with the env a call carries (its spec's env and
	// granted secrets), so a prewarmed instance is the one a call will
	// use; an error skips the prewarm. Unset: the call's without env.
	WarmRequest func(namespace, name string, v registry.Version) (*wire.Request, error)
}

// Leader is one gateway's part in autoscaling: it counts this gateway's
// calls (Begin, End), reports them, and runs the controller while it holds
// the lease. Start it with StartLeader; Stop stops it.
type Leader struct {
	cfg     LeaderConfig
	deps    LeaderDeps
	metrics *LeaderMetrics
	id      string
	kv      jetstream.KeyValue
	sub     *nats.Subscription
	stop    context.CancelFunc
	done    chan struct{}
	policy  Policy

	mu        sync.Mutex
	local     map[string]int // this gateway's counts in the current tick
	inflight  map[string]int // this gateway's calls running now
	localPeak map[string]int // the most of them at once in the current tick
	incoming  demand         // everyone's demand, for the leader
	kpa       map[string]*KPA
	ctrl      *Controller
	leaseRev  uint64

	// Runner sizing (sizing.go), touched by the leader loop only.
	wanted     map[string]int     // the KPA's instances, by function
	minutePeak map[string]int     // the most calls at once this minute
	peak       map[string]float64 // a function's remembered peak concurrency
	slots      int                // a runner's capacity, as last seen
	hold       hysteresis

	scaling sync.Mutex // held while the scaler scales (a scale-down drains)

	leading  atomic.Bool // holds the lease
	timeline *timeline   // what it saw and did lately (timeline.go)
}

// demand is one gateway's report for one tick, by "namespace/function".
type demand struct {
	From     string         `json:"from,omitempty"` // the reporting gateway's leader id
	Counts   map[string]int `json:"counts"`
	InFlight map[string]int `json:"in_flight"`
	// Peak is the most calls in flight at once since the last report.
	Peak map[string]int `json:"peak,omitempty"`
}

// add sums d into the demand.
func (x demand) add(d demand) {
	for k, n := range d.Counts {
		x.Counts[k] += n
	}
	for k, n := range d.InFlight {
		x.InFlight[k] += n
	}
	for k, n := range d.Peak {
		x.Peak[k] += n
	}
}

func newDemand() demand {
	return demand{Counts: map[string]int{}, InFlight: map[string]int{}, Peak: map[string]int{}}
}

// StartLeader opens the lease bucket, follows the other gateways' demand
// and starts the loop. While JetStream is not ready (a fresh cluster
// electing its meta leader, another gateway creating the bucket) opening
// the bucket is retried, each retry logged, up to jsopen.Timeout.
func StartLeader(ctx context.Context, cfg LeaderConfig, deps LeaderDeps) (*Leader, error) {
	policies, err := ParsePolicies(cfg.Policy)
	if err != nil || len(policies) != 1 {
		return nil, fmt.Errorf("gateway: autoscale policy %q: use one of fixed-K, hybrid, predictive", cfg.Policy)
	}
	if cfg.Tick < MinTick {
		return nil, fmt.Errorf("gateway: autoscale minute %v: it must be at least %v (the leader reports demand and acts once per minute)", cfg.Tick, MinTick)
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	var kv jetstream.KeyValue
	err = jsopen.Retry(ctx, deps.Log, "KV bucket "+AutoscalerBucket, func(ctx context.Context) (err error) {
		kv, err = deps.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: AutoscalerBucket, Description: "Hearth autoscaler lease and demand history",
			History: 1, TTL: max(3*cfg.Tick, time.Second), Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: autoscaler bucket: %w", err)
	}
	if deps.Metrics == nil {
		deps.Metrics = NewLeaderMetrics(nil)
	}
	if deps.Unplaced == nil {
		deps.Unplaced = func() int { return 0 }
	}
	a := &Leader{cfg: cfg, deps: deps, metrics: deps.Metrics, id: nuid.Next(), kv: kv, policy: policies[0],
		local: map[string]int{}, inflight: map[string]int{}, localPeak: map[string]int{}, incoming: newDemand(), kpa: map[string]*KPA{}, timeline: newTimeline(),
		wanted: map[string]int{}, minutePeak: map[string]int{}, peak: map[string]float64{}}
	// A fall in the runners wanted must last two policy minutes.
	a.hold.hold = 2 * a.reportsPerMinute()
	a.metrics.minuteSeconds.WithLabelValues(a.policy.Name()).Set(cfg.Tick.Seconds())
	a.sub, err = deps.NATS.Subscribe(DemandSubject, a.onDemand)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancel(context.Background())
	a.stop, a.done = cancel, make(chan struct{})
	go a.run(actx)
	return a, nil
}

// Begin counts a call of a function that starts now; End, when it ends.
func (a *Leader) Begin(ns, fn string) {
	a.mu.Lock()
	k := ns + "/" + fn
	a.local[k]++
	a.inflight[k]++
	a.localPeak[k] = max(a.localPeak[k], a.inflight[k])
	a.mu.Unlock()
}

func (a *Leader) End(ns, fn string) {
	a.mu.Lock()
	if a.inflight[ns+"/"+fn]--; a.inflight[ns+"/"+fn] <= 0 {
		delete(a.inflight, ns+"/"+fn)
	}
	a.mu.Unlock()
}

func (a *Leader) onDemand(m *nats.Msg) {
	var d demand
	if json.Unmarshal(m.Data, &d) != nil || d.From == a.id {
		return // this gateway's own report is added as it is made (tick)
	}
	a.mu.Lock()
	a.incoming.add(d)
	a.mu.Unlock()
}

// MinTick is the shortest policy minute (LeaderConfig.Tick) a leader
// accepts.
const MinTick = 10 * time.Millisecond

// MinuteStart is the start of the policy minute that t is in: minutes of
// length tick begin at multiples of tick since the Unix epoch, on every
// gateway alike, so that the minutes of a 1 min tick are the clock's and
// a client (hearth replay) can put its calls in the minute it means.
func MinuteStart(t time.Time, tick time.Duration) time.Time {
	ns := t.UnixNano()
	off := ns % int64(tick)
	if off < 0 {
		off += int64(tick)
	}
	return time.Unix(0, ns-off)
}

// reportsPerMinute is how many times per policy minute demand is reported
// and the reactive layer looks at concurrency: at least every 2 s, even
// when the policy's minute is a real minute, in equal parts of it.
func (a *Leader) reportsPerMinute() int {
	const most = 2 * time.Second
	return max(int((a.cfg.Tick+most-1)/most), 1)
}

// reactEvery is the time between reports.
func (a *Leader) reactEvery() time.Duration { return a.cfg.Tick / time.Duration(a.reportsPerMinute()) }

// nextReport is the first report time after t: the k-th of
// reportsPerMinute in its minute, the last one at the minute's end; end
// says it is the end of a minute.
func (a *Leader) nextReport(t time.Time) (at time.Time, end bool) {
	start := MinuteStart(t, a.cfg.Tick)
	per, every := a.reportsPerMinute(), a.reactEvery()
	k := int(t.Sub(start)/every) + 1
	if k >= per {
		return start.Add(a.cfg.Tick), true
	}
	return start.Add(time.Duration(k) * every), false
}

func (a *Leader) run(ctx context.Context) {
	defer close(a.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next, end := a.nextReport(time.Now())
	for {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		a.tick(ctx, end)
		was := next
		next, end = a.nextReport(time.Now())
		if MinuteStart(next, a.cfg.Tick).Sub(MinuteStart(was, a.cfg.Tick)) > a.cfg.Tick {
			// A tick outlasted a minute: the controller's minutes fall
			// behind the clock's by the minutes skipped.
			a.deps.Log.Warn("an autoscaler tick outlasted the policy's minute; minutes were skipped", "minute", a.cfg.Tick, "took", time.Since(was))
		}
	}
}

// tick publishes this gateway's demand and, if it holds the lease, runs the
// reactive layer and, at the end of a policy minute, one controller step.
func (a *Leader) tick(ctx context.Context, endOfMinute bool) {
	a.mu.Lock()
	report := demand{From: a.id, Counts: a.local, InFlight: make(map[string]int, len(a.inflight)), Peak: a.localPeak}
	a.localPeak = make(map[string]int, len(a.inflight))
	for k, n := range a.inflight {
		report.InFlight[k] = n
		a.localPeak[k] = n // calls still running count in the next tick's peak
	}
	a.local = map[string]int{}
	a.mu.Unlock()
	if data, err := json.Marshal(report); err == nil {
		_ = a.deps.NATS.Publish(DemandSubject, data)
		_ = a.deps.NATS.Flush()
	}
	leading := a.lead(ctx)
	// The other gateways' reports came in meanwhile; this gateway's own
	// is added here rather than when it comes back from NATS, which could
	// be after this read: its calls then counted in the next minute. A
	// gateway that does not lead drops what it heard, so that it starts
	// afresh when it takes the lease.
	a.mu.Lock()
	incoming := a.incoming
	a.incoming = newDemand()
	ctrl := a.ctrl
	a.mu.Unlock()
	if !leading {
		return
	}
	incoming.add(report)
	a.metrics.leader.Set(1)
	for k, n := range incoming.Counts {
		ns, fn, _ := strings.Cut(k, "/")
		ctrl.Record(FunctionKey{Namespace: ns, Name: fn}, n)
	}
	// The reactive layer: as many instances as the concurrency asks for.
	a.react(ctx, incoming.InFlight)
	for k, n := range incoming.Peak {
		a.minutePeak[k] = max(a.minutePeak[k], n)
	}
	if endOfMinute {
		a.endMinute(ctx, ctrl)
	}
	a.scaleRunners(ctx, ctrl, incoming.InFlight)
}

// endMinute runs one controller step at the end of a policy minute: one
// warm instance where the policy expects calls.
func (a *Leader) endMinute(ctx context.Context, ctrl *Controller) {
	m := a.metrics
	for _, d := range ctrl.Tick(ctx) {
		if d.Err != nil {
			op := wire.OpPrewarm
			if !d.Warm {
				op = wire.OpRetire
			}
			m.commandErrors.WithLabelValues(op).Inc()
			a.deps.Log.Debug("autoscaler command failed", "function", d.Function.Name, "warm", d.Warm, "error", d.Err)
		}
	}
	for _, mi := range ctrl.LastMinute() {
		ns, fn := mi.Function.Namespace, mi.Function.Name
		m.actual.WithLabelValues(ns, fn).Set(float64(mi.Count))
		m.touch(ns, fn)
		if mi.Count > 0 {
			k := ns + "/" + fn
			// A minute with calls sets the function's peak concurrency: at
			// least one, however short its calls were.
			a.peak[k] = max(float64(max(a.minutePeak[k], 1)), PeakDecay*a.peak[k])
		}
		switch {
		case mi.Count > 0 && mi.Forecast:
			m.coldAvoided.WithLabelValues(ns, fn).Inc()
		case mi.Count > 0:
			m.forecastMissed.WithLabelValues(ns, fn).Inc()
		case mi.Forecast:
			m.forecastIdle.WithLabelValues(ns, fn).Inc()
		}
	}
	for _, d := range ctrl.Decisions() {
		v := 0.0
		if d.Warm {
			v = 1
		}
		m.forecast.WithLabelValues(d.Function.Namespace, d.Function.Name).Set(v)
	}
	clear(a.minutePeak)
	m.minute.Set(float64(ctrl.Minute()))
	a.saveHistory(ctx, ctrl)
	a.timeline.closeMinute(ctrl.Minute()-1, time.Now().UTC(), ctrl.LastMinute(), ctrl.Decisions())
	a.publishTimeline(ctx)
}

// react feeds each function's concurrency to its KPA and prewarms the
// instances it wants beyond one.
func (a *Leader) react(ctx context.Context, inflight map[string]int) {
	now := time.Now()
	for k := range inflight {
		if _, ok := a.kpa[k]; !ok {
			// Knative's windows (60 s, panic 6 s), or 30 and 3 reports when
			// reports come faster (tests).
			a.kpa[k] = &KPA{StableWindow: min(60*time.Second, 30*a.reactEvery())}
		}
	}
	for k, kpa := range a.kpa {
		kpa.Observe(now, float64(inflight[k]))
		want, panicking := kpa.Desired(now)
		ns, fn, _ := strings.Cut(k, "/")
		a.metrics.concurrency.WithLabelValues(ns, fn).Set(float64(inflight[k]))
		a.metrics.desired.WithLabelValues(ns, fn).Set(float64(want))
		a.wanted[k] = want
		if want == 0 {
			delete(a.kpa, k)
			delete(a.wanted, k)
			continue
		}
		if want < 2 {
			continue // the forecast keeps one
		}
		f, err := a.deps.Functions.Lookup(ctx, ns, fn)
		if err != nil {
			continue
		}
		req, err := a.prewarmRequest(ns, fn, f)
		if err != nil {
			continue
		}
		d, err := a.deps.Scheduler.Place(scheduler.Request{Digest: req.Digest}, nil)
		if err != nil {
			continue
		}
		if err := a.command(ctx, d.Runner.ID, ReasonReactive, wire.Control{Op: wire.OpPrewarm, Request: req, Instances: want}); err != nil {
			a.metrics.commandErrors.WithLabelValues(wire.OpPrewarm).Inc()
			a.deps.Log.Debug("reactive prewarm failed", "function", fn, "instances", want, "panic", panicking, "error", err)
		}
	}
}

// lead renews or takes the lease; a new leader resumes from the history.
func (a *Leader) lead(ctx context.Context) bool {
	if a.leaseRev != 0 {
		rev, err := a.kv.Update(ctx, leaseKey, []byte(a.id), a.leaseRev)
		if err == nil {
			a.leaseRev = rev
			return true
		}
		a.leaseRev = 0
		a.metrics.lostLease()
		a.leading.Store(false)
		a.deps.Log.Info("autoscaler lease lost")
	}
	rev, err := a.kv.Create(ctx, leaseKey, []byte(a.id))
	if err != nil {
		return false
	}
	a.leaseRev = rev
	ctrl := NewController(a.policy, a, a.functionInfo)
	if entry, err := a.kv.Get(ctx, historyKey); err == nil {
		var saved map[string][]int
		if json.Unmarshal(entry.Value(), &saved) == nil {
			history := make(map[FunctionKey][]int, len(saved))
			for k, h := range saved {
				ns, fn, _ := strings.Cut(k, "/")
				history[FunctionKey{Namespace: ns, Name: fn}] = h
			}
			ctrl.Resume(history)
		}
	}
	a.mu.Lock()
	a.ctrl = ctrl
	a.mu.Unlock()
	a.resumeTimeline(ctx)
	a.leading.Store(true)
	a.metrics.minute.Set(float64(ctrl.Minute()))
	a.deps.Log.Info("this gateway runs the autoscaler", "policy", a.policy.Name())
	return true
}

// functionInfo is what the policy knows of a function the controller
// sees for the first time: the memory of its latest version (the
// predictive policy prices an idle minute by it, as the replay does with a
// trace's memory), DefaultMemoryMB if it cannot be found.
func (a *Leader) functionInfo(fn FunctionKey) FunctionInfo {
	info := FunctionInfo{MemoryMB: DefaultMemoryMB}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if f, err := a.deps.Functions.Lookup(ctx, fn.Namespace, fn.Name); err == nil && len(f.Versions) > 0 {
		if mb := f.Latest().Spec.MemoryMB; mb > 0 {
			info.MemoryMB = float64(mb)
		}
	}
	return info
}

// memoryOf is the memory of an instance of the function ("namespace/
// function"), as the controller learned it, DefaultMemoryMB before.
func memoryOf(ctrl *Controller, k string) float64 {
	ns, fn, _ := strings.Cut(k, "/")
	if info, ok := ctrl.Info(FunctionKey{Namespace: ns, Name: fn}); ok {
		return info.MemoryMB
	}
	return DefaultMemoryMB
}

// scaleRunners asks the scaler for as many runners as the forecast needs
// (sizing.go): the calls in flight and those the policy expects within
// SizingLead minutes, and the memory of their instances, at SizingTarget
// of the runners' capacity, within MinRunners and MaxRunners. A rise is
// asked for at once, a fall once it has lasted two policy minutes.
// Scaling runs in the background (a scale-down waits for runners to
// drain); a report that finds it still running leaves it be.
func (a *Leader) scaleRunners(ctx context.Context, ctrl *Controller, inflight map[string]int) {
	need, load := a.forecastNeed(ctrl, inflight)
	a.metrics.forecastCalls.Set(need.Calls)
	a.metrics.forecastMemory.Set(need.MemoryMB * (1 << 20))
	p := a.deps.Scaler
	if p == nil {
		return
	}
	total := need.Runners(a.slots, SizingTarget)
	want := a.hold.next(max(total-a.cfg.FixedRunners, a.cfg.MinRunners, 0))
	if a.cfg.MaxRunners > 0 {
		want = min(want, a.cfg.MaxRunners)
	}
	a.metrics.runnersWanted.Set(float64(want))
	if !a.scaling.TryLock() {
		return
	}
	have, err := p.Runners(ctx)
	if err != nil || have == want {
		a.scaling.Unlock()
		return
	}
	go func() {
		defer a.scaling.Unlock()
		if err := p.Scale(context.WithoutCancel(ctx), want); err != nil {
			a.deps.Log.Warn("runner scaling failed", "provider", p.Name(), "want", want, "error", err)
			return
		}
		a.deps.Log.Info("scaled runners", "provider", p.Name(), "from", have, "to", want,
			"calls", need.Calls, "memory_mb", need.MemoryMB, "in_flight", load)
	}()
}

// forecastNeed sums the functions' demand: each needs slots for the more
// of its calls in flight and, when the policy expects it within SizingLead
// minutes, its peak concurrency; and memory for the most of an instance
// per such call, the KPA's instances, and one when it is kept warm. The
// calls in flight on the runners (and sent to none yet) are the least it
// needs.
func (a *Leader) forecastNeed(ctrl *Controller, inflight map[string]int) (need Need, load int) {
	load = a.deps.Unplaced()
	for _, r := range a.deps.Scheduler.Table().Runners() {
		load += r.Load()
		if c := r.Capacity(); c > 0 {
			a.slots = c
		}
	}
	demand := map[string]*Demand{}
	at := func(k string) *Demand {
		d, ok := demand[k]
		if !ok {
			d = &Demand{MemoryMB: memoryOf(ctrl, k)}
			demand[k] = d
		}
		return d
	}
	for k, n := range inflight {
		at(k).Calls = max(at(k).Calls, float64(n))
	}
	for k, n := range a.wanted {
		at(k).Instances = n // warm instances, not calls: the KPA's own headroom
	}
	for fn := range ctrl.Ahead(SizingLead) {
		k := fn.Namespace + "/" + fn.Name
		d := at(k)
		d.Calls = max(d.Calls, a.peak[k])
		d.Instances = max(d.Instances, 1)
	}
	for _, d := range demand {
		d.Instances = max(d.Instances, int(math.Ceil(d.Calls)))
		need.Add(*d)
	}
	need.Calls = max(need.Calls, float64(load))
	return need, load
}

func (a *Leader) saveHistory(ctx context.Context, ctrl *Controller) {
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
func (a *Leader) Prewarm(ctx context.Context, fn FunctionKey) error {
	f, err := a.deps.Functions.Lookup(ctx, fn.Namespace, fn.Name)
	if err != nil {
		return err
	}
	req, err := a.prewarmRequest(fn.Namespace, fn.Name, f)
	if err != nil {
		return err
	}
	d, err := a.deps.Scheduler.Place(scheduler.Request{Digest: req.Digest}, nil)
	if err != nil {
		return err
	}
	return a.command(ctx, d.Runner.ID, ReasonForecast, wire.Control{Op: wire.OpPrewarm, Request: req, Instances: 1})
}

// prewarmRequest is what a runner is sent to warm the function's latest
// version: the request of a call, with the env a call would carry.
func (a *Leader) prewarmRequest(ns, fn string, f *registry.Function) (*wire.Request, error) {
	if a.deps.WarmRequest != nil {
		return a.deps.WarmRequest(ns, fn, f.Latest())
	}
	return invocation.WithVersion(&wire.Request{Namespace: ns, Function: fn}, f.Latest()), nil
}

// Retire asks every runner with the function's module warm to let its idle
// instances go.
func (a *Leader) Retire(ctx context.Context, fn FunctionKey) error {
	f, err := a.deps.Functions.Lookup(ctx, fn.Namespace, fn.Name)
	if err != nil {
		return err
	}
	req := invocation.WithVersion(&wire.Request{Namespace: fn.Namespace, Function: fn.Name}, f.Latest())
	var errs []error
	for _, r := range a.deps.Scheduler.Table().Runners() {
		if r.HasModule(req.Digest) {
			errs = append(errs, a.command(ctx, r.ID, ReasonForecast, wire.Control{Op: wire.OpRetire, Request: req}))
		}
	}
	return errors.Join(errs...)
}

// command sends a runner a control command; one that changed something or
// failed goes into the timeline, with the reason it was sent.
func (a *Leader) command(ctx context.Context, runnerID, reason string, cmd wire.Control) (err error) {
	changed := 0
	defer func() { a.noteCommand(runnerID, reason, cmd, changed, err) }()
	data, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := a.deps.NATS.RequestWithContext(ctx, wire.ControlSubject(runnerID), data)
	if err != nil {
		return err
	}
	var reply wire.ControlReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return err
	}
	changed = reply.Changed
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	if reply.Changed > 0 {
		switch cmd.Op {
		case wire.OpPrewarm:
			a.metrics.prewarms.WithLabelValues(cmd.Request.Namespace, cmd.Request.Function).Add(float64(reply.Changed))
		case wire.OpRetire:
			a.metrics.retires.WithLabelValues(cmd.Request.Namespace, cmd.Request.Function).Add(float64(reply.Changed))
		}
	}
	return nil
}

// Stop stops the loop and waits for a scale in progress to finish, until
// ctx ends.
func (a *Leader) Stop(ctx context.Context) error {
	a.stop()
	_ = a.sub.Unsubscribe()
	done := make(chan struct{})
	go func() {
		<-a.done
		a.scaling.Lock() // a scale in progress finishes first
		a.scaling.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
