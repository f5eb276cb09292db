package replay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/internal/replay"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
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
