package replay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/replay"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/runner"
	"github.com/hearthfn/hearth/sdk/client"
)

// synthetic is a trace whose cold starts under fixed-2 are known exactly:
// a is called in minutes 1, 2 and 5 (cold in 1 and 5: minute 5 is three
// after the last call), b three times in minute 1 and once in minute 6
// (cold in 1 and 6); c never in the window. Warm without calls, fixed-2:
// a 3, 4, 6, 7; b 2, 3, 7, 8.
func synthetic() *autoscaler.Trace {
	mk := func(name string, mb float64, calls map[int]int) autoscaler.Function {
		f := autoscaler.Function{Owner: "o", App: name, Name: name, MemoryMB: mb, Counts: make([]int, autoscaler.Minutes)}
		for m, n := range calls {
			f.Counts[m-1] = n
		}
		return f
	}
	return &autoscaler.Trace{Functions: []autoscaler.Function{
		mk("a", 100, map[int]int{1: 1, 2: 2, 5: 1}),
		mk("b", 300, map[int]int{1: 3, 6: 1}),
		mk("c", 128, map[int]int{100: 1}),
	}}
}

// TestReplayCountsLiveColdStarts replays the synthetic trace against a dev
// stack whose autoscaler runs fixed-2 with a 500 ms minute: the cold
// starts come from the platform's answers and are exactly the
// simulator's, the runners' idle time makes about the simulator's waste,
// and the autoscaler counted as many minutes as were replayed.
func TestReplayCountsLiveColdStarts(t *testing.T) {
	minute := 500 * time.Millisecond
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{Autoscale: "fixed-2", AutoscaleTick: minute}})
	var progress strings.Builder
	rep, err := replay.Run(context.Background(), replay.Config{
		Client: client.New(s.GatewayURL), Trace: synthetic(), Policy: "fixed-2", Minute: minute,
		From: 1, To: 8, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, progress.String())
	}
	t.Logf("%+v", rep.Run)
	for _, f := range rep.Functions {
		t.Logf("%+v", f)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Source != "live" || rep.Rows[1].Source != "sim" || rep.Rows[0].Policy != "fixed-2" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	live, sim := rep.Rows[0], rep.Rows[1]
	if sim.ColdTotal != 4 || sim.InvocationsTotal != 8 || sim.Functions != 2 || sim.WastedMBMin != 4*100+4*300 {
		t.Fatalf("sim %+v, want 4 cold starts in 8 calls of 2 functions, 1600 MB-min wasted", sim)
	}
	if rep.Run.Calls != 8 || rep.Run.Errors != 0 {
		t.Fatalf("%d calls, %d failed (%s); want 8 made", rep.Run.Calls, rep.Run.Errors, rep.Run.FirstError)
	}
	if live.ColdTotal != 4 || live.ColdP50 != sim.ColdP50 || live.ColdP90 != sim.ColdP90 || rep.Run.ColdCalls != 4 {
		t.Fatalf("live %+v, want the simulator's 4 cold starts (%+v)", live, rep.Run.Disagreements)
	}
	if live.WastedMBMin < 0.8*sim.WastedMBMin || live.WastedMBMin > 1.2*sim.WastedMBMin {
		t.Errorf("live waste %.1f MB-min, sim %.1f: more than 20 %% apart", live.WastedMBMin, sim.WastedMBMin)
	}
	if rep.Run.CountsChecked != 2*8 || rep.Run.CountedOtherwise != 0 {
		t.Errorf("the autoscaler counted %d of %d function-minutes otherwise, want 0 of 16", rep.Run.CountedOtherwise, rep.Run.CountsChecked)
	}
	if rep.Run.AutoscalerMinutes != 8 {
		t.Errorf("the autoscaler counted %d minutes while 8 were replayed at %v: its clock does not follow", rep.Run.AutoscalerMinutes, minute)
	}
	// The replay's functions are gone from the gateway.
	fns, err := client.New(s.GatewayURL).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if strings.HasPrefix(f.Name, "rp-") {
			t.Errorf("%s is left on the gateway", f.Name)
		}
	}
	var table strings.Builder
	if err := replay.WriteTable(&table, rep); err != nil || !strings.Contains(table.String(), "| fixed-2 | live − sim |") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
}

