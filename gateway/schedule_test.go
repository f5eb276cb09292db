package gateway

import (
	"testing"

	"github.com/hearthfn/hearth/gateway/triggers"
	"github.com/hearthfn/hearth/registry"
)

// FuzzScheduleAgreement: every cron schedule the registry accepts at
// deploy is one the trigger manager can run (the registry may be stricter).
func FuzzScheduleAgreement(f *testing.F) {
	for _, seed := range []string{"*/5 * * * *", "0 9-17/2 1,15 1-6 1-5", "0 0 * * 7", "@hourly", "@every 90s", "@every 1.5s", "5/15 * * * *", "60 * * * *", "* * *"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, schedule string) {
		if registry.ValidateSchedule(schedule) != nil {
			return
		}
		if _, err := triggers.ParseSchedule(schedule); err != nil {
			t.Fatalf("the registry accepts %q, the trigger manager does not: %v", schedule, err)
		}
	})
}
