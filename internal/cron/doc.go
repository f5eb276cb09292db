// Package cron reads the schedules of cron triggers and says when they
// fire. It is the one parser of schedules in Hearth: the registry calls
// Parse to refuse a bad schedule at deploy (registry.ValidateSchedule), and
// the trigger manager (gateway/triggers) calls it to run the schedule, so
// what deploys is exactly what runs.
//
// The entry point is Parse, which turns a schedule such as "*/5 * * * *",
// "@daily" or "@every 90s" into a Schedule; Schedule.Next gives the first
// fire time after a given time. All times are UTC.
//
// A schedule is one of:
//
//   - five fields, minute (0-59) hour (0-23) day-of-month (1-31) month
//     (1-12) day-of-week (0-7, 0 and 7 are Sunday), each *, N, N-M, */S,
//     N-M/S or N/S (N up to the largest value, every S), or a comma list
//     of those. Numbers are plain decimal digits: no sign, no names (JAN,
//     MON). When both day fields are restricted (neither is exactly *),
//     a day matches if either matches, as in Vixie cron;
//   - a descriptor: @yearly or @annually (0 0 1 1 *), @monthly
//     (0 0 1 * *), @weekly (0 0 * * 0), @daily or @midnight (0 0 * * *),
//     @hourly (0 * * * *);
//   - @every D, where D is a Go duration of at least MinEvery (1s). It
//     fires on the multiples of D since the Unix epoch, exactly D apart
//     (@every 1.5s fires every 1.5 s), so every gateway computes the same
//     fire times.
//
// The package depends only on the standard library.
package cron
