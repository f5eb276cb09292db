package runner

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Limits that apply when a function's spec does not set its own. These are
// the platform's documented defaults (docs/limits.md).
const (
	DefaultMemoryMB    = 128
	DefaultTimeout     = 10 * time.Second
	MaxTimeout         = 15 * time.Minute
	DefaultOutputLimit = 32 << 20 // bytes of stdout per call
	StderrTailLimit    = 16 << 10 // bytes of stderr returned with a response
)

// Config configures one runner.
type Config struct {
	ID          string // unique runner id; default hostname-pid
	CacheDir    string // on-disk compilation cache; "" disables it
	Concurrency int    // invocations run at once; default 16 × GOMAXPROCS
	OutputLimit int    // default DefaultOutputLimit
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = host + "-" + strconv.Itoa(os.Getpid())
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16 * runtime.GOMAXPROCS(0)
	}
	if c.OutputLimit <= 0 {
		c.OutputLimit = DefaultOutputLimit
	}
	if c.CacheDir != "" {
		c.CacheDir = filepath.Clean(c.CacheDir)
	}
	return c
}
