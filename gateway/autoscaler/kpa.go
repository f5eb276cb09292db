package autoscaler

import (
	"math"
	"time"
)

// KPA is the reactive layer, after Knative's pod autoscaler: it sizes a
// function's warm instances from its observed concurrency, for the bursts
// a forecast misses. Desired instances are the average concurrency over the
// stable window divided by the per-instance target; when the average over
// the short panic window asks for at least PanicThreshold × the current
// instances, it panics: it follows the panic window and does not scale
// down until a stable window has passed without a panic signal.
type KPA struct {
	Target         float64       // concurrent calls per instance at 100%; default 1
	Utilisation    float64       // fraction of Target to aim for; default 0.7
	StableWindow   time.Duration // default 60 s
	PanicWindow    time.Duration // default 6 s (10% of stable)
	PanicThreshold float64       // default 2
	MaxInstances   int           // 0 = no cap

	samples    []sample
	panicSince time.Time // zero when not panicking
	current    int
}

type sample struct {
	at          time.Time
	concurrency float64
}

func (k *KPA) defaults() {
	if k.Target <= 0 {
		k.Target = 1
	}
	if k.Utilisation <= 0 || k.Utilisation > 1 {
		k.Utilisation = 0.7
	}
	if k.StableWindow <= 0 {
		k.StableWindow = 60 * time.Second
	}
	if k.PanicWindow <= 0 {
		k.PanicWindow = k.StableWindow / 10
	}
	if k.PanicThreshold <= 0 {
		k.PanicThreshold = 2
	}
}

// Observe records the function's concurrency (calls in flight) at a time.
func (k *KPA) Observe(at time.Time, concurrency float64) {
	k.defaults()
	k.samples = append(k.samples, sample{at, concurrency})
	cut := 0
	for cut < len(k.samples) && at.Sub(k.samples[cut].at) > k.StableWindow {
		cut++
	}
	k.samples = k.samples[cut:]
}

// Desired is how many instances to keep at now, and whether the KPA is in
// panic mode.
func (k *KPA) Desired(now time.Time) (int, bool) {
	k.defaults()
	per := k.Target * k.Utilisation
	stable := int(math.Ceil(k.average(now, k.StableWindow) / per))
	panicWant := int(math.Ceil(k.average(now, k.PanicWindow) / per))

	if k.current > 0 && float64(panicWant) >= k.PanicThreshold*float64(k.current) || k.current == 0 && panicWant > 0 && k.panicSince.IsZero() && stable < panicWant {
		if k.panicSince.IsZero() {
			k.panicSince = now
		}
	}
	if !k.panicSince.IsZero() && now.Sub(k.panicSince) >= k.StableWindow && float64(panicWant) < k.PanicThreshold*float64(max(k.current, 1)) {
		k.panicSince = time.Time{} // calm for a stable window: leave panic mode
	}
	desired := stable
	panicking := !k.panicSince.IsZero()
	if panicking {
		desired = max(panicWant, k.current) // never scale down while panicking
	}
	if k.MaxInstances > 0 {
		desired = min(desired, k.MaxInstances)
	}
	k.current = desired
	return desired, panicking
}

func (k *KPA) average(now time.Time, window time.Duration) float64 {
	sum, n := 0.0, 0
	for _, s := range k.samples {
		if now.Sub(s.at) < window {
			sum += s.concurrency
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
