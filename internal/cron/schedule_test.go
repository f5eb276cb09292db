package cron

import (
	"testing"
	"time"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	tests := []struct {
		spec, from, want string
	}{
		{"*/5 * * * *", "2026-11-23T10:02:30Z", "2026-11-23T10:05:00Z"},
		{"*/5 * * * *", "2026-11-23T10:05:00Z", "2026-11-23T10:10:00Z"},
		{"* * * * *", "2026-11-23T10:05:00.000000001Z", "2026-11-23T10:06:00Z"},
		{"0 9 * * 1-5", "2026-11-27T10:00:00Z", "2026-11-30T09:00:00Z"}, // Friday → Monday
		{"30 2 1 * *", "2026-11-23T00:00:00Z", "2026-12-01T02:30:00Z"},
		{"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"}, // 2100 is no leap year
		{"0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"@hourly", "2026-11-23T10:59:59Z", "2026-11-23T11:00:00Z"},
		{"@daily", "2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z"},
		{"@weekly", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"},
		{"@monthly", "2026-11-23T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"@yearly", "2026-11-23T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"0 0 * * 7", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"},  // 7 = Sunday
		{"0 0 13 * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"}, // the 13th or a Friday
		{"0 0 13 * 5", "2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z"},
		{"0 0 */10 * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"}, // */10 restricts: OR
		{"0 0 13 * *", "2026-11-01T00:00:00Z", "2026-11-13T00:00:00Z"},   // day of week *: the 13th only
		{"0 0 * * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"},    // day of month *: Fridays only
		{"5,10-12 * * * *", "2026-11-23T10:10:00Z", "2026-11-23T10:11:00Z"},
		{"0 12 * * *", "2026-11-23T12:30:00-02:00", "2026-11-24T12:00:00Z"}, // UTC whatever the zone
		{"@every 30s", "2026-11-23T10:00:10Z", "2026-11-23T10:00:30Z"},
		{"@every 30s", "2026-11-23T10:00:30Z", "2026-11-23T10:01:00Z"},
		{"@every 1h", "1969-12-31T22:30:00Z", "1969-12-31T23:00:00Z"},
		{"@every 1h", "2500-01-01T00:30:00Z", "2500-01-01T01:00:00Z"}, // beyond time.Duration's 292 years
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec)
		if err != nil {
			t.Fatalf("%q: %v", tt.spec, err)
		}
		got := s.Next(at(t, tt.from))
		if !got.Equal(at(t, tt.want)) || got.Location() != time.UTC {
			t.Errorf("%q after %s = %s, want %s", tt.spec, tt.from, got.Format(time.RFC3339Nano), tt.want)
		}
	}
}

// TestEveryFractional is a regression test: the runtime parser truncated
// @every to whole seconds, so @every 1.5s, which deploys, ran every 1 s.
func TestEveryFractional(t *testing.T) {
	s, err := Parse("@every 1.5s")
	if err != nil {
		t.Fatal(err)
	}
	from := at(t, "2026-11-23T10:00:00.2Z")
	prev := s.Next(from)
	if off := prev.Sub(time.Unix(0, 0)) % (1500 * time.Millisecond); off != 0 {
		t.Fatalf("first fire %s is %s past a multiple of 1.5s since the epoch", prev.Format(time.RFC3339Nano), off)
	}
	for range 10 {
		next := s.Next(prev)
		if step := next.Sub(prev); step != 1500*time.Millisecond {
			t.Fatalf("@every 1.5s fired %s after %s, want 1.5s", step, prev.Format(time.RFC3339Nano))
		}
		prev = next
	}
}

// TestEveryEpochAligned: two gateways asking at different moments agree
// on the fire times, because @every counts from the Unix epoch.
func TestEveryEpochAligned(t *testing.T) {
	s, err := Parse("@every 7s")
	if err != nil {
		t.Fatal(err)
	}
	a := s.Next(at(t, "2026-11-23T10:00:00.001Z"))
	b := s.Next(a.Add(-time.Nanosecond))
	if !a.Equal(b) {
		t.Errorf("Next disagrees: %s and %s", a, b)
	}
	if a.Unix()%7 != 0 || a.Nanosecond() != 0 {
		t.Errorf("@every 7s fired at %s, not a multiple of 7s since the epoch", a)
	}
}

func TestNextNever(t *testing.T) {
	from := at(t, "2026-11-23T10:00:00Z")
	for _, spec := range []string{"0 0 30 2 *", "0 0 31 4,6,9,11 *"} {
		s, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(from); !got.IsZero() {
			t.Errorf("%q fires at %s; it never should", spec, got)
		}
	}
	if got := (Schedule{}).Next(from); !got.IsZero() {
		t.Errorf("the zero Schedule fires at %s", got)
	}
}
