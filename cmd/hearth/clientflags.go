package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hearthfn/hearth/internal/cliconfig"
	"github.com/hearthfn/hearth/sdk/client"
)

// defaultGateway is the gateway when no flag, variable or context names one.
const defaultGateway = "http://127.0.0.1:8080"

// clientFlags are the flags of every command that talks to a gateway. What
// a command uses is resolved once, each setting from the first of: its
// flag; its environment variable (HEARTH_GATEWAY, HEARTH_NAMESPACE,
// HEARTH_API_KEY); the context of the config file (--context, else
// HEARTH_CONTEXT, else the current one); the default.
type clientFlags struct {
	gateway   string
	namespace string
	apiKey    string
	context   string

	fs       *pflag.FlagSet
	resolved bool
	app      *app
	progress bool // show the progress of large uploads on stderr
}

// attach gives cmd the flags, on its own or (persistent) on its
// subcommands too.
func (c *clientFlags) attach(a *app, cmd *cobra.Command, persistent bool) {
	c.app = a
	fs := cmd.Flags()
	if persistent {
		fs = cmd.PersistentFlags()
	}
	c.register(fs)
	_ = cmd.RegisterFlagCompletionFunc("context", completeContexts)
}

func (c *clientFlags) register(fs *pflag.FlagSet) {
	c.fs = fs
	fs.StringVarP(&c.gateway, "gateway", "g", "", `gateway URL (env HEARTH_GATEWAY, else the context's; default "`+defaultGateway+`")`)
	fs.StringVarP(&c.namespace, "namespace", "n", "", `namespace (env HEARTH_NAMESPACE, else the context's; default "default")`)
	fs.StringVar(&c.apiKey, "api-key", "", "API key, sent as a bearer token (env HEARTH_API_KEY, else the context's; see hearth login)")
	fs.StringVar(&c.context, "context", "", "the context of the config file to use (env HEARTH_CONTEXT; default its current context)")
}

// resolve fills in what the flags left unset from the environment and the
// config file. A context named with --context comes before the
// environment variables, as a flag does.
func (c *clientFlags) resolve() error {
	if c.resolved {
		return nil
	}
	name, explicit := c.contextName()
	cfgCtx, err := loadContext(name)
	if err != nil {
		return err
	}
	return c.apply(cfgCtx, explicit, true)
}

// contextName is the context asked for: --context, else HEARTH_CONTEXT
// ("" for the current one); explicit when it is the flag.
func (c *clientFlags) contextName() (name string, explicit bool) {
	if c.changed("context") {
		return c.context, true
	}
	return os.Getenv("HEARTH_CONTEXT"), false
}

func (c *clientFlags) changed(name string) bool { return c.fs != nil && c.fs.Changed(name) }

// apply resolves each setting from its flag, its environment variable and
// the context cfgCtx (nil for none), in that order, or in the order
// flag, context, environment when the context was named explicitly. The
// key is looked for only when withKey is set.
func (c *clientFlags) apply(cfgCtx *cliconfig.Context, explicit, withKey bool) error {
	c.resolved = true
	if cfgCtx == nil {
		cfgCtx = &cliconfig.Context{}
	}
	pick := func(flag, flagValue, env, fromCtx, def string) string {
		switch {
		case c.changed(flag):
			return flagValue
		case explicit && fromCtx != "":
			return fromCtx
		case os.Getenv(env) != "":
			return os.Getenv(env)
		case fromCtx != "":
			return fromCtx
		}
		return def
	}
	var ctxKey string
	if withKey && !c.changed("api-key") && (explicit || os.Getenv("HEARTH_API_KEY") == "") {
		// The key file is read only when nothing before it gives a key.
		var err error
		if ctxKey, err = cfgCtx.APIKey(); err != nil {
			return err
		}
	}
	c.gateway = pick("gateway", c.gateway, "HEARTH_GATEWAY", cfgCtx.Gateway, defaultGateway)
	c.namespace = pick("namespace", c.namespace, "HEARTH_NAMESPACE", cfgCtx.Namespace, "")
	if withKey {
		c.apiKey = pick("api-key", c.apiKey, "HEARTH_API_KEY", ctxKey, "")
	}
	return nil
}

// loadContext is the context name of the config file (the current one
// when name is ""), nil when there is none.
func loadContext(name string) (*cliconfig.Context, error) {
	cfg, err := cliconfig.Load()
	if err != nil {
		return nil, err
	}
	ctx := cfg.Context(name)
	if ctx == nil && name != "" {
		return nil, usageError{(&cliconfig.UnknownContextError{Name: name, Known: cfg.Names()}).Error()}
	}
	return ctx, nil
}

// ns is the namespace the command acts in, "default" when none is set.
func (c *clientFlags) ns() string {
	if c.namespace == "" {
		return "default"
	}
	return c.namespace
}

// client is a client of the resolved gateway, namespace and key.
func (c *clientFlags) client() (*client.Client, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	cl := client.New(c.gateway)
	cl.Namespace = c.namespace
	cl.APIKey = c.apiKey
	if c.progress && c.app != nil {
		cl.HTTP = &http.Client{Transport: &progressTransport{next: http.DefaultTransport, w: c.app.stderr}}
	}
	return cl, nil
}

// apiError is an answer of the API explained for a person; it unwraps to
// the *client.Error, which says the exit code.
type apiError struct {
	msg string
	err *client.Error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// loginHint is what to do about a 401 or 403.
const loginHint = "(set HEARTH_API_KEY or pass --api-key (hearth dev --auth writes its admin key to DATA/admin.key), or store a key with `hearth login`)"

// explain turns a client error into a message that says what to do.
func (c *clientFlags) explain(err error) error {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		msg := apiErr.Message
		if apiErr.Stderr != "" {
			msg += "\nfunction stderr (tail):\n" + strings.TrimRight(apiErr.Stderr, "\n")
		}
		if apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden {
			msg += "\n" + loginHint
		}
		return &apiError{msg: fmt.Sprintf("%s: %s", apiErr.Code, msg), err: apiErr}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from the gateway at %s in time: %w", c.gateway, err)
	}
	var usage usageError
	if errors.As(err, &usage) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w\n(is the gateway running at %s? start one with `hearth dev`, or pass --gateway)", err, c.gateway)
}
