package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
)

// DefaultNamespace is the namespace of a function deployed without one.
const DefaultNamespace = "default"

// The limits a spec is validated against are in internal/limits
// (docs/limits.md); these are the timeout's in the spec's unit.
const (
	defaultTimeoutMs = int(limits.DefaultTimeout / time.Millisecond)
	minTimeoutMs     = int(limits.MinTimeout / time.Millisecond)
	maxTimeoutMs     = int(limits.MaxTimeout / time.Millisecond)
)

// validName reports whether s can be a function name, namespace or alias:
// 1 to 63 lowercase letters, digits and '-', starting with a letter (the
// regular expression ^[a-z][a-z0-9-]{0,62}$, checked by hand because it
// runs on every invocation).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Spec is how a function runs. Zero values mean "the default"; Deploy
// stores every version's spec with its defaults filled in.
type Spec struct {
	// Name and Namespace, when a spec document gives them, must match the
	// deploy's; the stored spec always has them.
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Description string `json:"description,omitempty"`
	// ABI, when given (abi.Command or abi.Reactor), must be the ABI detected
	// from the module's exports; the stored spec has the detected one.
	ABI       string `json:"abi,omitempty"`
	MemoryMB  int    `json:"memory_mb,omitempty"`
	TimeoutMs int    `json:"timeout_ms,omitempty"`
	// Concurrency caps the calls one runner runs at once; 0 means no cap
	// beyond the runner's own capacity.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxPayload is the largest request body in bytes a call may send; 0
	// means the gateway's limit.
	MaxPayload int `json:"max_payload,omitempty"`
	// Records says which sync calls leave an invocation record (and their
	// logs): RecordsAll (the default), RecordsErrors or RecordsNone. Async
	// invocations always have one: it is how they are followed.
	Records string            `json:"records,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	// Secrets names the secrets the function is granted; only the names
	// are stored here, never values.
	// The function sees each as the environment variable of its name
	// upper-cased with '-' as '_' (SecretEnvName).
	Secrets []string `json:"secrets,omitempty"`
	// RateLimit caps the calls of the function through HTTP (sync, async
	// intake, /fn/) on each gateway: a token bucket.
	RateLimit *RateLimit        `json:"rate_limit,omitempty"`
	Triggers  []Trigger         `json:"triggers,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// The records policies of a spec (docs/decisions/0014).
const (
	RecordsAll    = "all"    // every sync call is recorded (the default)
	RecordsErrors = "errors" // only sync calls that failed
	RecordsNone   = "none"   // no sync call
)

// RecordsPolicies lists the valid values of Spec.Records.
var RecordsPolicies = []string{RecordsAll, RecordsErrors, RecordsNone}

// RecordsSync reports whether a sync call that failed (or not) leaves a
// record under the policy p ("" is RecordsAll).
func RecordsSync(p string, failed bool) bool {
	switch p {
	case RecordsNone:
		return false
	case RecordsErrors:
		return failed
	}
	return true
}

// WithDefaults returns the spec with its unset fields filled in.
func (s Spec) WithDefaults() Spec {
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.MemoryMB == 0 {
		s.MemoryMB = limits.DefaultMemoryMB
	}
	if s.TimeoutMs == 0 {
		s.TimeoutMs = defaultTimeoutMs
	}
	if s.Records == "" {
		s.Records = RecordsAll
	}
	return s
}

// DecodeSpec parses a spec document (JSON) strictly: an unknown field is
// an error, so that a typo does not silently deploy with a default. It does
// not check the values; Validate does.
func DecodeSpec(raw []byte) (Spec, error) {
	var spec Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return Spec{}, invalid(CodeInvalidSpec, "the spec is not valid JSON for a function spec: %v", err)
	}
	if dec.More() {
		return Spec{}, invalid(CodeInvalidSpec, "the spec has data after its JSON object")
	}
	return spec, nil
}

