package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/loadgen"
)

func (b *bencher) asyncAccept(ctx context.Context) (Result, error) {
	b.bar.Status("starting a second platform with the async dispatcher off…")
	s, err := b.startPlatform(ctx, "accept", gateway.Config{NoDispatcher: true})
	if err != nil {
		return Result{}, err
	}
	defer b.stopPlatform(s, "the second platform")
	header := http.Header{"Prefer": {"respond-async"}}
	return b.httpLoad(ctx, s.GatewayURL+"/v1/functions/hello/invoke", header, http.StatusAccepted, nil)
}

func (b *bencher) asyncEndToEnd(ctx context.Context) (Result, error) {
	s, err := b.platform(ctx)
	if err != nil {
		return Result{}, err
	}
	client := httpClient(b.cfg.Concurrency)
	defer client.CloseIdleConnections()
	before, deadBefore, err := asyncFinished(ctx, client, s.GatewayURL, "hello")
	if err != nil {
		return Result{}, err
	}
	url := s.GatewayURL + "/v1/functions/hello/invoke?async=true"
	cpuStart, start := loadgen.ProcessCPU(), time.Now()
	res, err := b.load(ctx, loadgen.Config{Duration: max(b.cfg.Duration/2, time.Millisecond)}, func(ctx context.Context, w *loadgen.Worker) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d, want 202", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	queued := float64(res.Ops)
	// Wait for the dispatchers to finish them all (or give up).
	deadline := time.Now().Add(max(10*b.cfg.Duration, time.Minute))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var finished, dead float64
	for {
		total, d, err := asyncFinished(ctx, client, s.GatewayURL, "hello")
		if err != nil {
			return Result{}, err
		}
		finished, dead = total-before, d-deadBefore
		b.bar.Update(loadgen.Progress{Elapsed: time.Since(start), Ops: int64(finished)})
		if finished >= queued {
			break
		}
		if time.Now().After(deadline) {
			b.log.Warn("async invocations still unfinished; reporting those done", "queued", queued, "finished", finished)
			break
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-tick.C:
		}
	}
	elapsed := time.Since(start)
	cpu := loadgen.ProcessCPU() - cpuStart
	succeeded := finished - dead
	r := Result{RPS: succeeded / elapsed.Seconds(), Ops: int64(succeeded), Errors: int64(dead) + res.Errors}
	if cpu > 0 && succeeded > 0 {
		r.CPUPerOp = ptr(micros(time.Duration(float64(cpu) / succeeded)))
		r.CPUCores = ptr(math.Round(100*cpu.Seconds()/elapsed.Seconds()) / 100)
	}
	r.Note = fmt.Sprintf("%d queued in %s at c=%d, %.0f finished %s after the first was queued, %.0f of them dead-lettered; no per-call latency",
		res.Ops, res.Elapsed.Round(time.Millisecond), b.cfg.Concurrency, finished, elapsed.Round(time.Millisecond), dead)
	if dead > 0 {
		b.log.Warn("async invocations were dead-lettered", "case", b.current, "dead", dead, "finished", finished)
	}
	return r, nil
}
