package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

// clientCmd gives cmd the flags of a command that talks to a gateway,
// and the completion of a function NAME as its first argument when
// completeName is set.
func clientCmd(a *app, cmd *cobra.Command, cf *clientFlags, completeName bool) *cobra.Command {
	cf.attach(a, cmd, false)
	if completeName {
		cmd.ValidArgsFunction = completeFunctions(cf, 0)
	}
	return cmd
}

func newDeployCmd(a *app) *cobra.Command {
	var (
		cf           clientFlags
		memory       int
		timeout      time.Duration
		concurrency  int
		env, secrets []string
		rps          float64
		burst        int
		records      string
		warm         string
	)
	cmd := &cobra.Command{
		Use:   "deploy NAME FILE.wasm",
		Short: "Deploy a module as a new version of a function",
		Long: `Deploy uploads a WebAssembly module as a new version of the function NAME
(created by its first deploy). Without spec flags the version runs with the
platform's defaults; hearth up deploys the functions of a manifest instead.`,
		Example: `  hearth deploy hello functions/hello/hello.wasm
  hearth deploy greet functions/hello/hello.wasm --timeout 2s --memory 64 --env GREETING=hi
  hearth deploy shop-api api.wasm -n shop --secret db-password --rps 100
  hearth deploy hot-path api.wasm --records errors
  hearth deploy thumbnail thumbnail.wasm --warm wait`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("want NAME and FILE.wasm, e.g. `hearth deploy hello functions/hello/hello.wasm`")
			}
			name, file := args[0], args[1]
			var spec *client.Spec
			if burst != 0 && rps == 0 {
				return usagef("--burst needs --rps")
			}
			switch records {
			case "", "all", "errors", "none":
			default:
				return usagef("--records %q: use all (every sync call has a record), errors (only failed ones) or none", records)
			}
			switch warm {
			case "", client.WarmWait, client.WarmNone, client.WarmOff:
			default:
				return usagef("--warm %q: use wait (answer once an instance is warm), none (warm after answering) or off (no warm instance: the first call is cold)", warm)
			}
			if memory != 0 || timeout != 0 || concurrency != 0 || len(env) > 0 || len(secrets) > 0 || rps != 0 || records != "" {
				spec = &client.Spec{MemoryMB: memory, TimeoutMs: int(timeout.Milliseconds()), Concurrency: concurrency, Secrets: secrets, Records: records}
				if rps != 0 {
					spec.RateLimit = &client.RateLimit{RPS: rps, Burst: burst}
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
			module, err := readModule(file)
			if err != nil {
				return err
			}
			cf.progress = true
			cl, err := cf.client()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "deploying %s (%s) to %s …\n", name, humanBytes(len(module)), cf.gateway)
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			d, err := cl.DeployWith(ctx, name, module, spec, client.DeployOptions{Warm: warm})
			if err != nil {
				err = cf.explain(err)
				if e, ok := err.(*apiError); ok && e.err.Code == "invalid_module" {
					e.msg = fmt.Sprintf("%s: %s\n%s", file, e.msg, moduleHint)
				}
				return err
			}
			fmt.Fprintf(a.stdout, "deployed %s version %d (%s, %s)\n", d.Name, d.Version, d.ABI, d.Digest)
			return nil
		},
	}
	clientCmd(a, cmd, &cf, true)
	fs := cmd.Flags()
	fs.IntVar(&memory, "memory", 0, "memory limit in MB (default 128)")
	fs.DurationVar(&timeout, "timeout", 0, "timeout per invocation (default 10s)")
	fs.IntVar(&concurrency, "concurrency", 0, "calls one runner runs at once (default: no cap)")
	fs.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE for the function (repeatable)")
	fs.StringArrayVar(&secrets, "secret", nil, "grant the function the secret NAME, seen as env var NAME upper-cased with - as _ (repeatable; set it first with hearth secret set)")
	fs.Float64Var(&rps, "rps", 0, "rate limit: calls a second on each gateway (default: none)")
	fs.IntVar(&burst, "burst", 0, "with --rps: calls at once (default: the rps rounded up)")
	fs.StringVar(&records, "records", "", "which sync calls leave an invocation record: all (default), errors or none")
	fs.StringVar(&warm, "warm", "", "warm one instance after the deploy: wait, none (do not wait) or off (default: wait for modules up to 4 MiB)")
	cmd.ValidArgsFunction = completeFunctionThenFile(&cf)
	return cmd
}

// moduleHint is what to do about a FILE.wasm deploy cannot read or the
// gateway refuses as no module.
const moduleHint = "(give the path of a .wasm file; `hearth build` builds the modules of hearth.yaml)"

// readModule reads deploy's FILE.wasm. The gateway checks that it is
// WebAssembly (and records a refused deploy in the audit log).
func readModule(file string) ([]byte, error) {
	module, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read module: %w\n%s", err, moduleHint)
	}
	return module, nil
}

func newListCmd(a *app) *cobra.Command {
	var (
		cf clientFlags
		of outputFlags
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the functions of a namespace",
		Example: `  hearth ls
  hearth ls -n shop -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("ls takes no arguments")
			}
			if err := of.validate(); err != nil {
				return err
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			fns, err := cl.List(cmd.Context())
			if err != nil {
				return cf.explain(err)
			}
			if fns == nil {
				fns = []client.Function{}
			}
			if len(fns) == 0 && !of.machine() {
				fmt.Fprintln(a.stderr, "no functions; deploy one with `hearth deploy NAME FILE.wasm`")
				return nil
			}
			return of.print(a.stdout, struct {
				Functions []client.Function `json:"functions"`
			}{fns}, func(w io.Writer) error {
				tw := newTable(w)
				fmt.Fprintln(tw, "NAME\tVERSION\tABI\tDIGEST\tUPDATED")
				for _, f := range fns {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", f.Name, f.Version, f.ABI, shortDigest(f.Digest), f.UpdatedAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	clientCmd(a, cmd, &cf, false)
	of.register(cmd)
	return cmd
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func newRemoveCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove a function, its versions, aliases and triggers",
		Example: `  hearth rm hello
  hearth rm api -n shop`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth rm hello`")
			}
			cl, err := cf.client()
			if err != nil {
				return err
			}
			if err := cl.Delete(cmd.Context(), args[0]); err != nil {
				return cf.explain(err)
			}
			fmt.Fprintf(a.stdout, "removed %s\n", args[0])
			return nil
		},
	}
	return clientCmd(a, cmd, &cf, true)
}
