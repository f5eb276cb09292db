// Command sleeper stands in for `hearth runner` in the process provider's
// tests. It takes --id, writes "ready-<id>" (holding its pid) into
// $SLEEPER_DIR once it handles SIGTERM, and on SIGTERM writes "drained-<id>" and exits 0.
package main

import (
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

func main() {
	id := flag.String("id", "", "runner id")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM (a runner that never drains)")
	flag.Parse()
	dir := os.Getenv("SLEEPER_DIR")
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, "ready-"+*id), pid, 0o644); err != nil {
		os.Exit(1)
	}
	for range term {
		if *ignoreTerm {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, "drained-"+*id), nil, 0o644); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}
