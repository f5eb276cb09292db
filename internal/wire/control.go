package wire

// ControlSubject is where a runner takes the autoscaler's commands.
func ControlSubject(runnerID string) string { return RunnerSubjectPrefix + runnerID + ".control" }

// Control operations.
const (
	OpPrewarm = "prewarm" // make sure Instances idle instances exist (the module compiled, for a command)
	OpRetire  = "retire"  // close idle instances beyond Instances
)

// Control is a command to one runner about one function version.
type Control struct {
	Op        string   `json:"op"`
	Request   *Request `json:"request"` // the function version, as an invocation would name it
	Instances int      `json:"instances"`
}

// ControlReply answers a Control command.
type ControlReply struct {
	Changed int    `json:"changed"` // instances started or closed
	Error   string `json:"error,omitempty"`
}
