package scheduler

import (
	"container/list"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// BenchmarkPlace measures one placement decision with 10, 100 and 1,000
// runners, some with warm modules, under moderate load.
func BenchmarkPlace(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("runners=%d", n), func(b *testing.B) {
			tb := NewTable(time.Second)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < n; i++ {
				var warm []wire.WarmModule
				for j := 0; j < 5; j++ {
					warm = append(warm, wire.WarmModule{Digest: fmt.Sprintf("m%d", rng.IntN(5000)), Idle: rng.IntN(2)})
				}
				tb.Observe(wire.Heartbeat{ID: fmt.Sprintf("r%04d", i), State: wire.StateReady, Capacity: 64, InFlight: rng.IntN(32), Warm: warm}, t0)
			}
			s := New(tb, Config{})
			digests := make([]string, 1024)
			for i := range digests {
				digests[i] = fmt.Sprintf("m%d", rng.IntN(10000))
			}
			lat := make([]time.Duration, 0, 1<<16)
			i := 0
			for b.Loop() {
				start := time.Now()
				if _, err := s.Place(Request{Digest: digests[i%len(digests)]}, nil); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(start))
				}
				i++
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
			}
		})
	}
}

// BenchmarkWarmHitRatio replays a skewed (Zipf) workload over 50 runners,
// each keeping its 8 most recently used modules warm, and reports how many
// calls found their module warm on the runner chosen, per strategy.
func BenchmarkWarmHitRatio(b *testing.B) {
	for _, name := range []string{"hashing", "round-robin", "least-loaded"} {
		b.Run(name, func(b *testing.B) {
			var ratio float64
			for b.Loop() {
				ratio = warmHitRatio(name, 50, 8, 500, 20000)
			}
			b.ReportMetric(ratio*100, "warm-hit-%")
		})
	}
}

// warmHitRatio simulates calls of a Zipf-distributed set of functions.
// Each runner's warm set is an LRU of lru modules, reported in its
// heartbeat after every call; a call is a warm hit when the chosen runner
// had the module.
func warmHitRatio(strategy string, runners, lru, functions, calls int) float64 {
	st, _ := StrategyByName(strategy)
	tb := NewTable(time.Second)
	caches := make([]*lruSet, runners)
	for i := range caches {
		caches[i] = newLRU(lru)
		tb.Observe(wire.Heartbeat{ID: fmt.Sprintf("r%03d", i), State: wire.StateReady, Capacity: 1000}, t0)
	}
	index := map[string]int{}
	for i, r := range tb.Runners() {
		index[r.ID] = i
	}
	s := New(tb, Config{Strategy: st})
	rng := rand.New(rand.NewPCG(7, 11))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(functions-1))
	hits := 0
	for c := 0; c < calls; c++ {
		digest := fmt.Sprintf("fn%d", zipf.Uint64())
		d, err := s.Place(Request{Digest: digest}, nil)
		if err != nil {
			panic(err)
		}
		i := index[d.Runner.ID]
		if caches[i].touch(digest) {
			hits++
		}
		// The runner's next heartbeat: its warm modules, one idle instance each.
		warm := make([]wire.WarmModule, 0, lru)
		for _, m := range caches[i].keys() {
			warm = append(warm, wire.WarmModule{Digest: m, Idle: 1})
		}
		tb.Observe(wire.Heartbeat{ID: d.Runner.ID, State: wire.StateReady, Capacity: 1000, Warm: warm}, t0)
	}
	return float64(hits) / float64(calls)
}

type lruSet struct {
	size  int
	order *list.List
	items map[string]*list.Element
}

func newLRU(size int) *lruSet {
	return &lruSet{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// touch marks key used and reports whether it was present.
func (l *lruSet) touch(key string) bool {
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return true
	}
	l.items[key] = l.order.PushFront(key)
	if l.order.Len() > l.size {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(string))
	}
	return false
}

func (l *lruSet) keys() []string {
	out := make([]string, 0, l.order.Len())
	for e := l.order.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(string))
	}
	return out
}

func TestHashingHasMoreWarmHitsThanBaselines(t *testing.T) {
	hashing := warmHitRatio("hashing", 50, 8, 500, 20000)
	for _, base := range []string{"round-robin", "least-loaded"} {
		if other := warmHitRatio(base, 50, 8, 500, 20000); hashing <= other {
			t.Errorf("hashing warm-hit %.1f%% ≤ %s %.1f%%", hashing*100, base, other*100)
		}
	}
}
