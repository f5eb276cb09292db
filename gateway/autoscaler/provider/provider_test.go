package provider

import (
	"context"
	"errors"
	"testing"
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

func TestDesired(t *testing.T) {
	tests := []struct {
		name            string
		load, perRunner int
		target          float64
		want            int
	}{
		{"idle", 0, 16, 0.7, 0},
		{"no capacity known", 10, 0, 0.7, 0},
		{"exactly one full runner", 16, 16, 1, 1},
		{"one over", 17, 16, 1, 2},
		{"target leaves headroom", 16, 16, 0.5, 2},
		{"target 0.7", 100, 16, 0.7, 9}, // 100 / 11.2 = 8.93
		{"target out of range counts as 1", 32, 16, 1.5, 2},
		{"zero target counts as 1", 32, 16, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Desired(tt.load, tt.perRunner, tt.target); got != tt.want {
				t.Errorf("Desired(%d, %d, %v) = %d, want %d", tt.load, tt.perRunner, tt.target, got, tt.want)
			}
		})
	}
}
