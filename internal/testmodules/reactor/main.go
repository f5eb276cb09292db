// Command reactor is a test function with the reactor ABI whose behaviour
// the request body chooses: "count" answers how many calls this instance
// has served, "trap" panics, "loop" never returns, "alloc N" allocates N MiB,
// "log" writes a log line, "fail" returns an error, "big N" answers N bytes,
// "sleep N" answers after N ms (a call that takes time: an instance busy);
// anything else is echoed.
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ../reactor.wasm .
package main

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hearthfn/hearth/sdk/guest"
)

var calls int

var sink [][]byte

func init() {
	guest.Handle(func(req guest.Request) (guest.Response, error) {
		calls++
		cmd, arg, _ := strings.Cut(string(req.Body), " ")
		n, _ := strconv.Atoi(arg)
		switch cmd {
		case "count":
			return guest.Response{Body: []byte(strconv.Itoa(calls))}, nil
		case "trap":
			panic("asked to trap")
		case "loop":
			for {
			}
		case "alloc":
			for i := 0; i < n; i++ {
				sink = append(sink, make([]byte, 1<<20))
			}
			return guest.Response{Body: []byte("allocated")}, nil
		case "log":
			guest.Log("log line from call %d", calls)
			return guest.Response{Body: []byte("logged")}, nil
		case "fail":
			return guest.Response{}, errors.New("asked to fail")
		case "big":
			return guest.Response{Body: make([]byte, n)}, nil
		case "sleep":
			time.Sleep(time.Duration(n) * time.Millisecond) // the call's work: it takes n ms
			return guest.Response{Body: []byte("slept")}, nil
		case "meta":
			return guest.Response{
				Status: 201,
				Header: guest.Header{"X-Method": {req.Method}, "X-Path": {req.Path}, "X-Query": {req.Query}, "X-Test": {req.Header.Get("x-test")}},
				Body:   []byte("meta"),
			}, nil
		}
		return guest.Response{Body: req.Body}, nil
	})
}

func main() {}
