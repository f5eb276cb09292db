package registry_test

import (
	"strings"
	"testing"

	"github.com/hearthfn/hearth/registry"
)

// TestValidateScheduleRefusesSigns is a regression test: the trigger
// manager's parser took "+5" for 5, so the one parser now refuses a sign
// both at deploy and when run.
func TestValidateScheduleRefusesSigns(t *testing.T) {
	for _, s := range []string{"+5 * * * *", "-5 * * * *", "0 0 * * +1", "*/+5 * * * *"} {
		err := registry.ValidateSchedule(s)
		if err == nil {
			t.Errorf("ValidateSchedule(%q) accepted a sign", s)
			continue
		}
		if !strings.Contains(err.Error(), "takes no sign") {
			t.Errorf("ValidateSchedule(%q) = %q; want it to say a number takes no sign", s, err)
		}
	}
	spec := registry.Spec{Triggers: []registry.Trigger{{Type: registry.TriggerCron, Schedule: "+5 * * * *"}}}
	if err := spec.Validate(); err == nil || !strings.Contains(err.Error(), `triggers[0]: schedule "+5 * * * *": minute "+5"`) {
		t.Errorf("a spec with schedule +5 * * * *: %v", err)
	}
}

func TestValidateScheduleAccepts(t *testing.T) {
	for _, s := range []string{"*/5 * * * *", "0 9-17/2 1,15 1-6 1-5", "0 0 * * 7", "@midnight", "@annually", "@every 1.5s", "@every 1h30m"} {
		if err := registry.ValidateSchedule(s); err != nil {
			t.Errorf("ValidateSchedule(%q): %v", s, err)
		}
	}
}
