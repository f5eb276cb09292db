package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleTrace = "../../../shared/traces/azure2019-200"

func TestSim(t *testing.T) {
	inv := filepath.Join(sampleTrace, "invocations.csv")
	if _, err := os.Stat(inv); err != nil {
		t.Skip("the sample trace is not beside the project:", err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"sim", "--invocations", inv, "--memory", filepath.Join(sampleTrace, "memory.csv"), "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("sim: exit %d: %s", code, stderr.String())
	}
	var out struct {
		Policies []struct {
			Policy    string  `json:"policy"`
			ColdP75   float64 `json:"cold_p75"`
			WastedRel float64 `json:"wasted_rel"`
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for i, p := range out.Policies {
		got[p.Policy] = i
	}
	want := []string{"fixed-10", "fixed-60", "hybrid", "predictive"}
	for i, name := range want {
		if j, ok := got[name]; !ok || j != i {
			t.Fatalf("policies %+v, want %v in order", out.Policies, want)
		}
	}
	h, p := out.Policies[2], out.Policies[3]
	if !(p.ColdP75 < h.ColdP75) || p.WastedRel > h.WastedRel {
		t.Fatalf("predictive %+v vs hybrid %+v: want lower cold_p75 and no more waste", p, h)
	}

	stdout.Reset()
	if code := run(context.Background(), []string{"sim", "--invocations", inv, "--policy", "hybrid"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "| hybrid |") {
		t.Fatalf("sim table: %d %s", code, stdout.String())
	}
}

func TestSimBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("HashOwner,HashApp,HashFunction,1\na,b,c,notanumber\n"), 0o644)
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"sim"}, 2, "--invocations"},
		{[]string{"sim", "--invocations", bad, "--policy", "magic"}, 2, "magic"},
		{[]string{"sim", "--invocations", "/does/not/exist"}, 1, "no such file"},
		{[]string{"sim", "--invocations", bad}, 1, "line 1"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), tt.args, &bytes.Buffer{}, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.mention) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, stderr.String(), tt.code, tt.mention)
		}
	}
}
