package runner

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/nats-io/nuid"
	"github.com/tetratelabs/wazero"

	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/tracing"
	"github.com/hearthfn/hearth/internal/wire"
)

// Config configures one runner.
type Config struct {
	ID       string // unique runner id; default hostname-pid-random
	CacheDir string // on-disk compilation cache; "" keeps compiled code in memory only
	// CompilationCache, when set, is used instead of CacheDir; the caller
	// owns it (hearth dev shares one with the registry's validator).
	CompilationCache wazero.CompilationCache
	Concurrency      int // invocations run at once; default 16 × GOMAXPROCS
	OutputLimit      int // default limits.DefaultOutputBytes
	// IdleTTL is how long an idle reactor instance is kept; default 10 min.
	IdleTTL time.Duration
	// HeartbeatInterval; default wire.HeartbeatInterval.
	HeartbeatInterval time.Duration
	// NoTieredStart turns off tiered start: a module not in a cache is
	// compiled before its first call runs, instead of starting on wazero's
	// interpreter while it compiles (see Engine).
	NoTieredStart bool
	// MetricsListen, when set, is the address (host:port; port 0 picks a
	// free one) where the runner role serves its Prometheus series on
	// /metrics (internal/stack starts that listener, as it does the
	// gateway's Listen): the runner's, the process's NATS and S3 series,
	// and Go's. "" serves none; a runner that shares a process with a
	// gateway is on the gateway's /metrics as well.
	MetricsListen string
	// Tracer, when it exports (tracing.NewOTLP), records a span for each
	// invocation, a child of the gateway's; nil records none (the trace id
	// still goes on the log lines).
	Tracer *tracing.Tracer
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = host + "-" + strconv.Itoa(os.Getpid()) + "-" + nuid.Next()[18:]
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16 * runtime.GOMAXPROCS(0)
	}
	if c.OutputLimit <= 0 {
		c.OutputLimit = limits.DefaultOutputBytes
	}
	if c.IdleTTL <= 0 {
		c.IdleTTL = 10 * time.Minute
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = wire.HeartbeatInterval
	}
	if c.CacheDir != "" {
		c.CacheDir = filepath.Clean(c.CacheDir)
	}
	return c
}
