package bench

// Result is one case's measurements, as written to the JSON file.
type Result struct {
	Name  string   `json:"name"`
	RPS   float64  `json:"rps"`
	P50   *float64 `json:"p50_us"` // null where there is no per-operation latency
	P99   *float64 `json:"p99_us"`
	Ratio *float64 `json:"ratio"` // rps / rps of bare-nethttp; null without it
	// Rate is the requests a second of an open-loop row (--rate, --rates);
	// absent for a closed loop.
	Rate float64  `json:"rate,omitempty"`
	Mean *float64 `json:"mean_us,omitempty"`
	Ops  int64    `json:"ops"`
	// Errors are operations that failed (counted, not timed).
	Errors int64 `json:"errors"`
	// CPUPerOp is the whole process's CPU time per operation: server and
	// load generator (and, for hearth cases, NATS and S3) together.
	CPUPerOp *float64 `json:"cpu_us_per_op,omitempty"`
	// ServerCPUPerOp is CPUPerOp less the load generator's share, told
	// apart by a CPU profile of the case (HTTP cases): the server's CPU
	// per request, ±3 % (profile sampling).
	ServerCPUPerOp *float64 `json:"server_cpu_us_per_op,omitempty"`
	// ProcessCPUPerOp is, for the cluster cases, each server process's CPU
	// time per operation (µs) by role: gateway, nats, runner. Their sum is
	// ServerCPUPerOp, measured exactly (no profile split).
	ProcessCPUPerOp map[string]float64 `json:"process_cpu_us_per_op,omitempty"`
	// CPUCores is the process's CPU time per second of the measured period:
	// how many cores the case kept busy. Below GOMAXPROCS, the case was
	// bound by latency, or other processes took the CPUs (see Load1).
	CPUCores *float64 `json:"cpu_cores,omitempty"`
	// Load1 is the system's one-minute load average when the case ended;
	// on a shared machine it shows other work competing for the CPUs.
	Load1   *float64 `json:"load1,omitempty"`
	Measure string   `json:"measure"`
	Note    string   `json:"note,omitempty"`
	// Failed is why the case failed; empty when it did not.
	Failed string `json:"failed,omitempty"`
}

// Report is a run: the machine, the settings and the results of the cases
// in the order they ran. It marshals to the JSON file of `hearth bench
// --json`.
type Report struct {
	Date        string    `json:"date"`
	GoVersion   string    `json:"go_version"`
	OS          string    `json:"os"`
	Arch        string    `json:"arch"`
	CPU         string    `json:"cpu,omitempty"`
	NumCPU      int       `json:"num_cpu"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Wazero      string    `json:"wazero,omitempty"`
	Revision    string    `json:"revision,omitempty"`
	Concurrency int       `json:"concurrency"`
	Rate        float64   `json:"rate,omitempty"`  // requests a second of an open loop; absent: closed loop
	Rates       []float64 `json:"rates,omitempty"` // --rates: the fractions of bare-nethttp's closed-loop maximum
	Duration    string    `json:"duration"`
	BodyBytes   int       `json:"body_bytes"`
	Cases       []Result  `json:"cases"`
}

// Failed are the names of the cases that failed.
func (r *Report) Failed() []string {
	var failed []string
	for _, c := range r.Cases {
		if c.Failed != "" {
			failed = append(failed, c.Name)
		}
	}
	return failed
}

// find is the result of the case called name; nil when it did not run.
func find(cases []Result, name string) *Result {
	for i := range cases {
		if cases[i].Name == name {
			return &cases[i]
		}
	}
	return nil
}
