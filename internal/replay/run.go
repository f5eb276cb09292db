package replay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/sdk/client"
)

// Config is one replay.
type Config struct {
	// Client is the gateway, with the namespace and API key to use. Its
	// HTTP client is replaced by one with Concurrency connections.
	Client *client.Client
	// MetricsURLs are the /metrics read for the runners' idle time:
	// default the gateway's, which serves those of a runner in its
	// process (hearth dev). Runners started apart serve their own.
	MetricsURLs []string
	Trace       *autoscaler.Trace
	// Policy is the policy the gateway's autoscaler runs, checked against
	// it; "" takes the gateway's.
	Policy string
	// Minute is how long a trace minute lasts, checked against the
	// gateway's autoscaler minute; 0 takes the gateway's.
	Minute time.Duration
	// From and To are the trace minutes replayed (1 … 1440).
	From, To  int
	Selection Selection
	// Concurrency bounds the calls in flight; default 64.
	Concurrency int
	// Keep leaves the deployed functions on the gateway.
	Keep bool
	// Progress, when set, gets a line now and then.
	Progress io.Writer
}

// Report is what a replay measured, live beside simulated.
type Report struct {
	Rows      []Row            `json:"rows"`
	Run       RunInfo          `json:"run"`
	Functions []FunctionReport `json:"functions"`
	// Runners is, per replayed minute, the calls made in it and the
	// runners at its start: what the autoscaler asked its scaler for and
	// what the gateway had ready.
	Runners []RunnerMinute `json:"runners"`
}

// RunnerMinute is one replayed minute's calls beside the runners at its
// start; Wanted and Ready are -1 when the reading failed.
type RunnerMinute struct {
	Minute int `json:"minute"`
	Calls  int `json:"calls"`
	Wanted int `json:"runners_wanted"`
	Ready  int `json:"runners_ready"`
}

// FunctionReport is one replayed function, live and simulated, with the
// trace minutes where the two disagreed.
type FunctionReport struct {
	Name        string  `json:"name"`           // deployed as
	Trace       string  `json:"trace_function"` // HashFunction
	MemoryMB    int     `json:"memory_mb"`
	Invocations int     `json:"invocations"`
	ColdLive    int     `json:"cold_live"`
	ColdSim     int     `json:"cold_sim"`
	WastedLive  float64 `json:"wasted_mb_min_live"`
	WastedSim   float64 `json:"wasted_mb_min_sim"`
	ColdNotSim  []int   `json:"live_cold_sim_warm,omitempty"`
	WarmNotSim  []int   `json:"live_warm_sim_cold,omitempty"`
	ExtraCold   []int   `json:"extra_cold,omitempty"`
	// CountedOtherwise are the minutes the autoscaler counted otherwise.
	CountedOtherwise []int `json:"counted_otherwise,omitempty"`
	IdleWarmOnly     []int `json:"idle_live_warm_sim_cold,omitempty"`
	IdleColdOnly     []int `json:"idle_live_cold_sim_warm,omitempty"`
	// Odd are those minutes, and the minutes with more than one idle
	// instance held on average, in detail.
	Odd []OddMinute `json:"odd_minutes,omitempty"`
}

// OddMinute is one minute of a function where live and simulated
// differed, or more than one instance was held idle.
type OddMinute struct {
	Minute      int     `json:"minute"`
	Calls       int     `json:"calls"`
	Cold        int     `json:"cold"`
	IdleMinutes float64 `json:"idle_instance_minutes"`
	SimWarm     bool    `json:"sim_warm"`
}

// Row is one line of the table: the benchmark's figures of a policy on
// the replayed functions and minutes, measured (Source "live") or
// simulated ("sim"). WastedRel divides by the simulated fixed-10 figure of
// the same functions and minutes, for both.
type Row struct {
	Policy           string  `json:"policy"`
	Source           string  `json:"source"`
	Functions        int     `json:"functions"`
	ColdP50          float64 `json:"cold_p50"`
	ColdP75          float64 `json:"cold_p75"`
	ColdP90          float64 `json:"cold_p90"`
	ColdTotal        int     `json:"cold_total"`
	InvocationsTotal int     `json:"invocations_total"`
	WastedMBMin      float64 `json:"wasted_mb_min"`
	WastedRel        float64 `json:"wasted_rel"`
}

