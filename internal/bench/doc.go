// Package bench is the runner of `hearth bench`: it measures Hearth side
// by side with what a user would pick instead (a plain net/http server
// doing the same work, a raw wazero call of the same module) on loopback
// in one process, with one load generator (internal/loadgen).
//
// It is entered through Run:
//
//	report, err := bench.Run(ctx, bench.Config{Duration: 5 * time.Second}, bench.NewProgressBar(os.Stderr))
//	…
//	err = report.WriteTable(os.Stdout)
//
// Run runs the chosen cases (CaseNames lists them in the table's order)
// one after the other, starting the platform (`hearth dev`: NATS, S3, a
// gateway, a runner and the examples) the first time a case needs it, and
// returns a Report: the machine, the settings and one Result per case.
// A case that fails is reported as failed in its Result, and the others
// still run. Report.WriteTable prints the markdown table and its notes;
// the Report marshals to the JSON file of `hearth bench --json`.
//
// The Go benchmarks of single paths are beside the code they measure
// (go test -bench in gateway, gateway/async, gateway/auth, runner); this package is the
// end-to-end comparison.
package bench
