package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"

	"github.com/hearthfn/hearth/internal/loadgen"
)

// reversed is what the reverse example answers to body.
func reversed(body []byte) []byte {
	out := make([]byte, len(body))
	for i, c := range body {
		out[len(out)-1-i] = c
	}
	return out
}

// httpClient is an HTTP client that keeps a connection per worker.
func httpClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		DisableCompression:  true,
	}}
}

// httpLoad posts the body to url at the bench's concurrency, checks each
// answer's status and body, and tells the server's CPU per request from
// the load generator's (a CPU profile of the measured period).
func (b *bencher) httpLoad(ctx context.Context, url string, header http.Header, wantStatus int, want []byte) (Result, error) {
	client := httpClient(b.cfg.Concurrency)
	defer client.CloseIdleConnections()
	res, share, err := b.loadSplit(ctx, loadgen.Config{Warmup: b.warmup(), Rate: b.cfg.Rate}, func(ctx context.Context, w *loadgen.Worker) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != wantStatus {
			return fmt.Errorf("status %d, want %d: %.200s", resp.StatusCode, wantStatus, body)
		}
		if want != nil && !bytes.Equal(body, want) {
			return fmt.Errorf("answer %.100q, want %.100q", body, want)
		}
		return nil
	}, true)
	if err != nil {
		return Result{}, err
	}
	r := throughput(res)
	if r.CPUPerOp != nil && !math.IsNaN(share) {
		r.ServerCPUPerOp = ptr(math.Round(10**r.CPUPerOp*(1-share)) / 10)
	}
	if b.procCPUPerOp != nil {
		// The servers are other processes: this one is the load generator
		// (and an idle S3). Every CPU figure counts them all.
		var server float64
		for _, v := range b.procCPUPerOp {
			server += v
		}
		r.ProcessCPUPerOp, r.ServerCPUPerOp = b.procCPUPerOp, ptr(math.Round(10*server)/10)
		if r.CPUPerOp != nil {
			r.CPUPerOp = ptr(math.Round(10*(*r.CPUPerOp+server)) / 10)
			r.CPUCores = ptr(math.Round(100**r.CPUPerOp*r.RPS/1e6) / 100)
		}
	}
	return r, nil
}

func (b *bencher) bareNetHTTP(ctx context.Context) (Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(reversed(body))
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	return b.httpLoad(ctx, "http://"+ln.Addr().String()+"/", nil, http.StatusOK, reversed(b.body))
}

// warmReactor measures warm sync calls of a reactor example through the
// gateway; with viaNATS, on a gateway that sends every call through NATS
// even to the runner in its own process.
func warmReactor(example string, viaNATS bool) func(b *bencher, ctx context.Context) (Result, error) {
	return func(b *bencher, ctx context.Context) (Result, error) {
		s, err := b.platform(ctx)
		if err != nil {
			return Result{}, err
		}
		url := s.GatewayURL
		if viaNATS {
			if url, err = b.natsGateway(ctx, s); err != nil {
				return Result{}, err
			}
		}
		return b.syncLoad(ctx, url, url+"/v1/functions/"+example+"/invoke", nil, nil, reversed(b.body))
	}
}

// syncLoad measures sync calls of url on the gateway at base, every one
// with header, and notes whether every call's record was written (read
// from /metrics with metricsHeader).
func (b *bencher) syncLoad(ctx context.Context, base, url string, header, metricsHeader http.Header, want []byte) (Result, error) {
	before, err := recordsDropped(ctx, base, metricsHeader)
	if err != nil {
		return Result{}, err
	}
	r, err := b.httpLoad(ctx, url, header, http.StatusOK, want)
	if err != nil {
		return Result{}, err
	}
	after, err := recordsDropped(ctx, base, metricsHeader)
	if err != nil {
		return Result{}, err
	}
	r.Note = fmt.Sprintf("invocation records dropped by the gateway's writer: %.0f", after-before)
	return r, nil
}

func (b *bencher) warmCommand(ctx context.Context) (Result, error) {
	s, err := b.platform(ctx)
	if err != nil {
		return Result{}, err
	}
	want := []byte("Hello, " + string(b.body) + "!\n")
	return b.syncLoad(ctx, s.GatewayURL, s.GatewayURL+"/v1/functions/hello/invoke", nil, nil, want)
}
