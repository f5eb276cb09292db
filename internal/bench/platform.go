package bench

import (
	"context"
	"path/filepath"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
)

// close stops the platform, if it was started.
func (b *bencher) close() {
	if b.cluster != nil {
		b.cluster.stop(b)
		b.cluster = nil
	}
	if b.floor != nil {
		b.floor.stop(b)
		b.floor = nil
	}
	if b.dev != nil {
		b.stopPlatform(b.dev, "the platform")
		b.dev = nil
	}
}

// platform returns the running platform, starting it on first use.
func (b *bencher) platform(ctx context.Context) (*stack.Stack, error) {
	if b.dev != nil {
		return b.dev, nil
	}
	b.bar.Status("starting the platform (NATS, S3, gateway, runner; deploying the examples)…")
	s, err := b.startPlatform(ctx, "dev", gateway.Config{})
	if err != nil {
		return nil, err
	}
	b.dev = s
	return s, nil
}

// natsGateway starts, on first use, a second gateway on the platform's
// NATS, registry and store that sends every call through NATS even to the
// runner in this process (gateway.Config.NoLocal), and returns its URL.
func (b *bencher) natsGateway(ctx context.Context, s *stack.Stack) (string, error) {
	if b.natsURL == "" {
		url, err := s.StartExtraGateway(ctx, gateway.Config{NoLocal: true, NoDispatcher: true, NoTriggers: true})
		if err != nil {
			return "", err
		}
		b.natsURL = url
	}
	return b.natsURL, nil
}

// startPlatform starts `hearth dev` on random loopback ports in a
// directory of its own.
func (b *bencher) startPlatform(ctx context.Context, dir string, gw gateway.Config) (*stack.Stack, error) {
	return stack.StartDev(ctx, stack.DevConfig{
		DataDir:    filepath.Join(b.dataDir, dir),
		Listen:     "127.0.0.1:0",
		NATSListen: "127.0.0.1:0",
		S3Listen:   "127.0.0.1:0",
		Log:        b.log,
		Gateway:    gw,
	})
}

// stopPlatform stops a platform a case started for itself.
func (b *bencher) stopPlatform(s *stack.Stack, what string) {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		b.log.Warn("stopping "+what, "error", err)
	}
}
