package auth

import (
	"fmt"
	"strings"
)

// Scope is what a key may do (API.md): read, invoke, deploy or admin.
type Scope string

// The scopes of API.md, from least to most.
const (
	ScopeRead   Scope = "read"   // GET of functions, versions, aliases, invocations, results, logs, runners, secrets' names
	ScopeInvoke Scope = "invoke" // sync, async and /fn/ calls, and the records and results of invocations
	ScopeDeploy Scope = "deploy" // read and invoke, plus deploying and deleting functions, aliases, triggers, secrets
	ScopeAdmin  Scope = "admin"  // everything, plus keys and the audit log
)

// scopeSet is a set of scopes as bits, so a check is one AND.
type scopeSet uint8

const (
	bitRead scopeSet = 1 << iota
	bitInvoke
	bitDeploy
	bitAdmin
)

// Need is what a route asks of a key: any one of the scopes in it.
type Need struct{ any scopeSet }

// The needs of the API's routes. A wider scope covers the narrower ones:
// deploy covers read and invoke, admin covers everything.
var (
	// NeedNone: the route is open (health checks).
	NeedNone = Need{}
	// NeedRead: reading the platform's state.
	NeedRead = Need{bitRead | bitDeploy | bitAdmin}
	// NeedRecords: the records, results and logs of invocations, which both
	// readers and callers may see.
	NeedRecords = Need{bitRead | bitInvoke | bitDeploy | bitAdmin}
	// NeedInvoke: calling a function.
	NeedInvoke = Need{bitInvoke | bitDeploy | bitAdmin}
	// NeedDeploy: changing functions, aliases, triggers and secrets.
	NeedDeploy = Need{bitDeploy | bitAdmin}
	// NeedAdmin: keys and the audit log.
	NeedAdmin = Need{bitAdmin}
)

// Open reports whether the route needs no key.
func (n Need) Open() bool { return n.any == 0 }

// String names the narrowest scope that meets n, for messages.
func (n Need) String() string {
	switch n {
	case NeedNone:
		return "none"
	case NeedRead, NeedRecords:
		if n == NeedRecords {
			return "read or invoke"
		}
		return "read"
	case NeedInvoke:
		return "invoke"
	case NeedDeploy:
		return "deploy"
	}
	return "admin"
}

var scopeBits = map[Scope]scopeSet{ScopeRead: bitRead, ScopeInvoke: bitInvoke, ScopeDeploy: bitDeploy, ScopeAdmin: bitAdmin}

// ParseScopes checks a key's scope list: at least one, each known, none
// twice. The result is sorted from least to most.
func ParseScopes(raw []string) ([]Scope, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("scopes is empty; give at least one of read, invoke, deploy, admin")
	}
	var set scopeSet
	for _, s := range raw {
		bit, ok := scopeBits[Scope(s)]
		if !ok {
			return nil, fmt.Errorf("unknown scope %q; scopes are read, invoke, deploy and admin", truncate(s, 40))
		}
		if set&bit != 0 {
			return nil, fmt.Errorf("scope %q is listed twice", s)
		}
		set |= bit
	}
	return set.scopes(), nil
}

func (s scopeSet) scopes() []Scope {
	var out []Scope
	for _, sc := range []Scope{ScopeRead, ScopeInvoke, ScopeDeploy, ScopeAdmin} {
		if s&scopeBits[sc] != 0 {
			out = append(out, sc)
		}
	}
	return out
}

func setOf(scopes []Scope) scopeSet {
	var set scopeSet
	for _, s := range scopes {
		set |= scopeBits[s]
	}
	return set
}

// covers reports whether a key with scopes a may grant a key with scopes
// b: every need b meets, a meets too.
func (a scopeSet) covers(b scopeSet) bool {
	for _, n := range []Need{NeedRead, NeedRecords, NeedInvoke, NeedDeploy, NeedAdmin} {
		if b&n.any != 0 && a&n.any == 0 {
			return false
		}
	}
	return true
}

func joinScopes(s []Scope) string {
	parts := make([]string, len(s))
	for i, sc := range s {
		parts[i] = string(sc)
	}
	return strings.Join(parts, ",")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
