//go:build !unix

package loadgen

import "time"

// ProcessCPU is the user+system CPU time this process has used so far;
// it is not measured on this platform and is always zero.
func ProcessCPU() time.Duration { return 0 }
