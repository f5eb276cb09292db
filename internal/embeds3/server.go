package embeds3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// defaultAddr is where the server listens unless Config.Addr says otherwise:
// loopback only, on a free port.
const defaultAddr = "127.0.0.1:0"

// Config configures Start.
type Config struct {
	Dir       string       // data directory; objects and metadata live under it
	Addr      string       // listen address, default "127.0.0.1:0"
	AccessKey string       // required
	SecretKey string       // required
	Logger    *slog.Logger // optional
}

// Server is a running embedded S3 server.
type Server struct {
	httpServer *http.Server
	endpoint   string
	served     chan error // receives the result of http.Server.Serve

	closeOnce sync.Once
	closeErr  error
}

// Start opens the data directory and starts serving the S3 API on cfg.Addr.
// The server is listening and serving when Start returns. Only one Server may
// use a data directory at a time.
func Start(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embeds3: Config.Dir is required")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("embeds3: Config.AccessKey and Config.SecretKey are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = defaultAddr
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	handler, err := newHandler(cfg, logger)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embeds3: listen: %w", err)
	}
	s := &Server{
		httpServer: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		},
		endpoint: dialAddr(ln.Addr()),
		served:   make(chan error, 1),
	}
	go func() { s.served <- s.httpServer.Serve(ln) }()
	logger.Debug("embeds3: serving", "endpoint", s.endpoint, "dir", cfg.Dir)
	return s, nil
}

// newHandler builds the gofakes3 handler on the data directory, wrapped in
// the authenticating middleware.
func newHandler(cfg Config, logger *slog.Logger) (http.Handler, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embeds3: data directory: %w", err)
	}
	spoolDir := filepath.Join(dir, "tmp")
	// Whatever is in tmp/ was left by uploads that never finished.
	if err := os.RemoveAll(spoolDir); err != nil {
		return nil, fmt.Errorf("embeds3: clear %s: %w", spoolDir, err)
	}
	if err := os.MkdirAll(spoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("embeds3: create data directory: %w", err)
	}
	// s3afero refuses a bare OsFs (it would own "/"); root it at dir.
	backend, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
	if err != nil {
		return nil, fmt.Errorf("embeds3: open storage in %s: %w", dir, err)
	}
	faker := gofakes3.New(newDiskBackend(backend, dir),
		gofakes3.WithAutoBucket(false),
		gofakes3.WithTimeSkewLimit(0), // the middleware checks X-Amz-Date, then removes it
		gofakes3.WithLogger(slogAdapter{logger}),
	)
	return &authHandler{
		creds:  credentials{accessKey: cfg.AccessKey, secretKey: cfg.SecretKey},
		next:   faker.Server(),
		logger: logger,
		now:    time.Now,
	}, nil
}

// dialAddr returns the host:port clients should dial to reach a listener,
// replacing an unspecified IP (0.0.0.0, ::) with 127.0.0.1.
func dialAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// Endpoint returns the address to give minio.New: "127.0.0.1:PORT", without a scheme.
func (s *Server) Endpoint() string {
	return s.endpoint
}

// Close stops the server gracefully: it stops accepting connections and waits
// for requests in flight to finish, or for ctx to end, in which case the
// remaining connections are closed. Calling Close again returns the first
// result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		if err := s.httpServer.Shutdown(ctx); err != nil {
			s.httpServer.Close()
			s.closeErr = fmt.Errorf("embeds3: shutdown: %w", err)
		}
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) && s.closeErr == nil {
			s.closeErr = fmt.Errorf("embeds3: serve: %w", err)
		}
	})
	return s.closeErr
}

// slogAdapter passes gofakes3's log lines to slog: its per-request chatter at
// debug level, its warnings and errors (such as a client hanging up during an
// upload) as warnings.
type slogAdapter struct {
	logger *slog.Logger
}

// Print implements gofakes3.Logger.
func (a slogAdapter) Print(level gofakes3.LogLevel, v ...any) {
	slogLevel := slog.LevelDebug
	switch level {
	case gofakes3.LogErr, gofakes3.LogWarn:
		slogLevel = slog.LevelWarn
	}
	a.logger.Log(context.Background(), slogLevel, "gofakes3: "+strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