// Validate checks a spec's values and says precisely what is out of range.
// Unset fields are valid (they mean the default).
func (s Spec) Validate() error {
	if s.Name != "" {
		if err := ValidateName("function name", s.Name); err != nil {
			return asSpecError(err)
		}
	}
	if s.Namespace != "" {
		if err := ValidateName("namespace", s.Namespace); err != nil {
			return asSpecError(err)
		}
	}
	if len(s.Description) > limits.MaxDescriptionBytes || !utf8.ValidString(s.Description) {
		return invalid(CodeInvalidSpec, "description must be UTF-8 text of at most %d bytes; it has %d", limits.MaxDescriptionBytes, len(s.Description))
	}
	switch s.ABI {
	case "", abi.Command, abi.Reactor:
	default:
		return invalid(CodeInvalidSpec, "abi is %q; use %q (a WASI _start program) or %q (%s and %s), or leave it out to detect it", s.ABI, abi.Command, abi.Reactor, abi.Alloc, abi.Handle)
	}
	if s.MemoryMB != 0 && (s.MemoryMB < limits.MinMemoryMB || s.MemoryMB > limits.MaxMemoryMB) {
		return invalid(CodeInvalidSpec, "memory_mb is %d; it must be between %d and %d", s.MemoryMB, limits.MinMemoryMB, limits.MaxMemoryMB)
	}
	if s.TimeoutMs != 0 && (s.TimeoutMs < minTimeoutMs || s.TimeoutMs > maxTimeoutMs) {
		return invalid(CodeInvalidSpec, "timeout_ms is %d; it must be between %d and %d (15 minutes)", s.TimeoutMs, minTimeoutMs, maxTimeoutMs)
	}
	if s.Concurrency < 0 || s.Concurrency > limits.MaxConcurrency {
		return invalid(CodeInvalidSpec, "concurrency is %d; it must be between 0 (no cap) and %d", s.Concurrency, limits.MaxConcurrency)
	}
	if s.MaxPayload < 0 || s.MaxPayload > limits.MaxPayloadBytes {
		return invalid(CodeInvalidSpec, "max_payload is %d; it must be between 0 (the gateway's limit) and %d bytes (64 MiB)", s.MaxPayload, limits.MaxPayloadBytes)
	}
	if s.Records != "" && !slices.Contains(RecordsPolicies, s.Records) {
		return invalid(CodeInvalidSpec, "records is %q; use %q (every sync call has a record), %q (only failed ones) or %q (none; async invocations always have one)", truncate(s.Records, 100), RecordsAll, RecordsErrors, RecordsNone)
	}
	if err := validateEnv(s.Env); err != nil {
		return err
	}
	if err := validateSecrets(s.Secrets, s.Env); err != nil {
		return err
	}
	if err := s.RateLimit.Validate(); err != nil {
		return err
	}
	if len(s.Triggers) > limits.MaxTriggers {
		return invalid(CodeInvalidSpec, "the spec has %d triggers; a function may have at most %d", len(s.Triggers), limits.MaxTriggers)
	}
	for i, t := range s.Triggers {
		if err := t.validate(); err != nil {
			return invalid(CodeInvalidSpec, "triggers[%d]: %s", i, err.Error())
		}
	}
	return validateLabels(s.Labels)
}

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func validateEnv(env map[string]string) error {
	if len(env) > limits.MaxEnvVars {
		return invalid(CodeInvalidSpec, "env has %d variables; a function may have at most %d", len(env), limits.MaxEnvVars)
	}
	size := 0
	for _, k := range sortedKeys(env) {
		if !envNamePattern.MatchString(k) {
			return invalid(CodeInvalidSpec, "env name %q is not valid; use letters, digits and _ and start with a letter or _", k)
		}
		if !utf8.ValidString(env[k]) || bytes.IndexByte([]byte(env[k]), 0) >= 0 {
			return invalid(CodeInvalidSpec, "env %s must be UTF-8 text without NUL bytes", k)
		}
		size += len(k) + len(env[k])
	}
	if size > limits.MaxEnvBytes {
		return invalid(CodeInvalidSpec, "env names and values add up to %d bytes; the limit is %d (64 KiB); keep large data in the object store or a secret", size, limits.MaxEnvBytes)
	}
	return nil
}

func validateSecrets(secrets []string, env map[string]string) error {
	if len(secrets) > limits.MaxSecrets {
		return invalid(CodeInvalidSpec, "secrets names %d secrets; a function may have at most %d", len(secrets), limits.MaxSecrets)
	}
	seen := make(map[string]bool, len(secrets))
	for _, name := range secrets {
		switch {
		case !validName(name):
			return invalid(CodeInvalidSpec, "secret name %q is not valid; secret names are like function names (lowercase letters, digits and '-', starting with a letter): set one with `hearth secret set NAME`", truncate(name, 100))
		case seen[name]:
			return invalid(CodeInvalidSpec, "secret %q is listed twice", name)
		}
		if _, ok := env[SecretEnvName(name)]; ok {
			return invalid(CodeInvalidSpec, "%s is both in env and the variable of secret %q; remove one of them", SecretEnvName(name), name)
		}
		seen[name] = true
	}
	return nil
}

// SecretEnvName is the environment variable a secret reaches a function
// as: its name upper-cased, '-' as '_' (db-password → DB_PASSWORD).
func SecretEnvName(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == '-':
			b[i] = '_'
		}
	}
	return string(b)
}

// RateLimit is a token bucket: RPS calls a second, Burst at once (0: the
// RPS rounded up).
type RateLimit struct {
	RPS   float64 `json:"rps"`
	Burst int     `json:"burst,omitempty"`
}

// maxRate bounds a rate limit's rps and burst.
const maxRate = 1_000_000

