package provider

import (
	"log/slog"
	"testing"
)

// testLogger logs through t.Log, so output shows only for failing tests.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
