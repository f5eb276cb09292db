package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
)

// writeTrace writes an invocations file whose rows call in the given
// minutes (count per minute) and returns its path.
func writeTrace(t *testing.T, rows map[string]map[int]int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("HashOwner,HashApp,HashFunction")
	for m := 1; m <= 1440; m++ {
		fmt.Fprintf(&b, ",minute_%d", m)
	}
	b.WriteString("\n")
	for name, calls := range rows {
		b.WriteString("o," + name + "," + name)
		for m := 1; m <= 1440; m++ {
			fmt.Fprintf(&b, ",%d", calls[m])
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "invocations.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayBadInput(t *testing.T) {
	good := writeTrace(t, map[string]map[int]int{"f": {3: 1}})
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("HashOwner,HashApp,HashFunction,1\na,b,c,notanumber\n"), 0o644)
	for _, tt := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"replay"}, 2, "--invocations"},
		{[]string{"replay", "--invocations", good, "--policy", "magic"}, 2, "magic"},
		{[]string{"replay", "--invocations", good, "--from", "900", "--to", "600"}, 2, "--from 900 --to 600"},
		{[]string{"replay", "--invocations", good, "--to", "1441"}, 2, "1440"},
		{[]string{"replay", "--invocations", good, "--functions", "0"}, 2, "N ≥ 1"},
		{[]string{"replay", "--invocations", good, "--functions", "2", "--sample", "2"}, 2, "not both"},
		{[]string{"replay", "--invocations", good, "--seed", "3"}, 2, "--sample"},
		{[]string{"replay", "--invocations", good, "--minute", "1ms"}, 2, "at least"},
		{[]string{"replay", "--invocations", good, "--from", "100", "--to", "200", "-g", "http://127.0.0.1:1"}, 2, "no function of the trace"},
		{[]string{"replay", "--invocations", "/does/not/exist"}, 1, "no such file"},
		{[]string{"replay", "--invocations", bad}, 1, "line 1"},
		{[]string{"replay", "--invocations", good, "-g", "http://127.0.0.1:1"}, 1, "cannot reach"},
		{[]string{"dev", "--autoscale-minute", "1s"}, 2, "needs --autoscale"},
		{[]string{"dev", "--autoscale", "hybrid", "--autoscale-minute", "1ms"}, 2, "at least 10ms"},
		{[]string{"gateway", "--autoscale-minute", "1s"}, 2, "needs --autoscale"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), tt.args, &bytes.Buffer{}, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.mention) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, stderr.String(), tt.code, tt.mention)
		}
	}
}

// TestReplayAgainstDev runs `hearth dev --autoscale fixed-2
// --autoscale-minute 500ms` and `hearth replay` against it: the table and
// the JSON file have their shape, the cold starts counted from the
// platform's answers are the simulator's (fixed-2: minutes 1 and 5 of a,
// 1 of b), and the autoscaler's clock followed the flag.
func TestReplayAgainstDev(t *testing.T) {
	t.Setenv("HEARTH_LISTEN", "")
	t.Setenv("HEARTH_DATA", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var devOut, devErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--log-level", "error",
			"--autoscale", "fixed-2", "--autoscale-minute", "500ms", "--max-runners", "0"}, &devOut, &devErr)
	}()
	gatewayLine := regexp.MustCompile(`gateway\s+(http://\S+)`)
	var url string
	testutil.Eventually(t, 60*time.Second, func() error {
		select {
		case code := <-done:
			done <- code
			return fmt.Errorf("hearth dev exited %d: %s", code, devErr.String())
		default:
		}
		m := gatewayLine.FindStringSubmatch(devOut.String())
		if m == nil {
			return fmt.Errorf("no gateway URL in %q", devOut.String())
		}
		url = m[1]
		return nil
	})
	trace := writeTrace(t, map[string]map[int]int{"a": {1: 1, 2: 2, 5: 1}, "b": {1: 3}, "c": {9: 1}})
	out := filepath.Join(t.TempDir(), "replay.json")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"replay", "-g", url, "--invocations", trace, "--policy", "fixed-2", "--minute", "500ms",
		"--from", "1", "--to", "6", "--json", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"| policy | source | functions | cold_p50 |", "| fixed-2 | live |", "| fixed-2 | sim |", "| fixed-2 | live − sim |", "the autoscaler counted 6 minutes of 6"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout.String())
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rows []map[string]any `json:"rows"`
		Run  struct {
			Calls             int `json:"calls"`
			AutoscalerMinutes int `json:"autoscaler_minutes"`
		} `json:"run"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Run.Calls != 7 || rep.Run.AutoscalerMinutes != 6 {
		t.Fatalf("JSON %s", data)
	}
	for i, source := range []string{"live", "sim"} {
		r := rep.Rows[i]
		for _, k := range []string{"policy", "source", "cold_p50", "cold_p75", "cold_p90", "cold_total", "wasted_mb_min", "wasted_rel"} {
			if _, ok := r[k]; !ok {
				t.Errorf("row %d has no %s: %v", i, k, r)
			}
		}
		if r["source"] != source || r["policy"] != "fixed-2" || r["cold_total"] != 3.0 {
			t.Errorf("row %d: %v, want %s with 3 cold starts", i, r, source)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("hearth dev exit %d: %s", code, devErr.String())
	}
}
