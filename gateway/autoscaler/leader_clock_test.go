package autoscaler

import (
	"testing"
	"time"
)

func TestMinuteStart(t *testing.T) {
	at := func(ms int64) time.Time { return time.UnixMilli(ms) }
	for _, tt := range []struct {
		t    time.Time
		tick time.Duration
		want time.Time
	}{
		{at(1_000_000_123), time.Second, at(1_000_000_000)},
		{at(1_000_000_000), time.Second, at(1_000_000_000)},
		{at(1_000_000_999), 500 * time.Millisecond, at(1_000_000_500)},
		{time.Date(2026, 12, 3, 17, 42, 13, 5, time.UTC), time.Minute, time.Date(2026, 12, 3, 17, 42, 0, 0, time.UTC)},
		{at(1_000_000_650), 700 * time.Millisecond, at(1_000_000_400)}, // 1 428 572 × 700 ms
		{at(-1), time.Second, at(-1000)},
	} {
		if got := MinuteStart(tt.t, tt.tick); !got.Equal(tt.want) {
			t.Errorf("MinuteStart(%v, %v) = %v, want %v", tt.t.UnixMilli(), tt.tick, got.UnixMilli(), tt.want.UnixMilli())
		}
	}
}

// TestNextReport: reports divide the minute into equal parts of at most
// 2 s, and the last one is the minute's end, on the epoch's multiples.
func TestNextReport(t *testing.T) {
	base := time.Date(2026, 12, 3, 17, 42, 0, 0, time.UTC)
	for _, tt := range []struct {
		tick    time.Duration
		after   time.Duration // after base
		want    time.Duration // after base
		wantEnd bool
	}{
		{time.Second, 0, time.Second, true},
		{time.Second, 999 * time.Millisecond, time.Second, true},
		{time.Second, time.Second, 2 * time.Second, true},
		{500 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, true},
		{time.Minute, 0, 2 * time.Second, false},
		{time.Minute, 57 * time.Second, 58 * time.Second, false},
		{time.Minute, 58 * time.Second, time.Minute, true},
		{time.Minute, 59*time.Second + 999*time.Millisecond, time.Minute, true},
		{3 * time.Second, 0, 1500 * time.Millisecond, false},
		{3 * time.Second, 1600 * time.Millisecond, 3 * time.Second, true},
	} {
		a := &Leader{cfg: LeaderConfig{Tick: tt.tick}}
		got, end := a.nextReport(base.Add(tt.after))
		if got.Sub(base) != tt.want || end != tt.wantEnd {
			t.Errorf("tick %v, at +%v: next report at +%v (end %v), want +%v (end %v)", tt.tick, tt.after, got.Sub(base), end, tt.want, tt.wantEnd)
		}
	}
}
