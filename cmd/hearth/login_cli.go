package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hearthfn/hearth/internal/cliconfig"
	"github.com/hearthfn/hearth/sdk/client"
)

// testStdin is the standard input of `secret set` and `login`; nil is
// os.Stdin (tests set a file).
var testStdin *os.File

func stdin() *os.File {
	if testStdin != nil {
		return testStdin
	}
	return os.Stdin
}

func newLoginCmd(a *app) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "login [--gateway URL] [--context NAME]",
		Short: "Check an API key against a gateway and store it in the config file",
		Long: `Login reads an API key (--api-key, else stdin when it is a pipe or a file,
else a prompt on the terminal that does not echo), checks it with a request
that needs it (GET /v1/functions), and stores it with the gateway in a
context of the config file (~/.config/hearth/config.yaml, mode 0600): the context
named by --context, else the current one, else "default". That context
becomes the current one. A key the gateway refuses is not stored.`,
		Example: `  hearth login --gateway https://hearth.example.com
  hearth login --context dev --gateway http://127.0.0.1:8080 < .hearth/admin.key
  hearth login --context prod -n shop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cliconfig.Load()
			if err != nil {
				return err
			}
			name, explicit := cf.contextName()
			if name == "" {
				name = cfg.Current
			}
			if name == "" {
				name = "default"
			}
			if err := cf.apply(cfg.Contexts[name], explicit, false); err != nil {
				return err
			}
			key := cf.apiKey
			if !cf.changed("api-key") {
				if key, err = readKey(a.stderr, cf.gateway); err != nil {
					return err
				}
			}
			if key == "" {
				return usagef("the key is empty; give it with --api-key, on stdin, or at the prompt")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			status, err := checkKey(ctx, cf.gateway, cf.namespace, key)
			var apiErr *client.Error
			answered := errors.As(err, &apiErr)
			switch {
			case err == nil:
			case answered && apiErr.Status == http.StatusForbidden:
				fmt.Fprintf(a.stderr, "note: the key is valid, but may not list the functions of namespace %s (%s)\n", cf.ns(), apiErr.Message)
			case answered && apiErr.Status == http.StatusUnauthorized:
				return &apiError{msg: fmt.Sprintf("the gateway at %s refused the key: %s: %s\nnothing was stored; check the key (hearth dev --auth writes its admin key to DATA/admin.key)", cf.gateway, apiErr.Code, apiErr.Message), err: apiErr}
			default:
				return fmt.Errorf("nothing was stored: %w", cf.explain(err))
			}
			if status == http.StatusOK {
				if open, _ := checkKey(ctx, cf.gateway, cf.namespace, ""); open == http.StatusOK {
					fmt.Fprintf(a.stderr, "note: the gateway at %s does not check keys (auth is off); the key is stored for when it does\n", cf.gateway)
				}
			}
			c := cfg.Set(name)
			c.Gateway = cf.gateway
			if cf.namespace != "" {
				c.Namespace = cf.namespace
			}
			c.Key, c.KeyFile = key, ""
			cfg.Current = name
			if err := cfg.Save(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "logged in to %s; context %s (now current) keeps the key in %s\n", cf.gateway, name, cfg.File())
			return nil
		},
	}
	clientCmd(a, cmd, &cf, false)
	return cmd
}

// readKey reads the key from stdin: the first line of a pipe or a file,
// or typed at a prompt (not echoed) on a terminal.
func readKey(prompt io.Writer, gateway string) (string, error) {
	in := stdin()
	fd := int(in.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprintf(prompt, "API key for %s: ", gateway)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read the key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if fi, err := in.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return "", usagef("no key: give it with --api-key, pipe it in (hearth login < key.txt), or run hearth login on a terminal to type it")
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the key from stdin: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// checkKey makes a request that needs a key, GET /v1/functions?limit=1,
// and returns its status; an answer other than 200 is a *client.Error.
func checkKey(ctx context.Context, gateway, namespace, key string) (int, error) {
	cl := client.New(gateway)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.BaseURL+"/v1/functions?limit=1", nil)
	if err != nil {
		return 0, usagef("--gateway %q: %v", gateway, err)
	}
	if namespace != "" {
		req.Header.Set("Hearth-Namespace", namespace)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, nil
	}
	if e := decodeAPIError(resp.StatusCode, body); e != nil {
		return resp.StatusCode, e
	}
	return resp.StatusCode, &client.Error{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: strings.TrimSpace(string(body))}
}
