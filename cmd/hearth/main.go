package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `hearth — WebAssembly functions that start in milliseconds

Server roles:
  hearth dev       run the whole platform on this machine (embedded NATS and S3)
  hearth gateway   run the HTTP gateway against an external NATS and S3
  hearth runner    run a runner against an external NATS and S3
  hearth bench     measure Hearth side by side with bare net/http and raw wazero

Functions:
  hearth deploy NAME FILE.wasm   deploy a module as a new version of NAME
  hearth invoke NAME [--data D]  call a function (input from --data or stdin)
  hearth ls                      list functions
  hearth rm NAME                 remove a function
  hearth up [-f hearth.yaml]     deploy every function of a manifest
  hearth inspect NAME            a function's spec, versions and aliases
  hearth versions NAME           list the versions of a function
  hearth alias set NAME ALIAS VERSION[=WEIGHT] [VERSION=WEIGHT…]
                                 point an alias at a version, or split calls
  hearth alias rm NAME ALIAS     remove an alias
  hearth alias ls NAME           list the aliases of a function
  (call a version as NAME@3, an alias as NAME:prod)

Invocations:
  hearth invoke NAME --async     queue a call; prints its id
  hearth invocation ID [--result]  an invocation's record, or its output
  hearth invocations NAME        the newest invocations of a function
  hearth logs NAME [-f]          logs of recent invocations (-f: follow)
  hearth dlq ls [NAME]           async invocations that ran out of attempts
  hearth dlq replay ID           queue a dead-lettered invocation again
  hearth trigger add NAME --nats SUBJECT | --cron SCHEDULE
  hearth trigger ls NAME / rm NAME N   NATS and cron triggers of a function

Access:
  hearth key create NAME --scope S[,S…] [--key-namespace NS|*] [--rps R --burst B]
                                 create an API key (its key is shown only once)
  hearth key ls / rm ID          list or revoke API keys
  hearth secret set NAME [--value V | --from-file F | < FILE]
                                 set a secret of the namespace (never echoed)
  hearth secret ls / rm NAME     list or remove the namespace's secrets
  hearth audit [--limit N] [--action A]  the audit log, newest first
  (the key a command uses: --api-key, or env HEARTH_API_KEY)

Autoscaling:
  hearth sim --invocations F --memory F [--policy …] [--json]
                                 replay a trace through the autoscaler's policies

Run 'hearth COMMAND -h' for the flags of a command.
`

type command struct {
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"dev":     {runDev},
	"gateway": {runGateway},
	"runner":  {runRunner},
	"bench":   {runBench},
	"deploy":  {runDeploy},
	"invoke":  {runInvoke},
	"ls":      {runList},
	"rm":      {runRemove},

	"up":       {runUp},
	"inspect":  {runInspect},
	"versions": {runVersions},
	"alias":    {runAlias},

	"invocations": {runInvocations},
	"invocation":  {runInvocation},
	"logs":        {runLogs},
	"dlq":         {runDLQ},
	"sim":         {runSim},
	"trigger":     {runTrigger},

	"key":    {runKey},
	"secret": {runSecret},
	"audit":  {runAudit},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hearth: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(flagError)):
		return 2 // the flag package has printed the error and the usage
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "hearth %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "hearth %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// flagError is a flag parse error that the flag package already reported.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, flagError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("hearth "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hearth %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// newLogger makes the structured logger of a server role.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", format)
}
