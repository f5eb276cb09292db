package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

// clientFlags are the flags of every command that talks to a gateway.
type clientFlags struct {
	gateway   string
	namespace string
	apiKey    string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.gateway, "gateway", envOr("HEARTH_GATEWAY", "http://127.0.0.1:8080"), "gateway URL (env HEARTH_GATEWAY)")
	fs.StringVar(&c.namespace, "namespace", envOr("HEARTH_NAMESPACE", ""), "namespace (default \"default\"; env HEARTH_NAMESPACE)")
	fs.StringVar(&c.apiKey, "api-key", "", "API key, sent as a bearer token (default env HEARTH_API_KEY)")
}

func (c *clientFlags) client() *client.Client {
	cl := client.New(c.gateway)
	cl.Namespace = c.namespace
	cl.APIKey = c.apiKey
	if cl.APIKey == "" {
		cl.APIKey = os.Getenv("HEARTH_API_KEY")
	}
	return cl
}

// explain turns a client error into a message that says what to do.
func (c *clientFlags) explain(err error) error {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		msg := apiErr.Message
		if apiErr.Stderr != "" {
			msg += "\nfunction stderr (tail):\n" + strings.TrimRight(apiErr.Stderr, "\n")
		}
		if apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden {
			msg += "\n(set HEARTH_API_KEY or pass --api-key (hearth dev --auth writes its admin key to DATA/admin.key))"
		}
		return fmt.Errorf("%s: %s", apiErr.Code, msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the gateway at %s in time: %w", c.gateway, err)
	}
	return fmt.Errorf("%w\n(is the gateway running at %s? start one with `hearth dev`, or pass --gateway)", err, c.gateway)
}

func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("deploy", stderr, "NAME FILE.wasm [flags]")
	var cf clientFlags
	cf.register(fs)
	memory := fs.Int("memory", 0, "memory limit in MB (default 128)")
	timeout := fs.Duration("timeout", 0, "timeout per invocation (default 10s)")
	concurrency := fs.Int("concurrency", 0, "calls one runner runs at once (default: no cap)")
	var env, secrets multiFlag
	fs.Var(&env, "env", "environment variable KEY=VALUE for the function (repeatable)")
	fs.Var(&secrets, "secret", "grant the function the secret NAME, seen as env var NAME upper-cased with - as _ (repeatable; set it first with `hearth secret set`)")
	rps := fs.Float64("rps", 0, "rate limit: calls a second on each gateway (default: none)")
	burst := fs.Int("burst", 0, "with --rps: calls at once (default: the rps rounded up)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("want NAME and FILE.wasm, e.g. `hearth deploy hello functions/hello/hello.wasm`")
	}
	name, file := pos[0], pos[1]
	module, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read module: %w", err)
	}
	var spec *client.Spec
	if *burst != 0 && *rps == 0 {
		return usagef("--burst needs --rps")
	}
	if *memory != 0 || *timeout != 0 || *concurrency != 0 || len(env) > 0 || len(secrets) > 0 || *rps != 0 {
		spec = &client.Spec{MemoryMB: *memory, TimeoutMs: int(timeout.Milliseconds()), Concurrency: *concurrency, Secrets: secrets}
		if *rps != 0 {
			spec.RateLimit = &client.RateLimit{RPS: *rps, Burst: *burst}
		}
		if len(env) > 0 {
			spec.Env = make(map[string]string)
			for _, kv := range env {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usagef("--env %q: use KEY=VALUE", kv)
				}
				spec.Env[k] = v
			}
		}
	}
	fmt.Fprintf(stderr, "deploying %s (%d bytes) to %s …\n", name, len(module), cf.gateway)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	d, err := cf.client().Deploy(ctx, name, module, spec)
	if err != nil {
		return cf.explain(err)
	}
	fmt.Fprintf(stdout, "deployed %s version %d (%s, %s)\n", d.Name, d.Version, d.ABI, d.Digest)
	return nil
}

func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("invoke", stderr, "NAME [--data DATA | --data @FILE | < input]")
	var cf clientFlags
	cf.register(fs)
	data := fs.String("data", "", "input: a string, or @FILE to read a file; default stdin when it is not a terminal")
	verbose := fs.Bool("v", false, "print the invocation id, cold start and timings to stderr")
	async := fs.Bool("async", false, "queue the call and print its id instead of waiting")
	idempotency := fs.String("idempotency-key", "", "with --async: a key that makes retried submissions count once")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth invoke hello --data world`")
	}
	input, err := readInput(*data, fs)
	if err != nil {
		return err
	}
	if *async {
		id, err := cf.client().InvokeAsync(ctx, pos[0], input, *idempotency, "")
		if err != nil {
			return cf.explain(err)
		}
		fmt.Fprintln(stdout, id)
		return nil
	}
	out, info, err := cf.client().Invoke(ctx, pos[0], input)
	if *verbose && info != nil {
		fmt.Fprintf(stderr, "invocation %s cold=%t timing: %s\n", info.InvocationID, info.Cold, info.ServerTiming)
	}
	if err != nil {
		return cf.explain(err)
	}
	_, err = stdout.Write(out)
	return err
}

// readInput is the invocation input: --data, --data @file, or piped stdin.
func readInput(data string, fs *flag.FlagSet) ([]byte, error) {
	dataSet := false
	fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
	switch {
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		return b, nil
	case dataSet:
		return []byte(data), nil
	}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	return nil, nil
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ls", stderr, "[flags]")
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("ls takes no arguments")
	}
	fns, err := cf.client().List(ctx)
	if err != nil {
		return cf.explain(err)
	}
	if len(fns) == 0 {
		fmt.Fprintln(stderr, "no functions; deploy one with `hearth deploy NAME FILE.wasm`")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tABI\tDIGEST\tUPDATED")
	for _, f := range fns {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", f.Name, f.Version, f.ABI, shortDigest(f.Digest), f.UpdatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func runRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rm", stderr, "NAME [flags]")
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one function NAME, e.g. `hearth rm hello`")
	}
	if err := cf.client().Delete(ctx, pos[0]); err != nil {
		return cf.explain(err)
	}
	fmt.Fprintf(stdout, "removed %s\n", pos[0])
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
