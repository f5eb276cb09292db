package provider

import (
	"context"
	"errors"
	"testing"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// Both kinds are the autoscaler's Scalers. The check lives in a test, so
// that provider itself needs no import of autoscaler.
var (
	_ autoscaler.Scaler = Static(0)
	_ autoscaler.Scaler = (*Process)(nil)
)

func TestStatic(t *testing.T) {
	ctx := context.Background()
	p := Static(3)
	if p.Name() != "static" {
		t.Errorf("Name() = %q, want static", p.Name())
	}
	if n, err := p.Runners(ctx); n != 3 || err != nil {
		t.Fatalf("Runners() = %d, %v; want 3, nil", n, err)
	}
	tests := []struct {
		n    int
		want error
	}{
		{3, nil},
		{4, ErrFixed},
		{0, ErrFixed},
		{-1, ErrNegative},
	}
	for _, tt := range tests {
		if err := p.Scale(ctx, tt.n); !errors.Is(err, tt.want) {
			t.Errorf("Scale(%d) = %v, want %v", tt.n, err, tt.want)
		}
	}
	if n, _ := p.Runners(ctx); n != 3 {
		t.Errorf("Runners() after failed scales = %d, want 3", n)
	}
}