// RunInfo describes the run: what was replayed, how the calls kept to
// their schedule, and where live and simulated minutes disagreed.
type RunInfo struct {
	Gateway   string    `json:"gateway"`
	Policy    string    `json:"policy"`
	MinuteMs  float64   `json:"minute_ms"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	Selection string    `json:"selection"`
	Functions int       `json:"functions"`
	Started   time.Time `json:"started"`
	// ControllerFrom is the autoscaler's count of minutes at the first
	// replayed minute; AutoscalerMinutes how many minutes it counted
	// while the replay ran (want To − From + 1: its clock followed).
	ControllerFrom    int `json:"controller_minute_from"`
	AutoscalerMinutes int `json:"autoscaler_minutes"`
	// Calls were made, Errors failed (FirstError is one of them).
	Calls      int    `json:"calls"`
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Refused are the failed calls answered 429 (no runner had room
	// within the gateway's queue wait).
	Refused int `json:"refused_429"`
	// The lag of calls behind their schedule, and the calls that started
	// after their minute had ended (the machine did not keep up; they are
	// made all the same, and count in the minute they were meant for).
	LagP50Ms   float64 `json:"lag_p50_ms"`
	LagP99Ms   float64 `json:"lag_p99_ms"`
	LagMaxMs   float64 `json:"lag_max_ms"`
	LateCalls  int     `json:"calls_after_their_minute"`
	ColdCalls  int     `json:"cold_calls"`   // answers with Hearth-Cold-Start: true
	ColdMinute int     `json:"cold_minutes"` // minutes with at least one
	// IdleInstanceMinutes are all the idle instance-minutes the runners
	// held for the replayed functions, in minutes with calls too;
	// ScrapeFailures the minute boundaries whose reading failed.
	IdleInstanceMinutes float64 `json:"idle_instance_minutes"`
	ScrapeFailures      int     `json:"scrape_failures"`
	// CountedOtherwise are the function-minutes the autoscaler counted
	// otherwise than the calls made (its timeline, GET /v1/autoscaler);
	// CountsChecked how many it said anything of (0: not read).
	CountedOtherwise int           `json:"counted_otherwise"`
	CountsChecked    int           `json:"counts_checked"`
	Disagreements    Disagreements `json:"disagreements"`
}

// Disagreements count the function-minutes where the platform and the
// simulator differed.
type Disagreements struct {
	// Minutes with calls that had a cold start live but were warm in the
	// simulator (a prewarm that came late or was lost, an instance
	// retired under a call), and the other way round (an instance kept
	// that the policy did not ask for).
	LiveColdSimWarm int `json:"live_cold_sim_warm"`
	LiveWarmSimCold int `json:"live_warm_sim_cold"`
	// ExtraColdStarts are cold starts after the first in a minute (calls
	// that overlapped and needed a second instance); the simulator
	// counts at most one a minute.
	ExtraColdStarts int `json:"extra_cold_starts"`
	// Minutes without calls held warm live (at least half an
	// instance-minute) but cold in the simulator, and the other way round.
	IdleLiveWarmSimCold int `json:"idle_live_warm_sim_cold"`
	IdleLiveColdSimWarm int `json:"idle_live_cold_sim_warm"`
}

// cell is one function's minute, live.
type cell struct {
	calls, cold, errors int
	idleMinutes         float64 // instance-minutes held idle
}

// Run replays cfg's trace against the gateway and returns the report.
// Errors wrapping ErrUsage are about the request; the others about the
// trace, the gateway or the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Client == nil || cfg.Trace == nil {
		return nil, fmt.Errorf("%w: a replay needs a gateway and a trace", ErrUsage)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Minute != 0 && cfg.Minute < MinMinute {
		return nil, fmt.Errorf("%w: --minute %v: a replayed minute must last at least %v", ErrUsage, cfg.Minute, MinMinute)
	}
	picked, err := Select(cfg.Trace, cfg.From, cfg.To, cfg.Selection)
	if err != nil {
		return nil, err
	}
	if cfg.Policy != "" {
		ps, err := autoscaler.ParsePolicies(cfg.Policy)
		if err != nil || len(ps) != 1 {
			return nil, fmt.Errorf("%w: --policy %q: want one of fixed-K, hybrid, predictive", ErrUsage, cfg.Policy)
		}
	}
	transport := &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency + 4, IdleConnTimeout: time.Minute}
	httpc := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	defer transport.CloseIdleConnections()
	cl := *cfg.Client
	cl.HTTP = httpc
	cl.MaxRetries = 0 // a refused call counts as the platform answered it, not resent
	urls := cfg.MetricsURLs
	if len(urls) == 0 {
		urls = []string{cl.BaseURL + "/metrics"}
	}
	sc := &scraper{urls: urls, apiKey: cl.APIKey, http: httpc}

	st, err := waitForLeader(ctx, sc, cl.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Policy != "" && cfg.Policy != st.policy {
		return nil, fmt.Errorf("the gateway's autoscaler runs %s, not %s: replay against a gateway started with --autoscale %s, or pass --policy %s", st.policy, cfg.Policy, cfg.Policy, st.policy)
	}
	if cfg.Minute == 0 {
		cfg.Minute = st.minute
	}
	if cfg.Minute != st.minute {
		return nil, fmt.Errorf("the gateway's autoscaler minute is %v, not %v: start it with --autoscale-minute %v, or pass --minute %v", st.minute, cfg.Minute, cfg.Minute, st.minute)
	}
	policies, err := autoscaler.ParsePolicies(st.policy)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, cl: &cl, sc: sc, policy: policies[0], picked: picked, n: cfg.To - cfg.From + 1}
	r.ns = cl.Namespace
	if r.ns == "" {
		r.ns = "default"
	}
	r.progressf("replaying %d functions, minutes %d … %d, one minute per %v, against %s (policy %s)", len(picked), cfg.From, cfg.To, cfg.Minute, cl.BaseURL, st.policy)
	if err := r.deploy(ctx); err != nil {
		r.cleanup(ctx)
		return nil, err
	}
	defer r.cleanup(ctx)
	if err := r.replay(ctx); err != nil {
		return nil, err
	}
	return r.report(), nil
}

// MinMinute is the shortest replayed minute.
const MinMinute = 50 * time.Millisecond

// waitForLeader reads the gateway's autoscaler until it holds the lease:
// a gateway takes it at its first report after starting.
func waitForLeader(ctx context.Context, sc *scraper, gateway string) (autoscalerState, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := sc.autoscaler(ctx)
		switch {
		case errors.Is(err, errNoAutoscaler):
			return st, fmt.Errorf("the gateway at %s does not run the autoscaler: start it with --autoscale POLICY --autoscale-minute D (e.g. hearth dev --autoscale predictive --autoscale-minute 1s)", gateway)
		case err != nil:
			return st, fmt.Errorf("cannot reach the gateway's metrics: %w (is a gateway running at %s? start one with hearth dev --autoscale predictive --autoscale-minute 1s, or pass --gateway)", err, gateway)
		case st.leading:
			return st, nil
		case time.Now().After(deadline):
			return st, fmt.Errorf("the gateway at %s does not hold the autoscaler's lease (hearth_autoscaler_leader is 0): replay against the gateway that runs the controller", gateway)
		}
		t := time.NewTimer(min(st.minute, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-t.C: // polling the gateway, not waiting on a guess
		}
	}
}

// run is one replay in progress.
type run struct {
	cfg    Config
	cl     *client.Client
	sc     *scraper
	policy autoscaler.Policy
	ns     string
	picked []int // trace indices
	n      int   // minutes

	id       string
	names    []string       // deployed name of picked[k]
	byName   map[string]int // name → k
	memoryMB []int          // deployed memory of picked[k]
	deployed []bool

	controllerFrom, autoscalerMinutes int
	started                           time.Time

	seen []int // what the autoscaler counted, [k*n + i]; -1 unknown

	mu        sync.Mutex
	cells     []cell // [k*n + i]
	lags      []time.Duration
	late      int
	errs      int
	refused   int
	firstErr  string
	scrapeErr int
	runners   [][2]int // [i] wanted, ready at the start of minute i; -1 unknown
}

func (r *run) progressf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
	}
}

func (r *run) count(k, i int) int {
	return r.cfg.Trace.Functions[r.picked[k]].Counts[r.cfg.From-1+i]
}

// deployedMemory is the memory a function of the trace is deployed with:
// whole MB, rounded up, within the platform's limits.
func deployedMemory(mb float64) int {
	return min(max(int(math.Ceil(mb)), limits.MinMemoryMB), limits.MaxMemoryMB)
}

// deploy puts one copy of Function per picked function, a few at a time.
func (r *run) deploy(ctx context.Context) error {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	id := make([]byte, len(b))
	for i, x := range b {
		id[i] = digits[int(x)%len(digits)]
	}
	r.id = string(id)
	k := len(r.picked)
	r.names, r.memoryMB, r.deployed, r.byName = make([]string, k), make([]int, k), make([]bool, k), make(map[string]int, k)
	for j, i := range r.picked {
		r.names[j] = fmt.Sprintf("rp-%s-%d", r.id, i+1)
		r.byName[r.names[j]] = j
		r.memoryMB[j] = deployedMemory(r.cfg.Trace.Functions[i].MemoryMB)
	}
	r.progressf("deploying %d functions as rp-%s-ROW (ROW: the row of the trace) …", k, r.id)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for j := range r.picked {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f := &r.cfg.Trace.Functions[r.picked[j]]
			spec := &client.Spec{ABI: "reactor", MemoryMB: r.memoryMB[j], Description: "hearth replay " + r.id + " of trace function " + f.Name}
			// Not warmed: the simulator's model starts every function
			// cold, and the replay compares the two.
			_, err := r.cl.DeployWith(ctx, r.names[j], Function, spec, client.DeployOptions{Warm: client.WarmOff})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("deploy %s: %w", r.names[j], err)
			}
			r.deployed[j] = err == nil
		})
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// cleanup deletes what deploy put, unless asked to keep it.
func (r *run) cleanup(ctx context.Context) {
	if r.cfg.Keep {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for j, ok := range r.deployed {
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = r.cl.Delete(ctx, r.names[j])
		})
	}
	wg.Wait()
}

// sleepUntil waits for t or ctx: the replay's pacing of minutes.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// call is one invocation to make.
type call struct {
	k, i int // function, minute
	at   time.Time
}

// replay runs the minutes: calls on schedule, readings of the runners'
// idle time at every minute boundary, and the autoscaler's minute before
// and after.
func (r *run) replay(ctx context.Context) error {
	minute := r.cfg.Minute
	// Read the controller's minute in the middle of one, then start at
	// the next: the replay's first minute is the controller's next.
	now := time.Now()
	mid := autoscaler.MinuteStart(now, minute).Add(minute / 2)
	if now.After(mid) {
		mid = mid.Add(minute)
	}
	if err := sleepUntil(ctx, mid); err != nil {
		return err
	}
	st, err := r.sc.autoscaler(ctx)
	if err != nil {
		return fmt.Errorf("reading the autoscaler's minute: %w", err)
	}
	if !st.leading {
		return fmt.Errorf("the gateway lost the autoscaler's lease before the replay began")
	}
	start := autoscaler.MinuteStart(mid, minute).Add(minute)
	r.controllerFrom = st.current + 1
	r.started = start
	r.cells = make([]cell, len(r.picked)*r.n)
	r.seen = make([]int, len(r.picked)*r.n)
	for j := range r.seen {
		r.seen[j] = -1
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readings := make([]map[int]float64, r.n+1) // at the start of minute i; [n] at the end
	r.runners = make([][2]int, r.n)
	for i := range r.runners {
		r.runners[i] = [2]int{-1, -1}
	}
	var scrapes sync.WaitGroup
	scrapes.Go(func() { // the runners, a tenth into each minute (after the scaler is asked)
		for i := 0; i < r.n; i++ {
			if sleepUntil(rctx, start.Add(time.Duration(i)*minute+minute/10)) != nil {
				return
			}
			if wanted, ready, err := r.sc.runners(rctx); err == nil {
				r.runners[i] = [2]int{wanted, ready}
			}
		}
	})
	scrapes.Go(func() {
		for i := 0; i <= r.n; i++ {
			if sleepUntil(rctx, start.Add(time.Duration(i)*minute)) != nil {
				return
			}
			got, err := r.sc.scrape(rctx, idleSecondsMetric)
			if err != nil {
				r.mu.Lock()
				r.scrapeErr++
				r.mu.Unlock()
				continue
			}
			readings[i] = idleSeconds(got, r.ns, r.byName)
		}
	})

	scrapes.Go(func() { // the autoscaler's counts, every timelineEvery minutes
		for i := timelineEvery; i < r.n; i += timelineEvery {
			if sleepUntil(rctx, start.Add(time.Duration(i)*minute+minute/2)) != nil {
				return
			}
			_ = r.readTimeline(rctx, r.seen) // the last read says what the rest missed
		}
	})

	work := make(chan call)
	var workers sync.WaitGroup
	for range r.cfg.Concurrency {
		workers.Go(func() {
			for c := range work {
				r.invoke(rctx, c, start)
			}
		})
	}
	err = r.dispatch(rctx, start, work)
	close(work)
	workers.Wait()
	scrapes.Wait()
	if err != nil {
		return err
	}
	r.spreadIdle(readings)

	// The autoscaler's minute once more, in the middle of the one after
	// the replay: it should have counted as many minutes as were replayed.
	if err := sleepUntil(ctx, start.Add(time.Duration(r.n)*minute+minute/2)); err != nil {
		return err
	}
	if st, err := r.sc.autoscaler(ctx); err == nil && st.leading {
		r.autoscalerMinutes = st.current - r.controllerFrom
	}
	if err := r.readTimeline(ctx, r.seen); err != nil {
		r.progressf("the autoscaler's counts are not checked: %v", err)
	}
	return nil
}

// dispatch hands the calls to the workers on schedule, minute by minute.
// When every worker is busy it waits: a call is late, never dropped.
func (r *run) dispatch(ctx context.Context, start time.Time, work chan<- call) error {
	minute := r.cfg.Minute
	report := max(r.n/10, 1)
	for i := 0; i < r.n; i++ {
		begin := start.Add(time.Duration(i) * minute)
		var calls []call
		for k := range r.picked {
			for _, off := range callOffsets(r.count(k, i), minute) {
				calls = append(calls, call{k: k, i: i, at: begin.Add(off)})
			}
		}
		sort.Slice(calls, func(a, b int) bool { return calls[a].at.Before(calls[b].at) })
		for _, c := range calls {
			if err := sleepUntil(ctx, c.at); err != nil {
				return err
			}
			select {
			case work <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if (i+1)%report == 0 || i+1 == r.n {
			r.mu.Lock()
			made, cold := 0, 0
			for _, c := range r.cells {
				made += c.calls
				cold += c.cold
			}
			late, errs := r.late, r.errs
			r.mu.Unlock()
			r.progressf("minute %d (%d of %d): %d calls answered, %d cold, %d failed, %d after their minute", r.cfg.From+i, i+1, r.n, made, cold, errs, late)
		}
	}
	return nil
}

// invoke makes one call and counts what the platform answered.
func (r *run) invoke(ctx context.Context, c call, start time.Time) {
	began := time.Now()
	_, info, err := r.cl.Invoke(ctx, r.names[c.k], nil)
	if ctx.Err() != nil {
		return
	}
	end := start.Add(time.Duration(c.i+1) * r.cfg.Minute)
	r.mu.Lock()
	defer r.mu.Unlock()
	x := &r.cells[c.k*r.n+c.i]
	x.calls++
	if info != nil && info.Cold {
		x.cold++
	}
	if err != nil {
		x.errors++
		r.errs++
		if apiErr, ok := errors.AsType[*client.Error](err); ok && apiErr.Status == http.StatusTooManyRequests {
			r.refused++
		}
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	}
	r.lags = append(r.lags, began.Sub(c.at))
	if !began.Before(end) {
		r.late++
	}
}

// spreadIdle turns the readings at the minute boundaries into idle
// instance-minutes per function and minute; a boundary whose reading
// failed shares the difference evenly between the minutes it spans.
func (r *run) spreadIdle(readings []map[int]float64) {
	secs := r.cfg.Minute.Seconds()
	last := -1
	for i, m := range readings {
		if m == nil {
			continue
		}
		if last >= 0 {
			span := float64(i - last)
			for k := range r.picked {
				d := max(m[k]-readings[last][k], 0) / secs / span
				for j := last; j < i; j++ {
					r.cells[k*r.n+j].idleMinutes += d
				}
			}
		}
		last = i
	}
}

// report sums the live cells and the simulator's replay of the same
// functions and minutes, on the controller's count of minutes.
func (r *run) report() *Report {
	c0, n := r.controllerFrom, r.n
	if c0 < 1 {
		c0 = 1
	}
	// The simulator's trace: the picked functions with their deployed
	// memory, the window's counts at the controller's minutes c0 …
	// c0+n-1, no calls before (the live controller saw none).
	sim := &autoscaler.Trace{Functions: make([]autoscaler.Function, len(r.picked))}
	for k, i := range r.picked {
		f := r.cfg.Trace.Functions[i]
		counts := make([]int, c0+n-1)
		for j := 0; j < n; j++ {
			counts[c0-1+j] = r.count(k, j)
		}
		sim.Functions[k] = autoscaler.Function{Owner: f.Owner, App: f.App, Name: f.Name, Trigger: f.Trigger, MemoryMB: float64(r.memoryMB[k]), Counts: counts}
	}
	results := autoscaler.ReplayWindow(sim, []autoscaler.Policy{r.policy, autoscaler.FixedK(10)}, c0, c0+n-1)
	ref := results[1].WastedMBMin

	info := RunInfo{
		Gateway: r.cl.BaseURL, Policy: r.policy.Name(), MinuteMs: float64(r.cfg.Minute) / float64(time.Millisecond),
		From: r.cfg.From, To: r.cfg.To, Selection: selectionText(r.cfg.Selection), Functions: len(r.picked), Started: r.started.UTC(),
		ControllerFrom: c0, AutoscalerMinutes: r.autoscalerMinutes, Errors: r.errs, FirstError: r.firstErr,
		LateCalls: r.late, ScrapeFailures: r.scrapeErr, Refused: r.refused,
	}
	runners := make([]RunnerMinute, n)
	for j := range n {
		runners[j] = RunnerMinute{Minute: r.cfg.From + j, Wanted: r.runners[j][0], Ready: r.runners[j][1]}
		for k := range r.picked {
			runners[j].Calls += r.cells[k*n+j].calls
		}
	}
	outcomes := make([]autoscaler.Outcome, len(r.picked))
	fns := make([]FunctionReport, 0, len(r.picked))
	for k := range r.picked {
		f := &sim.Functions[k]
		warm := simWarm(r.policy, f, c0, n)
		o := &outcomes[k]
		fr := FunctionReport{Name: r.names[k], Trace: f.Name, MemoryMB: r.memoryMB[k]}
		for j := 0; j < n; j++ {
			m := r.cfg.From + j
			x := r.cells[k*n+j]
			want := r.count(k, j)
			info.Calls += x.calls
			info.ColdCalls += x.cold
			info.IdleInstanceMinutes += x.idleMinutes
			o.Invocations += want
			o.Cold += x.cold
			if x.cold > 0 {
				info.ColdMinute++
			}
			if x.cold > 1 {
				info.Disagreements.ExtraColdStarts += x.cold - 1
				fr.ExtraCold = append(fr.ExtraCold, m)
			}
			if want > 0 && !warm[j] {
				fr.ColdSim++
			}
			d := &info.Disagreements
			switch {
			case want > 0 && x.cold > 0 && warm[j]:
				d.LiveColdSimWarm++
				fr.ColdNotSim = append(fr.ColdNotSim, m)
			case want > 0 && x.cold == 0 && !warm[j]:
				d.LiveWarmSimCold++
				fr.WarmNotSim = append(fr.WarmNotSim, m)
			case want == 0:
				o.WastedMBMin += x.idleMinutes * f.MemoryMB
				if warm[j] {
					fr.WastedSim += f.MemoryMB
				}
				if x.idleMinutes >= 0.5 && !warm[j] {
					d.IdleLiveWarmSimCold++
					fr.IdleWarmOnly = append(fr.IdleWarmOnly, m)
				}
				if x.idleMinutes < 0.5 && warm[j] {
					d.IdleLiveColdSimWarm++
					fr.IdleColdOnly = append(fr.IdleColdOnly, m)
				}
			}
			if got := r.seen[k*n+j]; got >= 0 {
				info.CountsChecked++
				if got != want {
					info.CountedOtherwise++
					fr.CountedOtherwise = append(fr.CountedOtherwise, m)
				}
			}
			odd := x.cold > 1 || x.idleMinutes > 1.5 ||
				want > 0 && (x.cold > 0) == warm[j] ||
				want == 0 && (x.idleMinutes >= 0.5) != warm[j]
			if odd {
				fr.Odd = append(fr.Odd, OddMinute{Minute: m, Calls: x.calls, Cold: x.cold, IdleMinutes: math.Round(x.idleMinutes*100) / 100, SimWarm: warm[j]})
			}
		}
		fr.Invocations, fr.ColdLive, fr.WastedLive = o.Invocations, o.Cold, math.Round(o.WastedMBMin*10)/10
		fns = append(fns, fr)
	}
	if len(r.lags) > 0 {
		lags := slices.Clone(r.lags)
		slices.Sort(lags)
		ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
		info.LagP50Ms = ms(lags[(len(lags)-1)/2])
		info.LagP99Ms = ms(lags[(len(lags)*99+99)/100-1])
		info.LagMaxMs = ms(lags[len(lags)-1])
	}
	live := autoscaler.Summarize(r.policy.Name(), outcomes, ref)
	simulated := results[0]
	simulated.WastedRel = relative(simulated.WastedMBMin, ref)
	return &Report{Rows: []Row{row(live, "live"), row(simulated, "sim")}, Run: info, Functions: fns, Runners: runners}
}

// simWarm is the simulator's warm minutes of f over the window, driven as
// the replay drives it.
func simWarm(p autoscaler.Policy, f *autoscaler.Function, c0, n int) []bool {
	fp := p.New(f.Info())
	warm := make([]bool, n)
	for t := 1; t <= c0+n-1; t++ {
		w := fp.Warm(t)
		fp.Observe(t, f.Counts[t-1])
		if t >= c0 {
			warm[t-c0] = w
		}
	}
	return warm
}

func relative(x, ref float64) float64 {
	switch {
	case ref > 0:
		return x / ref
	case x == 0:
		return 1
	}
	return math.Inf(1)
}

func row(r autoscaler.Result, source string) Row {
	return Row{Policy: r.Policy, Source: source, Functions: r.Functions, ColdP50: r.ColdP50, ColdP75: r.ColdP75, ColdP90: r.ColdP90,
		ColdTotal: r.ColdTotal, InvocationsTotal: r.InvocationsTotal, WastedMBMin: r.WastedMBMin, WastedRel: r.WastedRel}
}

func selectionText(s Selection) string {
	switch {
	case s.Busiest > 0:
		return fmt.Sprintf("the %d busiest", s.Busiest)
	case s.Sample > 0:
		return fmt.Sprintf("a sample of %d, seed %d", s.Sample, s.Seed)
	}
	return "every function with calls"
}
