package cron_test

import (
	"fmt"
	"time"

	"github.com/hearthfn/hearth/internal/cron"
)

func ExampleParse() {
	from := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) // a Friday
	for _, spec := range []string{"0 9 * * 1-5", "@every 1.5s", "+5 * * * *"} {
		s, err := cron.Parse(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(spec, "→", s.Next(from).Format(time.RFC3339Nano))
	}
	// Output:
	// 0 9 * * 1-5 → 2026-11-30T09:00:00Z
	// @every 1.5s → 2026-11-27T10:00:01.5Z
	// schedule "+5 * * * *": minute "+5" must be a number from 0 to 59; a number takes no sign, write 5
}
