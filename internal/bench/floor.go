package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/procutil"
)

// The floor of the cluster path: the same three processes as the cluster
// cases — an echo gateway, `hearth nats`, a responder — with nothing of
// Hearth's on the path: the gateway forwards the body with nc.Request, the
// responder reverses it natively and answers. What the cluster cases cost
// above it is what Hearth adds; what it costs is what the architecture
// (HTTP in, a NATS hop out and back, on loopback) costs on this machine.
// `hearth bench-floor gateway|runner` (hidden) runs these two roles.

// floorSubject is the subject the floor gateway sends to.
const floorSubject = "hearth.bench.floor"

// FloorGateway serves POST /invoke on listen: the body, sent to the floor
// responder over NATS, and its answer back. It prints "floor gateway
// listening on URL" once it serves, and returns when ctx ends.
func FloorGateway(ctx context.Context, natsURL, listen string, stdout io.Writer) error {
	nc, err := nats.Connect(natsURL, nats.Name("hearth-bench-floor-gateway"))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/invoke", func(c echo.Context) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
		if err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		reply, err := nc.RequestWithContext(c.Request().Context(), floorSubject, body)
		if err != nil {
			return c.String(http.StatusBadGateway, err.Error())
		}
		return c.Blob(http.StatusOK, "application/octet-stream", reply.Data)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "floor gateway listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// FloorRunner answers the floor gateway's requests with their body
// reversed. It prints "floor runner ready" once it is subscribed, and
// returns when ctx ends.
func FloorRunner(ctx context.Context, natsURL string, stdout io.Writer) error {
	nc, err := nats.Connect(natsURL, nats.Name("hearth-bench-floor-runner"))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	sub, err := nc.QueueSubscribe(floorSubject, "floor", func(m *nats.Msg) {
		_ = m.Respond(reversed(m.Data))
	})
	if err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "floor runner ready")
	<-ctx.Done()
	return sub.Drain()
}

// floorCase measures the floor: the same load as the cluster cases,
// through the floor's three processes.
func (b *bencher) floorCase(ctx context.Context) (Result, error) {
	c, err := b.startFloor(ctx)
	if err != nil {
		return Result{}, err
	}
	b.procCPU = c.pids()
	defer func() { b.procCPU = nil }()
	return b.httpLoad(ctx, c.gateway+"/invoke", nil, http.StatusOK, reversed(b.body))
}

// startFloor starts the floor's processes on first use.
func (b *bencher) startFloor(ctx context.Context) (*cluster, error) {
	if b.floor != nil {
		return b.floor, nil
	}
	if b.cfg.Hearth == "" {
		return nil, errors.New("the floor case runs the hearth binary as separate processes; Config.Hearth is not set (run it from `hearth bench`)")
	}
	b.bar.Status("starting the floor (hearth nats, an echo gateway and a native responder as processes)…")
	dir := filepath.Join(b.dataDir, "floor")
	c := &cluster{}
	ok := false
	defer func() {
		if !ok {
			c.stop(b)
		}
	}()
	env := procutil.EnvWithout("HEARTH_")
	natsURL, err := c.start(ctx, b, dir, env, "nats", "NATS listening on ", "nats", "--listen", "127.0.0.1:0", "--store-dir", filepath.Join(dir, "nats"))
	if err != nil {
		return nil, err
	}
	if c.gateway, err = c.start(ctx, b, dir, env, "gateway", "floor gateway listening on ", "bench-floor", "gateway", "--nats", natsURL); err != nil {
		return nil, err
	}
	if _, err := c.start(ctx, b, dir, env, "runner", "floor runner ready", "bench-floor", "runner", "--nats", natsURL); err != nil {
		return nil, err
	}
	b.floor = c
	ok = true
	return c, nil
}
