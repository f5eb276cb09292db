package autoscaler

import (
	"testing"
	"time"
)

func TestKPA(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	k := &KPA{Target: 1, Utilisation: 0.5, StableWindow: 60 * time.Second, PanicWindow: 6 * time.Second}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	// Steady concurrency 2 at 50% of 1 per instance: 4 instances.
	for s := 0; s < 60; s++ {
		k.Observe(at(s), 2)
	}
	if n, panicking := k.Desired(at(59)); n != 4 || panicking {
		t.Fatalf("steady: %d instances, panic %v; want 4, no panic", n, panicking)
	}
	// A burst to 10: the panic window asks for 20 ≥ 2 × 4: panic, follow it.
	for s := 60; s < 66; s++ {
		k.Observe(at(s), 10)
	}
	n, panicking := k.Desired(at(65))
	if !panicking || n != 20 {
		t.Fatalf("burst: %d instances, panic %v; want 20 in panic", n, panicking)
	}
	// The burst ends: no scale-down while panicking.
	for s := 66; s < 80; s++ {
		k.Observe(at(s), 1)
	}
	if n, panicking := k.Desired(at(79)); !panicking || n != 20 {
		t.Fatalf("after the burst, within the stable window: %d, panic %v; want 20 kept", n, panicking)
	}
	// A stable window later without a panic signal: back to the stable average.
	for s := 80; s < 140; s++ {
		k.Observe(at(s), 1)
	}
	if n, panicking := k.Desired(at(139)); panicking || n != 2 {
		t.Fatalf("calm again: %d, panic %v; want 2, no panic", n, panicking)
	}
	// Idle: scale to zero.
	for s := 140; s < 210; s++ {
		k.Observe(at(s), 0)
	}
	if n, _ := k.Desired(at(209)); n != 0 {
		t.Fatalf("idle: %d instances, want 0", n)
	}
}

func TestKPACap(t *testing.T) {
	k := &KPA{MaxInstances: 3}
	now := time.Now()
	k.Observe(now, 100)
	if n, _ := k.Desired(now); n != 3 {
		t.Fatalf("capped: %d", n)
	}
}
