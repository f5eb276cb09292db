package autoscaler

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/wire"
)

// The timeline is what the autoscaler saw and did lately, for people to
// look at (GET /v1/autoscaler, the console): each function's invocations
// per closed minute against the forecast made for that minute, and the
// prewarms and retires sent to runners, on one clock. The leader keeps it
// in memory, bounded, and publishes it in the AutoscalerBucket at the end
// of every minute, so that every gateway can answer with it and a new
// leader goes on from it.
const (
	// TimelineMinutes is how many closed minutes the timeline keeps.
	TimelineMinutes = 120
	// TimelineEvents is how many prewarms and retires it keeps.
	TimelineEvents = 256
	// TimelineFunctions is how many functions a published timeline holds
	// at most: those with the most invocations in its minutes.
	TimelineFunctions = 200

	timelineKey = "timeline"
)

// Event reasons: a forecast of the policy (one instance, once a minute),
// or the reactive layer (the concurrency asks for more than one).
const (
	ReasonForecast = "forecast"
	ReasonReactive = "reactive"
)

// Timeline is the autoscaler's recent past. Minutes are the closed
// minutes, oldest first; each function's Counts and Forecast are aligned
// with them.
type Timeline struct {
	Policy    string             `json:"policy"`
	TickMs    float64            `json:"tick_ms"`    // the length of the policy's minute
	Leader    string             `json:"leader"`     // id of the gateway that made it
	UpdatedAt time.Time          `json:"updated_at"` // when it was made, or published
	Minutes   []MinuteMark       `json:"minutes"`
	Functions []FunctionTimeline `json:"functions"`
	Events    []Event            `json:"events"` // oldest first
}

// MinuteMark is one closed minute: its number in the controller's count
// and when it ended (it began where the one before it ended, one tick
// before its end for the first).
type MinuteMark struct {
	Minute int       `json:"minute"`
	End    time.Time `json:"end"`
}

// FunctionTimeline is one function's minutes: the invocations that came
// (the actual demand) and whether the policy had forecast the minute warm.
// WarmNow is the forecast of the minute in progress.
type FunctionTimeline struct {
	Namespace string `json:"namespace"`
	Function  string `json:"function"`
	Counts    []int  `json:"counts"`
	Forecast  []bool `json:"forecast_warm"`
	WarmNow   bool   `json:"warm_now"`
}

// Event is a command the autoscaler sent a runner that changed something
// (or failed): a prewarm started Instances instances, a retire closed
// them.
type Event struct {
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace"`
	Function  string    `json:"function"`
	Op        string    `json:"op"`     // prewarm, retire
	Reason    string    `json:"reason"` // forecast, reactive
	Instances int       `json:"instances"`
	Runner    string    `json:"runner"`
	Error     string    `json:"error,omitempty"`
}

// timeline is the leader's copy, safe for concurrent use; its size is
// bounded by TimelineMinutes per function the controller knows and
// TimelineEvents.
type timeline struct {
	mu      sync.Mutex
	minutes []MinuteMark
	fns     map[FunctionKey]*FunctionTimeline
	events  []Event
}

func newTimeline() *timeline { return &timeline{fns: map[FunctionKey]*FunctionTimeline{}} }

// closeMinute adds the minute the controller just closed: each function's
// count and forecast, and the forecast of the next minute.
func (tl *timeline) closeMinute(minute int, end time.Time, closed []Minute, next []Decision) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.minutes = append(tl.minutes, MinuteMark{Minute: minute, End: end})
	n := len(tl.minutes)
	for _, mi := range closed {
		f := tl.function(mi.Function, n-1)
		f.Counts = append(f.Counts, mi.Count)
		f.Forecast = append(f.Forecast, mi.Forecast)
	}
	for _, f := range tl.fns {
		for len(f.Counts) < n { // not in the controller's minute (cannot happen today)
			f.Counts, f.Forecast = append(f.Counts, 0), append(f.Forecast, false)
		}
		f.WarmNow = false
	}
	for _, d := range next {
		if f, ok := tl.fns[d.Function]; ok {
			f.WarmNow = d.Warm
		}
	}
	if n > TimelineMinutes {
		drop := n - TimelineMinutes
		tl.minutes = append([]MinuteMark(nil), tl.minutes[drop:]...)
		for k, f := range tl.fns {
			f.Counts = append([]int(nil), f.Counts[drop:]...)
			f.Forecast = append([]bool(nil), f.Forecast[drop:]...)
			if idle(f) {
				delete(tl.fns, k)
			}
		}
	}
}

// function is fn's entry, made with `have` minutes of nothing before it.
func (tl *timeline) function(fn FunctionKey, have int) *FunctionTimeline {
	f, ok := tl.fns[fn]
	if !ok {
		f = &FunctionTimeline{Namespace: fn.Namespace, Function: fn.Name, Counts: make([]int, have), Forecast: make([]bool, have)}
		tl.fns[fn] = f
	}
	return f
}

