package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
)

// TestBuiltBinary builds hearth as a user does and checks what only the
// binary shows: the process's exit codes, and the commit it was built
// from in hearth version.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the hearth binary")
	}
	isolateConfig(t)
	bin := filepath.Join(t.TempDir(), "hearth")
	// In a git checkout the build records the commit; elsewhere (a source
	// archive) there is none to record.
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	vcs := gitErr == nil
	if out, err := exec.Command("go", "build", "-buildvcs="+map[bool]string{true: "true", false: "auto"}[vcs], "-o", bin, ".").CombinedOutput(); err != nil {
		t.Logf("no VCS information for the build (%v: %s); building without it", err, out)
		vcs = false
		if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}

	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("hearth version: %v", err)
	}
	var v versionInfo
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("hearth version -o json: %q: %v", out, err)
	}
	if v.Wazero != wazeroInGoMod(t) || !strings.HasPrefix(v.Go, "go1.") {
		t.Errorf("version %+v", v)
	}
	if vcs {
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(v.Commit) || v.CommitTime == "" {
			t.Errorf("commit %q at %q, want a git revision", v.Commit, v.CommitTime)
		} else if strings.TrimSpace(string(head)) != v.Commit {
			t.Logf("built from %s, HEAD is now %s (a commit meanwhile?)", v.Commit, head)
		}
	}

	s := stacktest.Dev(t, t.TempDir())
	stacktest.MustDeploy(t, s.GatewayURL, "trap", testmodules.Trap, "")
	stacktest.MustDeploy(t, s.GatewayURL, "loop", testmodules.Loop, `{"timeout_ms":200}`)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"invoke", "hello", "-d", "x", "-g", s.GatewayURL}, 0},
		{[]string{"ls", "-g", "http://127.0.0.1:1"}, 1},
		{[]string{"frobnicate"}, 2},
		{[]string{"invoke", "nope", "-g", s.GatewayURL}, 3},
		{[]string{"invoke", "trap", "-g", s.GatewayURL}, 4},
		{[]string{"invoke", "loop", "-gateway", s.GatewayURL}, 5},
	} {
		err := exec.Command(bin, c.args...).Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("hearth %q: exit %d, want %d", c.args, code, c.code)
		}
	}
}
