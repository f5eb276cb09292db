package triggers

import (
	"testing"
	"time"
)

func TestSchedules(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec, from, want string
	}{
		{"*/5 * * * *", "2026-11-23T10:02:30Z", "2026-11-23T10:05:00Z"},
		{"*/5 * * * *", "2026-11-23T10:05:00Z", "2026-11-23T10:10:00Z"},
		{"0 9 * * 1-5", "2026-11-27T10:00:00Z", "2026-11-30T09:00:00Z"}, // Friday → Monday
		{"30 2 1 * *", "2026-11-23T00:00:00Z", "2026-12-01T02:30:00Z"},
		{"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"@hourly", "2026-11-23T10:59:59Z", "2026-11-23T11:00:00Z"},
		{"@daily", "2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z"},
		{"0 0 * * 7", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"},  // 7 = Sunday
		{"0 0 13 * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z"}, // the 13th or a Friday
		{"@every 30s", "2026-11-23T10:00:10Z", "2026-11-23T10:00:30Z"},
		{"@every 30s", "2026-11-23T10:00:30Z", "2026-11-23T10:01:00Z"},
		{"5,10-12 * * * *", "2026-11-23T10:10:00Z", "2026-11-23T10:11:00Z"},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if err != nil {
			t.Fatalf("%q: %v", tt.spec, err)
		}
		if got := s.Next(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%q after %s = %s, want %s", tt.spec, tt.from, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestBadSchedules(t *testing.T) {
	for _, spec := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", "@every 10ms", "@every soon", "@sometimes", "1,,2 * * * *"} {
		if _, err := ParseSchedule(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "@every 30s", "0 0 29 2 *", "1-5/2 3 * * 1,3", "@hourly"} {
		f.Add(s)
	}
	from := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec)
		if err != nil {
			return
		}
		if next := s.Next(from); !next.IsZero() && !next.After(from) {
			t.Fatalf("%q: next %s is not after %s", spec, next, from)
		}
	})
}