// TestReplayChecksTheGateway: a policy or minute other than the gateway's,
// or no autoscaler at all, is refused before anything is deployed.
func TestReplayChecksTheGateway(t *testing.T) {
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{Autoscale: "hybrid", AutoscaleTick: time.Second}})
	off := stacktest.Dev(t, t.TempDir())
	for _, tt := range []struct {
		url, policy string
		minute      time.Duration
		mention     string
	}{
		{s.GatewayURL, "predictive", time.Second, "runs hybrid"},
		{s.GatewayURL, "hybrid", 2 * time.Second, "--autoscale-minute 2s"},
		{off.GatewayURL, "hybrid", time.Second, "does not run the autoscaler"},
		{"http://127.0.0.1:1", "hybrid", time.Second, "cannot reach"},
	} {
		_, err := replay.Run(context.Background(), replay.Config{Client: client.New(tt.url), Trace: synthetic(), Policy: tt.policy, Minute: tt.minute, From: 1, To: 8})
		if err == nil || !strings.Contains(err.Error(), tt.mention) || errors.Is(err, replay.ErrUsage) {
			t.Errorf("%s %s %v: %v, want an error mentioning %q", tt.url, tt.policy, tt.minute, err, tt.mention)
		}
	}
	fns, _ := client.New(s.GatewayURL).List(context.Background())
	for _, f := range fns {
		if strings.HasPrefix(f.Name, "rp-") {
			t.Errorf("%s deployed by a refused replay", f.Name)
		}
	}
}

// TestReplayRunnersLeadTheBursts replays a trace with one 512 MB function
// called in bursts every 10 minutes against a dev stack whose autoscaler
// (hybrid) sizes real runners (stacktest.RunnerScaler, 2 calls and so
// 256 MB each). Once hybrid has learned the period, the replay's runner
// readings show the runners asked for at the start of each burst minute,
// none in the minutes between, and no call refused with 429.
func TestReplayRunnersLeadTheBursts(t *testing.T) {
	const (
		minute = 150 * time.Millisecond
		period = 10
		bursts = 14
	)
	calls := map[int]int{}
	for b := range bursts {
		calls[1+b*period] = 3
	}
	f := autoscaler.Function{Owner: "o", App: "burst", Name: "burst", MemoryMB: 512, Counts: make([]int, autoscaler.Minutes)}
	for m, n := range calls {
		f.Counts[m-1] = n
	}
	scaler := &stacktest.RunnerScaler{T: t}
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{Autoscale: "hybrid", AutoscaleTick: minute, MaxRunners: 3, HeartbeatInterval: stacktest.Beat},
		Runner:  runner.Config{Concurrency: 2, HeartbeatInterval: stacktest.Beat},
		Scaler: func(natsURL string, s3 objstore.Config) autoscaler.Scaler {
			scaler.Conn = stack.Conn{NATSURL: natsURL, S3: s3}
			return scaler
		},
	})
	t.Cleanup(func() { _ = scaler.Scale(context.Background(), 0) }) // before the stack's NATS stops
	last := 1 + (bursts-1)*period
	var progress strings.Builder
	rep, err := replay.Run(context.Background(), replay.Config{
		Client: client.New(s.GatewayURL), Trace: &autoscaler.Trace{Functions: []autoscaler.Function{f}},
		Policy: "hybrid", Minute: minute, From: 1, To: last + 1, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, progress.String())
	}
	if rep.Run.Errors != 0 || rep.Run.Refused != 0 {
		t.Fatalf("%d calls failed, %d refused with 429 (%s)", rep.Run.Errors, rep.Run.Refused, rep.Run.FirstError)
	}
	if len(rep.Runners) != last+1 {
		t.Fatalf("%d runner readings, want one per minute (%d)", len(rep.Runners), last+1)
	}
	var line strings.Builder
	for _, m := range rep.Runners[len(rep.Runners)-3*period-1:] {
		fmt.Fprintf(&line, " %d:%d/%d", m.Calls, m.Wanted, m.Ready)
	}
	t.Logf("the last three periods, calls:wanted/ready per minute:%s", line.String())
	// The last three bursts, after hybrid has learned the period.
	for b := bursts - 3; b < bursts; b++ {
		at := b * period // index of the burst's minute
		if got := rep.Runners[at]; got.Calls != 3 || got.Wanted < 1 {
			t.Errorf("burst minute %d: %+v, want 3 calls with runners asked for before them", got.Minute, got)
		}
		gap := false
		for _, m := range rep.Runners[at-period+1 : at] {
			gap = gap || m.Wanted == 0
		}
		if !gap {
			t.Errorf("before burst minute %d the runners were never let go: %+v", rep.Runners[at].Minute, rep.Runners[at-period+1:at])
		}
	}
	var table strings.Builder
	if err := replay.WriteTable(&table, rep); err != nil || !strings.Contains(table.String(), "0 calls refused with 429") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
}