// Validate checks the rps and burst (nil is no limit, valid). The keys of
// gateway/auth use the same rule.
func (r *RateLimit) Validate() error {
	if r == nil {
		return nil
	}
	if !(r.RPS > 0 && r.RPS <= maxRate) { // also refuses NaN
		return invalid(CodeInvalidSpec, "rate_limit.rps is %v; it must be above 0 and at most %d calls a second", r.RPS, maxRate)
	}
	if r.Burst < 0 || r.Burst > maxRate {
		return invalid(CodeInvalidSpec, "rate_limit.burst is %d; it must be from 1 to %d (0 or absent: the rps rounded up)", r.Burst, maxRate)
	}
	return nil
}

// Bucket is the limit's burst, defaulted.
func (r *RateLimit) Bucket() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return int(math.Ceil(r.RPS))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Label keys are Kubernetes-style: an optional DNS-subdomain prefix and a
// slash, then a name of at most 63 characters. These lengths are the
// syntax of a label, not limits of Hearth's.
const (
	maxLabelNameLen   = 63
	maxLabelValueLen  = 63
	maxLabelPrefixLen = 253
)

var (
	labelNamePattern   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	labelPrefixPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

func validateLabels(labels map[string]string) error {
	if len(labels) > limits.MaxLabels {
		return invalid(CodeInvalidSpec, "labels has %d entries; a function may have at most %d", len(labels), limits.MaxLabels)
	}
	for _, k := range sortedKeys(labels) {
		prefix, name, hasPrefix := "", k, false
		if i := strings.LastIndex(k, "/"); i >= 0 {
			prefix, name, hasPrefix = k[:i], k[i+1:], true
		}
		if hasPrefix && (prefix == "" || len(prefix) > maxLabelPrefixLen || !labelPrefixPattern.MatchString(prefix)) {
			return invalid(CodeInvalidSpec, "label key %q has an invalid prefix: the part before / must be a lowercase DNS subdomain (like example.com) of at most %d characters", k, maxLabelPrefixLen)
		}
		if len(name) > maxLabelNameLen || !labelNamePattern.MatchString(name) {
			return invalid(CodeInvalidSpec, "label key %q is not valid: the name must be 1 to %d letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a DNS prefix and '/'", k, maxLabelNameLen)
		}
		if v := labels[k]; v != "" && (len(v) > maxLabelValueLen || !labelNamePattern.MatchString(v)) {
			return invalid(CodeInvalidSpec, "label %s has the value %q; a label value must be empty or 1 to %d letters, digits, '-', '_' or '.', starting and ending with a letter or digit", k, v, maxLabelValueLen)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// asSpecError recodes a name error found inside a spec document.
func asSpecError(err error) error {
	if ve, ok := err.(*ValidationError); ok {
		return invalid(CodeInvalidSpec, "%s", ve.Message)
	}
	return err
}

// Function is a deployed function: its versions, oldest first, and its
// aliases in name order.
type Function struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Versions  []Version `json:"versions"`
	Aliases   []Alias   `json:"aliases,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Latest is the newest version: what the implicit alias "latest" names.
func (f *Function) Latest() Version { return f.Versions[len(f.Versions)-1] }

// Version returns version n of the function.
func (f *Function) Version(n int) (Version, bool) {
	// Versions are numbered from 1 without gaps, so n sits at n-1; search
	// anyway, in case a future retention policy drops old versions.
	if n >= 1 && n <= len(f.Versions) && f.Versions[n-1].Version == n {
		return f.Versions[n-1], true
	}
	i, ok := slices.BinarySearchFunc(f.Versions, n, func(v Version, n int) int { return v.Version - n })
	if !ok {
		return Version{}, false
	}
	return f.Versions[i], true
}

// Alias returns the user alias name (not "latest", which is implicit).
func (f *Function) Alias(name string) (Alias, bool) {
	for _, a := range f.Aliases {
		if a.Name == name {
			return a, true
		}
	}
	return Alias{}, false
}

// Digests are the module digests (hex) that the function's versions use.
func (f *Function) Digests() []string {
	out := make([]string, 0, len(f.Versions))
	for _, v := range f.Versions {
		if !slices.Contains(out, v.DigestHex()) {
			out = append(out, v.DigestHex())
		}
	}
	return out
}

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
	if !validName(name) {
		return invalid(CodeInvalidName, "%s %q is not valid: use 1 to 63 lowercase letters, digits and '-', starting with a letter", kind, name)
	}
	return nil
}

// Error codes of validation failures; the gateway answers them with 400
// (413 for CodeModuleTooLarge).
const (
	CodeInvalidName    = "invalid_name"
	CodeInvalidSpec    = "invalid_spec"
	CodeInvalidModule  = "invalid_module"
	CodeModuleTooLarge = "module_too_large"
	CodeInvalidAlias   = "invalid_alias"
)

// ValidationError says what is wrong with a deploy or an alias.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

func invalid(code, format string, args ...any) error {
	return &ValidationError{Code: code, Message: fmt.Sprintf(format, args...)}
}
