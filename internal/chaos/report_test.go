package chaos

import (
	"strings"
	"testing"
)

// TestCleanAndProblems checks the verdict reads every kind of broken
// promise, so that the suite cannot pass over one.
func TestCleanAndProblems(t *testing.T) {
	good := Result{Phase: "faults", Accepted: 10, Completed: 10, SyncOK: 5, SyncErrors: map[string]int{"503": 2}}
	if !good.Clean() || len(good.Problems()) != 0 {
		t.Fatalf("a clean phase is not clean: %v", good.Problems())
	}
	for name, spoil := range map[string]func(*Result){
		"lost":         func(r *Result) { r.Lost, r.Completed = 1, 9 },
		"wrong":        func(r *Result) { r.WrongResult, r.Completed = 1, 9 },
		"duplicate":    func(r *Result) { r.Duplicates = 1 },
		"dead":         func(r *Result) { r.DeadLettered, r.Completed = 1, 9 },
		"sync 500":     func(r *Result) { r.SyncBad = map[string]int{"500": 1} },
		"hang":         func(r *Result) { r.SyncBad = map[string]int{"hang": 1} },
		"none":         func(r *Result) { r.Accepted, r.Completed = 0, 0 },
		"bad callback": func(r *Result) { r.WrongCallbacks = 1 },
	} {
		r := good
		spoil(&r)
		if r.Clean() {
			t.Errorf("%s: counted clean", name)
		}
		if len(r.Problems()) == 0 {
			t.Errorf("%s: no problem named", name)
		}
	}
}

// TestScanDone counts the runners' "invocation done" lines, and nothing
// else: other messages, text lines and a line cut by SIGKILL.
func TestScanDone(t *testing.T) {
	logs := `{"level":"DEBUG","msg":"invocation done","invocation":"a"}
{"level":"DEBUG","msg":"invocation done","invocation":"b"}
{"level":"INFO","msg":"invocation failed","invocation":"c"}
---- chaos: start runner-1
{"level":"DEBUG","msg":"invocation done","invocation":"a"}
{"level":"DEBUG","msg":"invocation done","invoc`
	n := map[string]int{}
	if err := scanDone(strings.NewReader(logs), n); err != nil {
		t.Fatal(err)
	}
	if n["a"] != 2 || n["b"] != 1 || n["c"] != 0 || len(n) != 2 {
		t.Errorf("counts %v, want a:2 b:1", n)
	}
	if Expected("abc") != "cba" || Expected("") != "" {
		t.Error("Expected does not reverse")
	}
}
