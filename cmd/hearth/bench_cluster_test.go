package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// TestBenchCluster runs the built binary's `hearth bench` on the cluster
// cases: hearth nats, gateway and runner as processes of their own, and
// the floor (hearth nats between the hidden bench-floor gateway and
// runner). Each
// case answers every call right, reports each process's CPU per request
// (their sum is the server's), and --cpuprofile writes a profile of each
// process beside the load generator's.
func TestBenchCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the hearth binary and starts a cluster")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hearth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, prof := filepath.Join(dir, "bench.json"), filepath.Join(dir, "cpu.pprof")
	cmd := exec.Command(bin, "bench", "--duration", "500ms", "--cases", "hearth-warm-reactor-cluster,hearth-warm-reactor-cluster-go,floor-nats-cluster",
		"--json", out, "--cpuprofile", prof, "--profile-case", "hearth-warm-reactor-cluster")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hearth bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Cases []struct {
			Name    string             `json:"name"`
			RPS     float64            `json:"rps"`
			Ops     int64              `json:"ops"`
			Errors  int64              `json:"errors"`
			Server  *float64           `json:"server_cpu_us_per_op"`
			Process map[string]float64 `json:"process_cpu_us_per_op"`
			Failed  string             `json:"failed"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Cases) != 3 {
		t.Fatalf("%d cases in the report, want 3: %s", len(report.Cases), data)
	}
	for _, c := range report.Cases {
		if c.Failed != "" || c.Errors > 0 || c.Ops == 0 || c.RPS <= 0 {
			t.Errorf("%s: failed %q, %d errors, %d ops, %.0f/s", c.Name, c.Failed, c.Errors, c.Ops, c.RPS)
		}
		var sum float64
		for _, role := range []string{"gateway", "nats", "runner"} {
			v, ok := c.Process[role]
			if !ok || v <= 0 {
				t.Errorf("%s: no CPU per request for the %s process: %v", c.Name, role, c.Process)
			}
			sum += v
		}
		if len(c.Process) != 3 {
			t.Errorf("%s: processes %v, want gateway, nats and runner", c.Name, c.Process)
		}
		if c.Server == nil || *c.Server < sum-0.2 || *c.Server > sum+0.2 {
			t.Errorf("%s: server CPU %v µs per request, the processes' sum %.1f", c.Name, c.Server, sum)
		}
	}
	if !strings.Contains(stdout.String(), "Server CPU per request by process") {
		t.Errorf("the table gives no CPU by process:\n%s", stdout.String())
	}
	for _, role := range []string{"", ".gateway", ".nats", ".runner"} {
		f := filepath.Join(dir, "cpu"+role+".pprof")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("profile of %q: %v", role, err)
			continue
		}
		p, err := profile.ParseData(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(p.SampleType) == 0 || p.SampleType[len(p.SampleType)-1].Type != "cpu" && p.SampleType[0].Type != "samples" {
			t.Errorf("%s: sample types %v, want a CPU profile", f, p.SampleType)
		}
	}
}

func TestNATSFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no port", []string{"--listen", "127.0.0.1"}, `--listen "127.0.0.1": give HOST:PORT`},
		{"port not a number", []string{"--listen", "127.0.0.1:http"}, "the port must be a number from 0 to 65535"},
		{"port too large", []string{"--listen", "127.0.0.1:70000"}, "the port must be a number from 0 to 65535"},
		{"empty store", []string{"--listen", "127.0.0.1:0", "--store-dir", ""}, "--store-dir is empty"},
		{"argument", []string{"now"}, `unexpected argument "now"`},
		{"bad pprof address", []string{"--listen", "127.0.0.1:0", "--store-dir", t.TempDir(), "--pprof-listen", "256.0.0.1:99999"}, `--pprof-listen "256.0.0.1:99999"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"nats"}, tc.args...), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
