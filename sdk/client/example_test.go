package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

// The examples run against the in-process dev stack the tests start
// (gatewayURL, apiKey): against `hearth dev --auth`, they are
// http://127.0.0.1:8080 and the key in DATA/admin.key.

func Example() {
	ctx := context.Background()
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	out, info, err := c.Invoke(ctx, "hello", []byte("Hearth"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	fmt.Println("has an invocation id:", info.InvocationID != "")
	// Output:
	// Hello, Hearth!
	// has an invocation id: true
}

func ExampleClient_Deploy() {
	ctx := context.Background()
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	module, err := os.ReadFile("../../functions/hello/hello.wasm")
	if err != nil {
		log.Fatal(err)
	}
	d, err := c.Deploy(ctx, "greeter", module, &client.Spec{MemoryMB: 32, TimeoutMs: 2000})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Delete(ctx, "greeter")
	fmt.Println(d.Name, "version", d.Version, d.ABI)
	// Name the version: calls of greeter:prod run it until the alias moves.
	if _, err := c.SetAlias(ctx, "greeter", "prod", d.Version); err != nil {
		log.Fatal(err)
	}
	out, _, err := c.Invoke(ctx, "greeter:prod", []byte("alias"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	// Output:
	// greeter version 1 command
	// Hello, alias!
}

func ExampleClient_InvokeAsync() {
	ctx := context.Background()
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	id, err := c.InvokeAsync(ctx, "hello", []byte("later"), "", "")
	if err != nil {
		log.Fatal(err)
	}
	for {
		inv, err := c.Invocation(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		if inv.Status == "succeeded" || inv.Status == "failed" || inv.Status == "dead" {
			fmt.Println(inv.Status, "after", inv.Attempts, "attempt(s)")
			break
		}
		time.Sleep(50 * time.Millisecond) // poll, as a client does
	}
	out, err := c.Result(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", out)
	// Output:
	// succeeded after 1 attempt(s)
	// Hello, later!
}

func ExampleError() {
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	_, _, err := c.Invoke(context.Background(), "no-such-function", nil)
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}
	// Output: 404 function_not_found
}

func ExampleClient_FollowLogs() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := client.New(gatewayURL)
	c.APIKey = apiKey
	if _, err := c.Deploy(ctx, "follow-me", mustRead("../../functions/hello/hello.wasm"), nil); err != nil {
		log.Fatal(err)
	}
	defer c.Delete(context.Background(), "follow-me")
	// Follow from now on (no backlog); a call is made once the stream is
	// open, in another goroutine.
	go func() {
		for i := 0; i < 50 && ctx.Err() == nil; i++ { // until the stream has seen one
			if _, _, err := c.Invoke(ctx, "follow-me", []byte("logs")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	err := c.FollowLogs(ctx, "follow-me", 0, func(ev client.LogEvent) error {
		fmt.Println(ev.Function, ev.Status, strings.TrimSpace(ev.Logs))
		cancel() // one is enough here; FollowLogs returns ctx's error
		return nil
	})
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// follow-me succeeded hello: greeted 4 bytes
	// true
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	return b
}