// idle reports whether a function had no invocation and no warm minute in
// the window: there is nothing to show of it.
func idle(f *FunctionTimeline) bool {
	for i, n := range f.Counts {
		if n > 0 || f.Forecast[i] {
			return false
		}
	}
	return !f.WarmNow
}

func (tl *timeline) event(e Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.events = append(tl.events, e)
	if len(tl.events) > TimelineEvents {
		tl.events = append([]Event(nil), tl.events[len(tl.events)-TimelineEvents:]...)
	}
}

// snapshot copies the timeline: functions by namespace and name, at most
// TimelineFunctions of them (the busiest), idle ones left out.
func (tl *timeline) snapshot() Timeline {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := Timeline{Minutes: append([]MinuteMark{}, tl.minutes...), Events: append([]Event{}, tl.events...), Functions: []FunctionTimeline{}}
	for _, f := range tl.fns {
		if idle(f) {
			continue
		}
		c := *f
		c.Counts, c.Forecast = append([]int(nil), f.Counts...), append([]bool(nil), f.Forecast...)
		out.Functions = append(out.Functions, c)
	}
	if len(out.Functions) > TimelineFunctions {
		sort.Slice(out.Functions, func(i, j int) bool { return sum(out.Functions[i].Counts) > sum(out.Functions[j].Counts) })
		out.Functions = out.Functions[:TimelineFunctions]
	}
	sort.Slice(out.Functions, func(i, j int) bool {
		a, b := out.Functions[i], out.Functions[j]
		return less(FunctionKey{a.Namespace, a.Function}, FunctionKey{b.Namespace, b.Function})
	})
	return out
}

// resume starts the timeline from one a former leader published.
func (tl *timeline) resume(saved Timeline) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n := len(saved.Minutes)
	if n > TimelineMinutes {
		return // not one this code wrote
	}
	for _, f := range saved.Functions {
		if len(f.Counts) != n || len(f.Forecast) != n {
			return
		}
	}
	tl.minutes = append([]MinuteMark(nil), saved.Minutes...)
	tl.fns = map[FunctionKey]*FunctionTimeline{}
	for _, f := range saved.Functions {
		c := f
		tl.fns[FunctionKey{f.Namespace, f.Function}] = &c
	}
	tl.events = append([]Event(nil), saved.Events[max(len(saved.Events)-TimelineEvents, 0):]...)
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// ErrNoTimeline is Timeline's error when no leader has published one yet
// (none has closed a minute, or the last one stopped more than three
// minutes ago).
var ErrNoTimeline = errors.New("autoscaler: no timeline published yet")

// Timeline answers the autoscaler's recent past: this gateway's own when
// it holds the lease, else the one the leader published last (at most a
// minute old), and whether it came from this gateway.
func (a *Leader) Timeline(ctx context.Context) (Timeline, bool, error) {
	if a.leading.Load() {
		return a.ownTimeline(time.Now()), true, nil
	}
	entry, err := a.kv.Get(ctx, timelineKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Timeline{}, false, ErrNoTimeline
	}
	if err != nil {
		return Timeline{}, false, err
	}
	var t Timeline
	if err := json.Unmarshal(entry.Value(), &t); err != nil {
		return Timeline{}, false, err
	}
	return t, false, nil
}

func (a *Leader) ownTimeline(now time.Time) Timeline {
	t := a.timeline.snapshot()
	t.Policy, t.TickMs, t.Leader, t.UpdatedAt = a.policy.Name(), float64(a.cfg.Tick)/float64(time.Millisecond), a.id, now.UTC()
	return t
}

// publishTimeline stores the leader's timeline for the other gateways.
func (a *Leader) publishTimeline(ctx context.Context) {
	if data, err := json.Marshal(a.ownTimeline(time.Now())); err == nil {
		_, _ = a.kv.Put(ctx, timelineKey, data)
	}
}

// resumeTimeline goes on from the timeline the former leader published.
func (a *Leader) resumeTimeline(ctx context.Context) {
	entry, err := a.kv.Get(ctx, timelineKey)
	if err != nil {
		return
	}
	var t Timeline
	if json.Unmarshal(entry.Value(), &t) == nil {
		a.timeline.resume(t)
	}
}

// Minute is the controller's current minute (the one in progress).
func (c *Controller) Minute() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.minute
}

// noteCommand puts a prewarm or retire that changed something, or failed,
// into the timeline.
func (a *Leader) noteCommand(runnerID, reason string, cmd wire.Control, changed int, err error) {
	if cmd.Request == nil || changed == 0 && err == nil {
		return
	}
	e := Event{Time: time.Now().UTC(), Namespace: cmd.Request.Namespace, Function: cmd.Request.Function,
		Op: cmd.Op, Reason: reason, Instances: changed, Runner: runnerID}
	if err != nil {
		e.Error = err.Error()
	}
	a.timeline.event(e)
}
