package bench

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// loadAverage is the one-minute load average, where the system says it.
func loadAverage() *float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	field, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(field, 64)
	if err != nil {
		return nil
	}
	return &v
}

// cpuModel is the processor's name, where the system says it.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// buildVersions are wazero's version and the source revision, where the
// build recorded them.
func buildVersions() (wazeroVersion, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/tetratelabs/wazero" {
			wazeroVersion = dep.Version
		}
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return wazeroVersion, revision
}
