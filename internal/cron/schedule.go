package cron

import (
	"math/bits"
	"time"
)

// Schedule says when a cron trigger fires. Parse makes one; the zero
// Schedule never fires. A Schedule is a value and safe for concurrent use.
type Schedule struct {
	spec string
	// every is the period of @every; zero for a five-field schedule.
	every time.Duration
	// The five fields as bit sets: bit v is set when value v matches. The
	// day of week uses bits 0-6 (Sunday is 0).
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record a day field written exactly as *.
	domStar, dowStar bool
}

// horizon bounds the search for the next fire time: the longest gap
// between two 29 Februaries is eight years (2096 to 2104), and every
// schedule that can fire at all fires within it.
const horizon = 8

// Next is the first fire time strictly after t, in UTC, or the zero time
// if the schedule never fires (such as 0 0 30 2 *, the 30th of February).
// A five-field schedule fires on whole minutes; @every D fires on the
// multiples of D since the Unix epoch.
func (s Schedule) Next(t time.Time) time.Time {
	t = t.UTC()
	if s.every > 0 {
		return t.Add(-sinceMultiple(t, s.every)).Add(s.every)
	}
	if s.minute == 0 {
		return time.Time{} // the zero Schedule
	}
	t = t.Truncate(time.Minute).Add(time.Minute)
	for end := t.AddDate(horizon, 0, 0); t.Before(end); {
		if s.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !s.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if s.hour&(1<<uint(t.Hour())) == 0 {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if s.minute&(1<<uint(t.Minute())) == 0 {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// dayMatches follows cron: when both day fields are restricted, either
// matching is enough.
func (s Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dow
	case s.dowStar:
		return dom
	}
	return dom || dow
}

// String is the schedule as written, without surrounding white space.
func (s Schedule) String() string { return s.spec }

// sinceMultiple is how long ago, at t, the last multiple of d since the
// Unix epoch was: (t - epoch) mod d, in [0, d). It is exact for any t,
// even beyond the ±292 years a time.Duration spans.
func sinceMultiple(t time.Time, d time.Duration) time.Duration {
	ud := uint64(d)
	sec := t.Unix() % int64(d) // 1 s ≡ 10⁹ ns, so reduce the seconds first
	if sec < 0 {
		sec += int64(d)
	}
	hi, lo := bits.Mul64(uint64(sec), uint64(time.Second))
	lo, carry := bits.Add64(lo, uint64(t.Nanosecond()), 0)
	hi += carry
	return time.Duration(bits.Rem64(hi, lo, ud))
}
