package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestChaosTrimmed is the chaos suite in the form CI runs: the trimmed
// load (1,500 async invocations per phase) on a loopback cluster, once
// without faults and once with runners killed, the NATS node leading
// HEARTH_ASYNC killed and restarted, a gateway restarted with SIGTERM and
// MinIO paused; every promise must hold in both phases, and the report
// must carry every fault.
func TestChaosTrimmed(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chaos suite runs a cluster for about two minutes")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	minio := os.Getenv("HEARTH_MINIO_BIN")
	if minio == "" {
		minio = filepath.Join(root, ".cache", "bin", "minio")
	}
	if _, err := os.Stat(minio); err != nil {
		t.Skipf("no MinIO server (HEARTH_MINIO_BIN, or %s): build it with `go tool task minio`; `go tool task test` does", minio)
	}
	cfg := Trimmed()
	cfg.Root, cfg.MinIO, cfg.Dir = root, minio, t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("chaos run: %v (logs in %s)", err, filepath.Join(cfg.Dir, "logs"))
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", md.String())
	for _, r := range []*Result{rep.Baseline, &rep.Result} {
		if r == nil {
			t.Fatal("no baseline phase")
		}
		if !r.Clean() {
			t.Errorf("%s: promises broken:\n%s", r.Phase, strings.Join(r.Problems(), "\n"))
		}
		if r.Accepted < cfg.Invocations*9/10 {
			t.Errorf("%s: %d of %d submissions accepted", r.Phase, r.Accepted, cfg.Invocations)
		}
		if r.SyncOK == 0 {
			t.Errorf("%s: no sync call succeeded", r.Phase)
		}
	}
	seen := map[string]bool{}
	for _, e := range rep.Timeline {
		seen[e.Action+" "+strings.TrimRight(e.Target, "0123456789")] = true
		if strings.Contains(e.Detail, "error:") {
			t.Errorf("fault at %.1fs %s %s: %s", e.AtS, e.Action, e.Target, e.Detail)
		}
	}
	for _, want := range []string{"kill -9 runner-", "start runner-", "kill -9 nats-", "restart nats-", "SIGTERM gateway-", "restart gateway-", "SIGSTOP minio", "SIGCONT minio"} {
		if !seen[want] {
			t.Errorf("the timeline has no %q: %+v", want, rep.Timeline)
		}
	}
	if rep.RecoveryS > cfg.RecoveryTimeout.D().Seconds() {
		t.Errorf("recovery took %.1fs", rep.RecoveryS)
	}

	file := filepath.Join(t.TempDir(), "chaos.json")
	if err := rep.WriteJSON(file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accepted", "completed", "lost", "wrong_result", "duplicates", "dead_lettered", "sync_ok", "sync_errors", "recovery_s", "timeline", "versions", "baseline"} {
		if _, ok := back[k]; !ok {
			t.Errorf("chaos.json has no %q", k)
		}
	}
}
