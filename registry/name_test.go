package registry

import (
	"regexp"
	"strings"
	"testing"
)

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// FuzzValidName keeps the hand-written check equal to the rule of API.md.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"", "a", "hello", "reverse-c", "9a", "-a", "A", "a_b", "a.b", "a b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validName(s), namePattern.MatchString(s); got != want {
			t.Fatalf("validName(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
