package bench

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"time"

	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/internal/loadgen"
	"github.com/hearthfn/hearth/internal/wire"
)

func (b *bencher) scheduler1000(ctx context.Context) (Result, error) {
	const runners = 1000
	now := time.Now()
	table := scheduler.NewTable(time.Second)
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for i := range runners {
		var warm []wire.WarmModule
		for range 5 {
			warm = append(warm, wire.WarmModule{Digest: fmt.Sprintf("m%d", rng.IntN(5000)), Idle: rng.IntN(2)})
		}
		table.Observe(wire.Heartbeat{ID: fmt.Sprintf("r%04d", i), State: wire.StateReady, Capacity: 64, InFlight: rng.IntN(32), Warm: warm, Time: now}, now)
	}
	sched := scheduler.New(table, scheduler.Config{})
	digests := make([]string, 1024)
	for i := range digests {
		digests[i] = fmt.Sprintf("m%d", rng.IntN(10000))
	}
	res, err := b.load(ctx, loadgen.Config{Warmup: b.warmup(), Rate: b.cfg.Rate}, func(ctx context.Context, w *loadgen.Worker) error {
		_, err := sched.Place(scheduler.Request{Digest: digests[(w.ID*131+w.Iter)%len(digests)]}, nil)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	r := throughput(res)
	r.Note = "1,000 runners, 5 warm modules each, loads 0–31 of 64; 1,024 module digests"
	return r, nil
}
