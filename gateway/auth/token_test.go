package auth

import (
	"strings"
	"testing"
)

func TestNewTokenParses(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, token, hash := newToken()
		if len(token) != TokenLen || seen[id] {
			t.Fatalf("token %q (len %d), id %q seen before: %v", token, len(token), id, seen[id])
		}
		seen[id] = true
		gotID, secret, err := ParseToken(token)
		if err != nil || gotID != id {
			t.Fatalf("ParseToken(%q) = %q, %v", token, gotID, err)
		}
		if hashSecret(gotID, secret) != hash {
			t.Fatal("the hash of the parsed secret differs")
		}
	}
}

func TestParseTokenRefuses(t *testing.T) {
	_, good, _ := newToken()
	for name, tok := range map[string]string{
		"empty":        "",
		"short":        good[:TokenLen-1],
		"long":         good + "a",
		"prefix":       "hx_" + good[3:],
		"separator":    good[:19] + "." + good[20:],
		"id charset":   "hk_AAAAAAAAAAAAAAAA_" + good[20:],
		"id digit 1":   "hk_1aaaaaaaaaaaaaaa_" + good[20:],
		"secret chars": good[:20] + strings.Repeat("=", secretLen),
		"unicode":      good[:20] + "é" + good[22:],
	} {
		if _, _, err := ParseToken(tok); err != ErrNotAKey {
			t.Errorf("%s: ParseToken(%q) = %v, want ErrNotAKey", name, tok, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc":   "abc",
		"BEARER   abc": "abc",
	} {
		if got, err := BearerToken(header); err != nil || got != want {
			t.Errorf("BearerToken(%q) = %q, %v", header, got, err)
		}
	}
	if _, err := BearerToken(""); err != ErrNoCredentials {
		t.Errorf("empty header: %v", err)
	}
	for _, header := range []string{"Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer a\tb", "Bearerabc", "Token abc", "Bearer " + strings.Repeat("a", MaxHeaderLen)} {
		if _, err := BearerToken(header); err != ErrMalformed {
			t.Errorf("BearerToken(%.40q) = %v, want ErrMalformed", header, err)
		}
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes([]string{"admin", "read"})
	if err != nil || joinScopes(got) != "read,admin" {
		t.Fatalf("ParseScopes = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {}, {"write"}, {"read", "read"}, {""}, {"READ"}} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q) accepted", bad)
		}
	}
}

func TestScopesMeetNeeds(t *testing.T) {
	meets := func(scopes ...Scope) func(Need) bool {
		p := &Principal{set: setOf(scopes)}
		return p.Meets
	}
	cases := []struct {
		scope                                Scope
		read, records, invoke, deploy, admin bool
	}{
		{ScopeRead, true, true, false, false, false},
		{ScopeInvoke, false, true, true, false, false},
		{ScopeDeploy, true, true, true, true, false},
		{ScopeAdmin, true, true, true, true, true},
	}
	for _, c := range cases {
		m := meets(c.scope)
		got := [5]bool{m(NeedRead), m(NeedRecords), m(NeedInvoke), m(NeedDeploy), m(NeedAdmin)}
		if want := [5]bool{c.read, c.records, c.invoke, c.deploy, c.admin}; got != want {
			t.Errorf("%s meets read/records/invoke/deploy/admin %v, want %v", c.scope, got, want)
		}
	}
	if !setOf([]Scope{ScopeDeploy}).covers(setOf([]Scope{ScopeRead, ScopeInvoke})) {
		t.Error("deploy does not cover read+invoke")
	}
	if setOf([]Scope{ScopeDeploy}).covers(setOf([]Scope{ScopeAdmin})) || setOf([]Scope{ScopeRead}).covers(setOf([]Scope{ScopeInvoke})) {
		t.Error("a narrower scope covers a wider one")
	}
}

// FuzzAuthorization feeds arbitrary Authorization headers through the
// header and key parsers: they never panic, and what they accept has the
// form they promise.
func FuzzAuthorization(f *testing.F) {
	_, good, _ := newToken()
	for _, s := range []string{"", "Bearer " + good, "bearer  " + good, "Basic x", "Bearer hk_", "Bearer " + good + " x", "Bearer \x00", strings.Repeat("B", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, err := BearerToken(header)
		if err != nil {
			return
		}
		if token == "" || strings.ContainsAny(token, " \t\r\n") || len(header) > MaxHeaderLen {
			t.Fatalf("BearerToken(%q) accepted %q", header, token)
		}
		id, secret, err := ParseToken(token)
		if err != nil {
			return
		}
		if !ValidID(id) || len(secret) != secretLen || tokenPrefix+id+"_"+secret != token {
			t.Fatalf("ParseToken(%q) = %q, %q", token, id, secret)
		}
	})
}

// FuzzParseScopes: never panics; an accepted list is non-empty and known.
func FuzzParseScopes(f *testing.F) {
	f.Add("read,invoke")
	f.Add("admin,admin")
	f.Add(",")
	f.Fuzz(func(t *testing.T, list string) {
		got, err := ParseScopes(strings.Split(list, ","))
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatal("accepted an empty list")
		}
		for _, s := range got {
			if scopeBits[s] == 0 {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
