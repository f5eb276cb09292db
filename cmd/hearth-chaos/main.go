// Command hearth-chaos runs the chaos suite of internal/chaos on a
// loopback cluster and writes its report: `go tool task chaos` (the full
// run, 20,000 async invocations per phase) or `go tool task chaos --
// --trimmed` (the run CI makes). It exits 1 when a promise was broken.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hearthfn/hearth/internal/chaos"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("hearth-chaos", flag.ContinueOnError)
	trimmed := fs.Bool("trimmed", false, "the short run CI makes (1,500 invocations per phase) instead of the full one (20,000)")
	invocations := fs.Int("invocations", 0, "async invocations per phase (default: 20000, or 1500 with --trimmed)")
	rate := fs.Float64("rate", 0, "async submissions per second (default 100, or 50 with --trimmed)")
	syncRate := fs.Float64("sync-rate", -1, "sync calls per second (default 20, or 10 with --trimmed; 0: none)")
	runners := fs.Int("runners", 3, "runners")
	gateways := fs.Int("gateways", 2, "gateways")
	noBaseline := fs.Bool("no-baseline", false, "skip the phase without faults")
	root := fs.String("root", ".", "the module's root (hearth and nats-server are built from it)")
	minio := fs.String("minio", envOr("HEARTH_MINIO_BIN", ".cache/bin/minio"), "the MinIO server binary (go tool task minio builds it; env HEARTH_MINIO_BIN)")
	hearthBin := fs.String("hearth", os.Getenv("HEARTH_BIN"), "a hearth binary to run (default: built from --root; env HEARTH_BIN)")
	dir := fs.String("dir", "", "the cluster's data and logs (default: a new temp dir, kept)")
	jsonOut := fs.String("json", "bench/results/chaos.json", "where to write the report")
	mdOut := fs.String("md", "bench/results/chaos.md", "where to write its markdown summary")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "hearth-chaos: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	cfg := chaos.Full()
	if *trimmed {
		cfg = chaos.Trimmed()
	}
	if *invocations != 0 {
		cfg.Invocations = *invocations
	}
	if *rate != 0 {
		cfg.AsyncRate = *rate
	}
	if *syncRate >= 0 {
		cfg.SyncRate = *syncRate
	}
	if cfg.Invocations <= 0 || cfg.AsyncRate <= 0 || *runners < 1 || *gateways < 1 {
		fmt.Fprintln(os.Stderr, "hearth-chaos: --invocations, --rate, --runners and --gateways must be positive")
		return 2
	}
	cfg.Runners, cfg.Gateways, cfg.Baseline = *runners, *gateways, !*noBaseline
	var err error
	if cfg.Root, err = filepath.Abs(*root); err != nil {
		fmt.Fprintln(os.Stderr, "hearth-chaos:", err)
		return 1
	}
	if cfg.MinIO, err = filepath.Abs(*minio); err != nil {
		fmt.Fprintln(os.Stderr, "hearth-chaos:", err)
		return 1
	}
	if fi, err := os.Stat(cfg.MinIO); err != nil || fi.IsDir() {
		fmt.Fprintf(os.Stderr, "hearth-chaos: no MinIO server at %s: build it with `go tool task minio`, or name it with --minio\n", cfg.MinIO)
		return 1
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "hearth-chaos-*"); err != nil {
			fmt.Fprintln(os.Stderr, "hearth-chaos:", err)
			return 1
		}
	}
	cfg.Dir = *dir
	if *hearthBin != "" {
		if cfg.Hearth, err = filepath.Abs(*hearthBin); err != nil {
			fmt.Fprintln(os.Stderr, "hearth-chaos:", err)
			return 1
		}
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		cfg.Log.Error("chaos run failed", "error", err, "logs", filepath.Join(cfg.Dir, "logs"))
		return 1
	}
	for _, f := range []string{*jsonOut, *mdOut} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			cfg.Log.Error("report", "error", err)
			return 1
		}
	}
	if err := rep.WriteJSON(*jsonOut); err != nil {
		cfg.Log.Error("report", "error", err)
		return 1
	}
	var md strings.Builder
	_ = rep.WriteMarkdown(&md)
	if err := os.WriteFile(*mdOut, []byte(md.String()), 0o644); err != nil {
		cfg.Log.Error("report", "error", err)
		return 1
	}
	fmt.Print(md.String())
	cfg.Log.Info("chaos run done", "took", time.Since(began).Round(time.Second), "report", *jsonOut, "logs", filepath.Join(cfg.Dir, "logs"))
	clean := rep.Result.Clean() && (rep.Baseline == nil || rep.Baseline.Clean())
	if !clean {
		cfg.Log.Error("promises broken; see the report")
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
