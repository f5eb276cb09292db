package autoscaler

import (
	"context"
	"fmt"
	"testing"
)

// recordingWarmer notes the controller's commands.
type recordingWarmer struct{ log []string }

func (w *recordingWarmer) Prewarm(_ context.Context, fn FunctionKey) error {
	w.log = append(w.log, "prewarm "+fn.Name)
	return nil
}

func (w *recordingWarmer) Retire(_ context.Context, fn FunctionKey) error {
	w.log = append(w.log, "retire "+fn.Name)
	return nil
}

// TestControllerMatchesReplay drives a controller with a trace's counts and
// checks it decides exactly what the replay's policy decides.
func TestControllerMatchesReplay(t *testing.T) {
	counts := make([]int, 300)
	for m := 7; m < 300; m += 7 { // a timer every 7 minutes
		counts[m-1] = 1
	}
	for _, p := range []Policy{FixedK(10), Hybrid(), Predictive()} {
		t.Run(p.Name(), func(t *testing.T) {
			w := &recordingWarmer{}
			c := NewController(p, w, nil)
			ref := p.New(FunctionInfo{MemoryMB: DefaultMemoryMB})
			fn := FunctionKey{"default", "timer"}
			wasWarm := false
			for m := 1; m <= len(counts); m++ {
				c.Record(fn, counts[m-1])
				w.log = nil
				decisions := c.Tick(context.Background())
				ref.Warm(m)
				ref.Observe(m, counts[m-1])
				want := ref.Warm(m + 1)
				switch {
				case want:
					if len(w.log) != 1 || w.log[0] != "prewarm timer" {
						t.Fatalf("minute %d: commands %v, want a prewarm", m+1, w.log)
					}
				case wasWarm || counts[m-1] > 0: // turned cold, or called and cold next
					if len(w.log) != 1 || w.log[0] != "retire timer" {
						t.Fatalf("minute %d: commands %v, want a retire", m+1, w.log)
					}
				default:
					if len(w.log) != 0 {
						t.Fatalf("minute %d: commands %v, want none", m+1, w.log)
					}
				}
				if len(decisions) > 0 && decisions[0].Minute != m+1 {
					t.Fatalf("decision for minute %d at tick %d", decisions[0].Minute, m)
				}
				wasWarm = want
			}
		})
	}
}

func TestControllerResumes(t *testing.T) {
	fn := FunctionKey{"default", "timer"}
	first := NewController(Hybrid(), &recordingWarmer{}, nil)
	for m := 1; m <= 100; m++ {
		if m%5 == 0 {
			first.Record(fn, 1)
		}
		first.Tick(context.Background())
	}
	// A new controller resumes from the history and decides as the first.
	second := NewController(Hybrid(), &recordingWarmer{}, nil)
	second.Resume(first.History())
	for m := 101; m <= 150; m++ {
		w1, w2 := &recordingWarmer{}, &recordingWarmer{}
		first.warmer, second.warmer = w1, w2
		if m%5 == 0 {
			first.Record(fn, 1)
			second.Record(fn, 1)
		}
		first.Tick(context.Background())
		second.Tick(context.Background())
		if fmt.Sprint(w1.log) != fmt.Sprint(w2.log) {
			t.Fatalf("minute %d: resumed controller did %v, the original %v", m, w2.log, w1.log)
		}
	}
}

func TestControllerReportsForecastAgainstActual(t *testing.T) {
	c := NewController(FixedK(10), &recordingWarmer{}, nil)
	fn := FunctionKey{"default", "f"}
	c.Record(fn, 3)
	c.Tick(context.Background())
	if got := c.LastMinute(); len(got) != 1 || got[0].Count != 3 || got[0].Forecast {
		t.Fatalf("first minute: %+v; want 3 calls, not forecast", got)
	}
	if d := c.Decisions(); len(d) != 1 || !d[0].Warm || d[0].Minute != 2 {
		t.Fatalf("forecast for minute 2: %+v", d)
	}
	c.Record(fn, 1)
	c.Tick(context.Background())
	if got := c.LastMinute(); got[0].Count != 1 || !got[0].Forecast {
		t.Fatalf("second minute: %+v; want 1 call that was forecast (a cold start avoided)", got)
	}
}
