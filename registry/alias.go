package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hearthfn/hearth/internal/limits"
)

// LatestAlias is the implicit alias of every function: its newest version.
// It moves on every deploy and cannot be set or removed.
const LatestAlias = "latest"

// Errors for a version or an alias that a reference names and that does not
// exist. Their messages say what does exist.
var (
	ErrVersionNotFound = errors.New("version not found")
	ErrAliasNotFound   = errors.New("alias not found")
)

// notFoundError is a not-found error with a message for the user; it
// unwraps to one of the sentinel errors above.
type notFoundError struct {
	kind error
	msg  string
}

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return e.kind }

// Alias is a named pointer to one version of a function, or a weighted
// split of calls between several versions (a canary).
type Alias struct {
	Name string `json:"name"`
	// Version is the version the alias names, when it names one.
	Version int `json:"version,omitempty"`
	// Weights, for a split, maps versions to their share of calls in
	// percent; the shares add up to 100.
	Weights   map[int]int `json:"weights,omitempty"`
	UpdatedAt time.Time   `json:"updated_at,omitzero"`
}

// AliasTarget is what an alias is set to: one version, or weights.
type AliasTarget struct {
	Version int         `json:"version,omitempty"`
	Weights map[int]int `json:"weights,omitempty"`
}

// Versions are the versions the alias names, in ascending order.
func (a Alias) Versions() []int {
	if len(a.Weights) == 0 {
		return []int{a.Version}
	}
	out := make([]int, 0, len(a.Weights))
	for v := range a.Weights {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Pick chooses the version for one call: roll is a number in [0, 100),
// drawn at random per call; version v of a split gets it for Weights[v]
// of the 100 rolls, in ascending version order.
func (a Alias) Pick(roll int) int {
	if len(a.Weights) == 0 {
		return a.Version
	}
	versions := a.Versions()
	for _, v := range versions {
		if roll < a.Weights[v] {
			return v
		}
		roll -= a.Weights[v]
	}
	return versions[len(versions)-1]
}

// String is the alias's target as the CLI shows it: "3" or "3=90 4=10".
func (a Alias) String() string {
	if len(a.Weights) == 0 {
		return strconv.Itoa(a.Version)
	}
	parts := make([]string, 0, len(a.Weights))
	for _, v := range a.Versions() {
		parts = append(parts, fmt.Sprintf("%d=%d", v, a.Weights[v]))
	}
	return strings.Join(parts, " ")
}

// ValidateAliasName checks the name of a user alias: the rule of function
// names, and not "latest".
func ValidateAliasName(name string) error {
	if name == LatestAlias {
		return invalid(CodeInvalidAlias, "the alias %q is Hearth's own: it always names the newest version; choose another name", LatestAlias)
	}
	if !validName(name) {
		return invalid(CodeInvalidAlias, "alias name %q is not valid: use 1 to 63 lowercase letters, digits and '-', starting with a letter", name)
	}
	return nil
}

// makeAlias checks target against the function's versions and returns the
// alias it makes. A split with one version at 100 is that version.
func makeAlias(fn *Function, name string, target AliasTarget, now time.Time) (Alias, error) {
	if err := ValidateAliasName(name); err != nil {
		return Alias{}, err
	}
	a := Alias{Name: name, UpdatedAt: now}
	exists := func(v int) error {
		if _, ok := fn.Version(v); ok {
			return nil
		}
		return invalid(CodeInvalidAlias, "alias %s: %s has no version %d; %s", name, fn.Name, v, versionRange(fn))
	}
	switch {
	case target.Version != 0 && len(target.Weights) > 0:
		return Alias{}, invalid(CodeInvalidAlias, `alias %s: give either a version ({"version":3}) or weights ({"weights":{"3":90,"4":10}}), not both`, name)
	case target.Version != 0:
		if target.Version < 0 {
			return Alias{}, invalid(CodeInvalidAlias, "alias %s: version %d is not valid; versions are numbered from 1", name, target.Version)
		}
		if err := exists(target.Version); err != nil {
			return Alias{}, err
		}
		a.Version = target.Version
		return a, nil
	case target.Weights == nil:
		return Alias{}, invalid(CodeInvalidAlias, `alias %s: give a version ({"version":3}) or weights ({"weights":{"3":90,"4":10}})`, name)
	case len(target.Weights) == 0:
		return Alias{}, invalid(CodeInvalidAlias, "alias %s: weights is empty; name 2 to %d versions with their percentages", name, limits.MaxAliasTargets)
	case len(target.Weights) > limits.MaxAliasTargets:
		return Alias{}, invalid(CodeInvalidAlias, "alias %s splits calls between %d versions; the most is %d", name, len(target.Weights), limits.MaxAliasTargets)
	}
	sum := 0
	versions := Alias{Weights: target.Weights}.Versions()
	for _, v := range versions {
		w := target.Weights[v]
		if v < 1 {
			return Alias{}, invalid(CodeInvalidAlias, "alias %s: version %d is not valid; versions are numbered from 1", name, v)
		}
		if w < 1 || w > 100 {
			return Alias{}, invalid(CodeInvalidAlias, "alias %s: the weight of version %d is %d; weights are whole percentages from 1 to 100", name, v, w)
		}
		if err := exists(v); err != nil {
			return Alias{}, err
		}
		sum += w
	}
	if sum != 100 {
		return Alias{}, invalid(CodeInvalidAlias, "alias %s: the weights add up to %d; they must add up to 100", name, sum)
	}
	if len(versions) == 1 {
		a.Version = versions[0]
		return a, nil
	}
	a.Weights = make(map[int]int, len(target.Weights))
	for v, w := range target.Weights {
		a.Weights[v] = w
	}
	return a, nil
}

// versionRange says which versions a function has, for error messages.
func versionRange(fn *Function) string {
	switch len(fn.Versions) {
	case 0:
		return "it has no versions"
	case 1:
		return fmt.Sprintf("its only version is %d", fn.Versions[0].Version)
	}
	return fmt.Sprintf("its versions are %d to %d", fn.Versions[0].Version, fn.Latest().Version)
}

// SetAlias points the alias name of a function at a version or a weighted
// split of versions, creating the alias or moving it (which is how a
// rollback is done). It reports whether the alias is new. Concurrent
// changes of one function never lose each other (KV revision checks); of
// two concurrent sets of one alias, the later one wins.
func (r *Registry) SetAlias(ctx context.Context, namespace, name, alias string, target AliasTarget) (Alias, bool, error) {
	if err := ValidateName("function name", name); err != nil {
		return Alias{}, false, err
	}
	if err := ValidateAliasName(alias); err != nil {
		return Alias{}, false, err
	}
	var set Alias
	var created bool
	_, err := r.update(ctx, namespace, name, false, func(fn *Function) error {
		now := time.Now().UTC()
		a, err := makeAlias(fn, alias, target, now)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(fn.Aliases, func(x Alias) bool { return x.Name == alias })
		created = i < 0
		if created {
			if len(fn.Aliases) >= limits.MaxAliases {
				return invalid(CodeInvalidAlias, "%s has %d aliases, the most a function may have; remove one first", name, len(fn.Aliases))
			}
			fn.Aliases = append(fn.Aliases, a)
			slices.SortFunc(fn.Aliases, func(x, y Alias) int { return strings.Compare(x.Name, y.Name) })
		} else {
			fn.Aliases[i] = a
		}
		fn.UpdatedAt = now
		set = a
		return nil
	})
	if err != nil {
		return Alias{}, false, err
	}
	r.log.Info("alias set", "namespace", namespace, "function", name, "alias", alias, "target", set.String())
	return set, created, nil
}

// DeleteAlias removes a user alias; calls through it then answer 404.
func (r *Registry) DeleteAlias(ctx context.Context, namespace, name, alias string) error {
	if alias == LatestAlias {
		return ValidateAliasName(alias)
	}
	_, err := r.update(ctx, namespace, name, false, func(fn *Function) error {
		i := slices.IndexFunc(fn.Aliases, func(x Alias) bool { return x.Name == alias })
		if i < 0 {
			return AliasNotFound(fn, alias)
		}
		fn.Aliases = slices.Delete(fn.Aliases, i, i+1)
		fn.UpdatedAt = time.Now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	r.log.Info("alias removed", "namespace", namespace, "function", name, "alias", alias)
	return nil
}

// AliasNotFound is the error for an alias fn does not have; it says which
// it has, and matches ErrAliasNotFound.
func AliasNotFound(fn *Function, alias string) error {
	names := []string{LatestAlias}
	for _, a := range fn.Aliases {
		names = append(names, a.Name)
	}
	return &notFoundError{ErrAliasNotFound, fmt.Sprintf("%s has no alias %q; its aliases are %s", fn.Name, alias, strings.Join(names, ", "))}
}

// VersionNotFound is the error for a version fn does not have; it says
// which it has, and matches ErrVersionNotFound.
func VersionNotFound(fn *Function, v int) error {
	return &notFoundError{ErrVersionNotFound, fmt.Sprintf("%s has no version %d; %s", fn.Name, v, versionRange(fn))}
}

// Ref is a parsed function reference: NAME, NAME@VERSION or NAME:ALIAS.
type Ref struct {
	Name    string
	Version int    // set for NAME@VERSION
	Alias   string // set for NAME:ALIAS; "latest" for NAME alone
}

var versionPattern = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)

// ParseRef parses how a call names what it runs: NAME (the newest
// version), NAME@VERSION (one version) or NAME:ALIAS (what the alias
// names).
func ParseRef(s string) (Ref, error) {
	name, rest, sep := s, "", byte(0)
	if i := strings.IndexAny(s, "@:"); i >= 0 {
		name, sep, rest = s[:i], s[i], s[i+1:]
	}
	if err := ValidateName("function name", name); err != nil {
		return Ref{}, invalid(CodeInvalidName, "%s; call a function as NAME, NAME@VERSION or NAME:ALIAS", err.Error())
	}
	if strings.ContainsAny(rest, "@:") {
		return Ref{}, invalid(CodeInvalidName, "%q names more than one version or alias; call a function as NAME, NAME@VERSION or NAME:ALIAS", s)
	}
	switch sep {
	case '@':
		if !versionPattern.MatchString(rest) {
			return Ref{}, invalid(CodeInvalidName, "%q: %q is not a version number; versions are numbered from 1, as in %s@1", s, rest, name)
		}
		n, _ := strconv.Atoi(rest)
		return Ref{Name: name, Version: n}, nil
	case ':':
		if rest != LatestAlias && !validName(rest) {
			return Ref{}, invalid(CodeInvalidName, "%q: the alias %q is not valid: aliases are 1 to 63 lowercase letters, digits and '-', starting with a letter", s, rest)
		}
		return Ref{Name: name, Alias: rest}, nil
	}
	return Ref{Name: name, Alias: LatestAlias}, nil
}

// String is the reference as it is written.
func (ref Ref) String() string {
	switch {
	case ref.Version != 0:
		return ref.Name + "@" + strconv.Itoa(ref.Version)
	case ref.Alias != "" && ref.Alias != LatestAlias:
		return ref.Name + ":" + ref.Alias
	}
	return ref.Name
}

// resolve picks the version ref names in fn; roll in [0, 100) decides a
// weighted alias.
func (fn *Function) resolve(ref Ref, roll int) (Version, error) {
	switch {
	case ref.Version != 0:
		v, ok := fn.Version(ref.Version)
		if !ok {
			return Version{}, VersionNotFound(fn, ref.Version)
		}
		return v, nil
	case ref.Alias == "" || ref.Alias == LatestAlias:
		return fn.Latest(), nil
	}
	a, ok := fn.Alias(ref.Alias)
	if !ok {
		return Version{}, AliasNotFound(fn, ref.Alias)
	}
	v, ok := fn.Version(a.Pick(roll))
	if !ok {
		return Version{}, VersionNotFound(fn, a.Pick(roll))
	}
	return v, nil
}

// Resolve finds what a call of ref (NAME, NAME@VERSION or NAME:ALIAS)
// runs: the function and one of its versions. A weighted alias picks a
// version at random by weight, for each call. It reads the watched cache,
// and the KV bucket when the cache does not know the function, version or
// alias yet (a deploy through another gateway a moment ago).
func (r *Registry) Resolve(ctx context.Context, namespace, ref string) (*Function, Version, error) {
	parsed, err := ParseRef(ref)
	if err != nil {
		return nil, Version{}, err
	}
	return r.ResolveRef(ctx, namespace, parsed)
}

// ResolveRef is Resolve for a parsed reference.
func (r *Registry) ResolveRef(ctx context.Context, namespace string, ref Ref) (*Function, Version, error) {
	fn, err := r.Lookup(ctx, namespace, ref.Name)
	if err != nil {
		return nil, Version{}, err
	}
	roll := rand.IntN(100)
	v, err := fn.resolve(ref, roll)
	if err == nil {
		return fn, v, nil
	}
	// Maybe the cache is behind the bucket: read the record itself.
	fresh, gerr := r.Get(ctx, namespace, ref.Name)
	if gerr != nil {
		return nil, Version{}, gerr
	}
	v, err = fresh.resolve(ref, roll)
	if err != nil {
		return nil, Version{}, err
	}
	return fresh, v, nil
}
