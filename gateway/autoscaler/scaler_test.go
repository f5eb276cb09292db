package autoscaler

import "testing"

func TestDesiredRunners(t *testing.T) {
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
			if got := DesiredRunners(tt.load, tt.perRunner, tt.target); got != tt.want {
				t.Errorf("DesiredRunners(%d, %d, %v) = %d, want %d", tt.load, tt.perRunner, tt.target, got, tt.want)
			}
		})
	}
}
