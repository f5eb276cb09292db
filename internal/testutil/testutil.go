package testutil

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/natsembed"
	"github.com/hearthfn/hearth/internal/objstore"
)

// StartNATS starts an in-process nats-server with JetStream on a random
// port; it is shut down when the test ends.
func StartNATS(t testing.TB) *server.Server {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// ConnectNATS starts an in-process nats-server (StartNATS) and returns a
// connection to it, closed when the test ends.
func ConnectNATS(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(StartNATS(t).ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Eventually polls check every tick until it returns nil or timeout passes,
// then fails the test with the last error.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := 10 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(tick) // polling interval, not a wait for the condition
	}
}

// MinIO is a MinIO server process started for a test.
type MinIO struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
}

// HaveMinIO reports whether a MinIO server binary is available: the one
// named by $HEARTH_MINIO_BIN, which `go tool task test` builds and sets.
// Under CI a missing binary fails the test instead.
func HaveMinIO(t testing.TB) bool {
	t.Helper()
	if os.Getenv("HEARTH_MINIO_BIN") != "" {
		return true
	}
	if os.Getenv("CI") != "" {
		t.Fatal("HEARTH_MINIO_BIN is not set; run the tests with `go tool task test`")
	}
	t.Log("HEARTH_MINIO_BIN is not set: skipping MinIO; `go tool task test` builds MinIO and runs it")
	return false
}

// StartMinIO starts the MinIO server binary named by $HEARTH_MINIO_BIN on a
// random loopback port with a temporary data directory; it is stopped (by
// its process group) when the test ends. Without the binary the test is
// skipped (failed under CI).
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	if !HaveMinIO(t) {
		t.SkipNow()
	}
	bin := os.Getenv("HEARTH_MINIO_BIN")
	m := &MinIO{AccessKey: "hearth-test", SecretKey: "hearth-test-secret"}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, consolePort := freePort(t), freePort(t)
		m.Endpoint = fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command(bin, "server", t.TempDir(),
			"--address", m.Endpoint, "--console-address", fmt.Sprintf("127.0.0.1:%d", consolePort), "--quiet")
		cmd.Env = append(os.Environ(),
			"MINIO_ROOT_USER="+m.AccessKey, "MINIO_ROOT_PASSWORD="+m.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start MinIO: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		}
		if lastErr = waitLive(m.Endpoint, exited, 60*time.Second); lastErr == nil {
			t.Cleanup(stop)
			return m
		}
		stop()
	}
	t.Fatalf("MinIO did not become ready: %v", lastErr)
	return nil
}

// waitLive polls MinIO's liveness endpoint until it answers 200.
func waitLive(endpoint string, exited <-chan error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	url := "http://" + endpoint + "/minio/health/live"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("MinIO exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no 200 from %s: %v", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// S3Config starts the embedded S3 server on a random loopback port with a
// temporary directory and returns how to reach it; it is stopped when the
// test ends.
func S3Config(t testing.TB) objstore.Config {
	t.Helper()
	s3, err := embeds3.Start(embeds3.Config{Dir: t.TempDir(), AccessKey: "test-access", SecretKey: "test-secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s3.Close(context.Background()) })
	return objstore.Config{Endpoint: s3.Endpoint(), AccessKey: "test-access", SecretKey: "test-secret-key"}
}

// StartS3 starts the embedded S3 server and returns a store on it, its
// bucket created.
func StartS3(t testing.TB) *objstore.Store {
	t.Helper()
	store, err := objstore.New(S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}
