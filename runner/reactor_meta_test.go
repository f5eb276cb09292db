package runner

import (
	"slices"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/wire"
)

func TestReactorMeta(t *testing.T) {
	got := string(reactorMeta(&wire.Request{Method: "GET", Path: "/a/b", Query: "x=1&y",
		Headers: map[string][]string{"X-Two": {"1", "2"}, "X-Break": {"a\r\nb\nc"}, "X-Empty": {""}}}))
	first, rest, _ := strings.Cut(got, "\n")
	if first != "GET /a/b?x=1&y" {
		t.Fatalf("request line %q", first)
	}
	lines := strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
	slices.Sort(lines)
	want := []string{"X-Break: a  b c", "X-Empty: ", "X-Two: 1", "X-Two: 2"}
	if !slices.Equal(lines, want) || !strings.HasSuffix(got, "\n") {
		t.Fatalf("header lines %q, want %q (in any order, each ended by a newline)", lines, want)
	}
	if got := string(reactorMeta(&wire.Request{})); got != "POST /\n" {
		t.Fatalf("defaults: %q", got)
	}
}
