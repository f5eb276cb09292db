package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// maxTicks bounds a CPU time read (about 29 years of CPU), so that the
// conversion to a Duration cannot overflow.
const maxTicks = 1 << 36

// processCPU is the user+system CPU time of each process, by role, read
// from /proc; a process it cannot read (not Linux, exited) is left out.
func processCPU(pids map[string]int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for role, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if t, err := parseProcStat(string(data)); err == nil {
			out[role] = t
		}
	}
	return out
}

// parseProcStat is utime+stime of a /proc/PID/stat line (proc(5)): the
// 14th and 15th fields, counted after the command name in parentheses,
// which may itself hold spaces and parentheses.
func parseProcStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name in %.80q", line)
	}
	fields := strings.Fields(line[i+1:]) // fields[0] is the state, the 3rd field
	if len(fields) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 || n > maxTicks {
			return 0, fmt.Errorf("proc stat: CPU time %q is not a count of ticks", f)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
