package cron

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; what it refuses gets an error that names
// the schedule; what it accepts re-parses to the same schedule, takes no
// sign, and fires after the time asked, on a whole minute or on a multiple
// of its period.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"*/5 * * * *", "0 9-17/2 1,15 1-6 1-5", "0 0 29 2 *", "1-5/2 3 * * 1,3", "5/15 * * * *",
		"0 0 * * 7", "@hourly", "@every 30s", "@every 1.5s", "@every 10ms", "+5 * * * *",
		"-5 * * * *", "60 * * * *", "* * *", "1,,2 * * * *", "@sometimes", "0 0 30 2 *",
	} {
		f.Add(s)
	}
	from := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "schedule ") {
				t.Fatalf("Parse(%q): error %q does not start with the schedule", spec, err)
			}
			return
		}
		if got := s.String(); got != strings.TrimSpace(spec) {
			t.Fatalf("Parse(%q).String() = %q", spec, got)
		}
		again, err := Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("Parse(%q) = %+v, but its String %q parses to %+v, %v", spec, s, s.String(), again, err)
		}
		if s.every == 0 && strings.ContainsAny(spec, "+") {
			t.Fatalf("Parse(%q) accepted a sign", spec)
		}
		next := s.Next(from)
		switch {
		case next.IsZero():
			if s.every > 0 {
				t.Fatalf("%q never fires", spec)
			}
		case !next.After(from):
			t.Fatalf("%q: next %s is not after %s", spec, next, from)
		case s.every > 0 && (next.Sub(from) > s.every || next.Sub(time.Unix(0, 0))%s.every != 0):
			t.Fatalf("%q: next %s is not the first multiple of %s after %s", spec, next, s.every, from)
		case s.every == 0 && next.Second() != 0:
			t.Fatalf("%q: next %s is not on a whole minute", spec, next)
		case s.every == 0 && !s.Next(next).IsZero() && !s.Next(next).After(next):
			t.Fatalf("%q: the fire after %s is %s", spec, next, s.Next(next))
		}
	})
}
