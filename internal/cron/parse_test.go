package cron

import (
	"strings"
	"testing"
	"time"
)

func TestParseAccepts(t *testing.T) {
	for _, spec := range []string{
		"* * * * *",
		"*/5 * * * *",
		"0 9-17/2 1,15 1-6 1-5",
		"5/15 * * * *",
		"0 0 * * 7",
		"0 0 * * 0-7",
		"00 09 01 01 *", // leading zeros
		"59 23 31 12 7",
		"1,2,3-5,10-20/5 * * * *",
		"  0  0\t* * *  ", // any white space
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
		"@every 1s", "@every 1.5s", "@every 90s", "@every 1h30m", "@every  5m",
	} {
		if _, err := Parse(spec); err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"", "schedule is empty; write five fields"},
		{"   ", "schedule is empty"},
		{"* * * *", `schedule "* * * *" has 4 fields; a cron schedule has 5: minute hour day-of-month month day-of-week`},
		{"* * * * * *", "has 6 fields"},
		{"60 * * * *", `minute "60" must be a number from 0 to 59`},
		{"* 24 * * *", `hour "24" must be a number from 0 to 23`},
		{"* * 0 * *", `day of month "0" must be a number from 1 to 31`},
		{"* * 32 * *", `day of month "32"`},
		{"* * * 0 *", `month "0" must be a number from 1 to 12`},
		{"* * * 13 *", `month "13"`},
		{"* * * JAN *", `month "JAN" must be a number from 1 to 12`},
		{"* * * * 8", `day of week "8" must be a number from 0 to 7`},
		{"* * * * MON", `day of week "MON"`},
		{"0 0 ? * *", `day of month "?"`},
		{"+5 * * * *", `minute "+5" must be a number from 0 to 59; a number takes no sign, write 5`},
		{"-5 * * * *", `minute "-5" must be a number from 0 to 59, or a range N-M such as 0-59; a number takes no sign`},
		{"1-+5 * * * *", `minute "+5"`},
		{"*/+5 * * * *", `minute step "+5" must be a number from 1 to 59, such as */5; a number takes no sign, write 5`},
		{"*/0 * * * *", `minute step "0" must be a number from 1 to 59, such as */5`},
		{"*/60 * * * *", `minute step "60"`},
		{"*/ * * * *", `minute step ""`},
		{"0 10-2 * * *", "hour range 10-2 runs backwards; write the smaller number first (2-10)"},
		{"1,,2 * * * *", `minute "1,,2" has an empty item; separate values with single commas`},
		{"1, * * * *", "has an empty item"},
		{"1 2 3 4 5x", `day of week "5x"`},
		{"a * * * *", `minute "a" must be a number from 0 to 59`},
		{"5-1 * * * *", "minute range 5-1 runs backwards"},
		{"99999999999999999999 * * * *", `minute "99999999999999999999" must be a number`},
		{"*-5 * * * *", `minute "*"`},
		{"@sometimes", `schedule "@sometimes" is not a known descriptor; use @yearly, @monthly, @weekly, @daily, @hourly, @every DURATION or five fields`},
		{"@Daily", "is not a known descriptor"},
		{"@daily 5", "@daily takes nothing after it"},
		{"@every", "@every takes one duration, such as @every 90s"},
		{"@every 1m 30s", "@every takes one duration"},
		{"@every soon", `"soon" is not a duration such as 90s, 1.5s or 1h30m`},
		{"@every 10ms", `the period 10ms is too short; @every must be at least 1s`},
		{"@every 999ms", "at least 1s"},
		{"@every 0s", "too short"},
		{"@every -5s", "too short"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		if err == nil {
			t.Errorf("Parse(%q) accepted", tt.spec)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %q, want it to contain %q", tt.spec, err, tt.want)
		}
	}
}

// TestParseRefusesSigns is a regression test: the runtime parser read
// fields with strconv.Atoi, which takes a sign, so "+5 * * * *" ran
// (at minute 5) although the registry refused it at deploy.
func TestParseRefusesSigns(t *testing.T) {
	for _, spec := range []string{"+5 * * * *", "-5 * * * *", "0 +1 * * *", "0 0 1-+5 * *", "*/+5 * * * *", "0 0 * * +1"} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted a sign", spec)
		}
	}
}

// TestDescriptors: each descriptor is the five fields it names, and
// Sunday written 7 is Sunday written 0.
func TestDescriptors(t *testing.T) {
	same := map[string]string{
		"@yearly":       "0 0 1 1 *",
		"@annually":     "0 0 1 1 *",
		"@monthly":      "0 0 1 * *",
		"@weekly":       "0 0 * * 0",
		"@daily":        "0 0 * * *",
		"@midnight":     "0 0 * * *",
		"@hourly":       "0 * * * *",
		"0 0 * * 7":     "0 0 * * 0",
		"0 0 * * 5-7":   "0 0 * * 0,5,6",
		"*/20 * * * *":  "0,20,40 * * * *",
		"10/20 * * * *": "10,30,50 * * * *",
	}
	for a, b := range same {
		sa, err := Parse(a)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		sa.spec, sb.spec = "", ""
		if sa != sb {
			t.Errorf("%q = %+v, want %q = %+v", a, sa, b, sb)
		}
	}
}

func TestString(t *testing.T) {
	s, err := Parse("  */5 * * * *\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "*/5 * * * *" {
		t.Errorf("String() = %q", got)
	}
	if e, _ := Parse("@every 1.5s"); e.every != 1500*time.Millisecond {
		t.Errorf("@every 1.5s has period %s", e.every)
	}
}
