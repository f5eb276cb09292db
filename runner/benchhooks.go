package runner

import (
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
)

// Names that only `hearth bench` (cmd/hearth/bench.go) uses, kept so that
// it builds: they are internal/abi's and internal/limits' names. Remove
// them once bench.go uses those packages.
const (
	ReactorAlloc       = abi.Alloc
	ReactorHandle      = abi.Handle
	DefaultMemoryMB    = limits.DefaultMemoryMB
	DefaultTimeout     = limits.DefaultTimeout
	DefaultOutputLimit = limits.DefaultOutputBytes
)
