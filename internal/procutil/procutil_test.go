package procutil

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil || port <= 0 {
		t.Fatalf("FreePort() = %d, %v", port, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	ln.Close()
}

func TestEnvWithout(t *testing.T) {
	t.Setenv("PROCUTIL_TEST_A", "1")
	t.Setenv("KEEP_PROCUTIL", "2")
	env := EnvWithout("PROCUTIL_TEST_")
	if slices.Contains(env, "PROCUTIL_TEST_A=1") || !slices.Contains(env, "KEEP_PROCUTIL=2") {
		t.Fatalf("EnvWithout kept the prefix or dropped another variable")
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("1\n2\n3\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "3\n4" {
		t.Errorf("Tail(2) = %q", got)
	}
	if got := Tail(path, 10); got != "1\n2\n3\n4" {
		t.Errorf("Tail(10) = %q", got)
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 2); !strings.Contains(got, "no such file") {
		t.Errorf("Tail of a missing file = %q", got)
	}
}
