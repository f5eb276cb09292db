package registry

import (
	"fmt"
	"github.com/hearthfn/hearth/internal/wire"
	"regexp"
	"time"
)

// Defaults and bounds of a function spec, in one place (docs/limits.md).
const (
	DefaultMemoryMB  = 128
	MinMemoryMB      = 1
	MaxMemoryMB      = 4096
	DefaultTimeoutMs = 10_000
	MaxTimeoutMs     = 15 * 60 * 1000
	DefaultNamespace = "default"
	MaxConcurrency   = 10_000
	// DefaultMaxModuleBytes is the largest module a deploy accepts.
	DefaultMaxModuleBytes = 64 << 20
)

// ABIs a module can implement.
const (
	ABICommand = wire.ABICommand // WASI _start, a fresh instance per call
	ABIReactor = wire.ABIReactor // hearth_alloc + hearth_handle, pooled instances (docs/abi.md)
)

// namePattern is what function names and namespaces must match (API.md).
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// Spec is how a function runs. Zero values mean "the default".
type Spec struct {
	Description string `json:"description,omitempty"`
	MemoryMB    int    `json:"memory_mb,omitempty"`
	TimeoutMs   int    `json:"timeout_ms,omitempty"`
	// Concurrency caps the calls one runner runs at once; 0 means no cap
	// beyond the runner's own capacity.
	Concurrency int               `json:"concurrency,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
}

// withDefaults fills unset fields.
func (s Spec) withDefaults() Spec {
	if s.MemoryMB == 0 {
		s.MemoryMB = DefaultMemoryMB
	}
	if s.TimeoutMs == 0 {
		s.TimeoutMs = DefaultTimeoutMs
	}
	return s
}

// validate checks a spec that has its defaults applied.
func (s Spec) validate() error {
	if s.MemoryMB < MinMemoryMB || s.MemoryMB > MaxMemoryMB {
		return invalid(CodeInvalidSpec, "memory_mb is %d; it must be between %d and %d", s.MemoryMB, MinMemoryMB, MaxMemoryMB)
	}
	if s.TimeoutMs < 1 || s.TimeoutMs > MaxTimeoutMs {
		return invalid(CodeInvalidSpec, "timeout_ms is %d; it must be between 1 and %d (15 minutes)", s.TimeoutMs, MaxTimeoutMs)
	}
	if s.Concurrency < 0 || s.Concurrency > MaxConcurrency {
		return invalid(CodeInvalidSpec, "concurrency is %d; it must be between 0 (no cap) and %d", s.Concurrency, MaxConcurrency)
	}
	for k := range s.Env {
		if !envNamePattern.MatchString(k) {
			return invalid(CodeInvalidSpec, "env name %q is not valid; use letters, digits and _ and start with a letter or _", k)
		}
	}
	return nil
}

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Function is a deployed function: its versions, newest last.
type Function struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Versions  []Version `json:"versions"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Latest is the newest version.
func (f *Function) Latest() Version { return f.Versions[len(f.Versions)-1] }

// Version is one immutable deploy of a function.
type Version struct {
	Version   int       `json:"version"`
	Digest    string    `json:"digest"` // "sha256:<hex>"
	Size      int       `json:"size"`
	ABI       string    `json:"abi"`
	Spec      Spec      `json:"spec"`
	CreatedAt time.Time `json:"created_at"`
}

// DigestHex is the digest without its "sha256:" prefix.
func (v Version) DigestHex() string { return v.Digest[len("sha256:"):] }

// ValidateName checks a function name or namespace against the API's rule.
func ValidateName(kind, name string) error {
	if !namePattern.MatchString(name) {
		return invalid(CodeInvalidName, "%s %q is not valid: use 1 to 63 lowercase letters, digits and '-', starting with a letter", kind, name)
	}
	return nil
}

// Error codes of validation failures; the gateway answers them with 400.
const (
	CodeInvalidName    = "invalid_name"
	CodeInvalidSpec    = "invalid_spec"
	CodeInvalidModule  = "invalid_module"
	CodeModuleTooLarge = "module_too_large"
)

// ValidationError says what is wrong with a deploy.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

func invalid(code, format string, args ...any) error {
	return &ValidationError{Code: code, Message: fmt.Sprintf(format, args...)}
}
