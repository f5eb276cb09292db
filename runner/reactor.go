package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/wire"
)

var errNotReactor = errors.New("module does not export " + abi.Alloc + " and " + abi.Handle)

// runReactor serves one call on a pooled reactor instance: it takes an idle
// instance (or makes one), writes the request into its memory, calls the
// handler and copies the response out. An instance that trapped or timed
// out is closed, never reused.
func (e *Engine) runReactor(c *call) Result {
	res := Result{Cold: c.cold, Init: c.init, Interpreted: c.tier.interpreted}
	p := e.pool(c)
	inst, gen := p.take(!c.tier.interpreted, c.req.Env)
	if inst == nil {
		start := time.Now()
		var err error
		inst, err = newInstance(c.ctx, c.tier, c.req.Env, gen, c.req.Function)
		res.Init += time.Since(start)
		res.Cold = true
		if err != nil {
			p.discard(nil)
			res.Err = callError(err, c.timeout)
			res.Err.Message = "instance start-up failed: " + res.Err.Message
			return res
		}
	}
	res.Interpreted = inst.interpreted
	logs := &tailBuffer{limit: limits.StderrTailBytes}
	inst.log.set(logs)

	start := time.Now()
	out, err := callHandler(c.ctx, inst, c.meta(), c.body)
	res.Run = time.Since(start)
	res.Stderr = logs.String()
	switch {
	case err != nil:
		p.discard(inst)
		res.Err = callError(err, c.timeout)
		return res
	case inst.interpreted && !c.entry.interpreted(): // the compiled tier is ready
		p.discard(inst)
		entry := c.entry
		e.goBackground(func(ctx context.Context) { e.tierUp(ctx, p, entry, 1) }) // tierup.go
	default:
		p.put(inst)
	}
	if len(out) > c.outputLimit {
		res.Err = &wire.Error{Code: wire.CodeOutputTooLarge, Message: fmt.Sprintf("function answered %d bytes; the limit is %d", len(out), c.outputLimit)}
		return res
	}
	cgi := ParseCGI(out)
	if cgi.Headers == nil {
		res.Err = &wire.Error{Code: wire.CodeFunctionFailed, Message: "reactor response has no header block (is it built with sdk/guest?)"}
		return res
	}
	if msg := cgi.Headers.Get(abi.ErrorHeader); msg != "" {
		res.Err = &wire.Error{Code: wire.CodeFunctionFailed, Message: "function returned an error: " + msg}
		return res
	}
	res.Response = &cgi
	return res
}

// callHandler passes one request through the reactor ABI: meta and body
// go into the instance's input buffer (grown with abi.Alloc only when too
// small), then one call of abi.Handle.
func callHandler(ctx context.Context, inst *instance, meta, body []byte) ([]byte, error) {
	mem := inst.mod.Memory()
	need := uint32(len(meta) + len(body))
	if need > inst.inputCap {
		size := max(need, 4096)
		results, err := inst.alloc.Call(ctx, uint64(size))
		if err != nil {
			return nil, err
		}
		inst.input, inst.inputCap = uint32(results[0]), size
	}
	metaPtr, bodyPtr := inst.input, inst.input+uint32(len(meta))
	if need > 0 && (!mem.Write(metaPtr, meta) || !mem.Write(bodyPtr, body)) {
		return nil, fmt.Errorf("%s returned %d, outside the instance's memory", abi.Alloc, inst.input)
	}
	results, err := inst.handle.Call(ctx, uint64(metaPtr), uint64(len(meta)), uint64(bodyPtr), uint64(len(body)))
	if err != nil {
		return nil, err
	}
	packed := results[0]
	ptr, n := uint32(packed>>32), uint32(packed)
	if n == 0 {
		return nil, nil
	}
	view, ok := mem.Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("response at %d+%d is outside the instance's memory", ptr, n)
	}
	return append([]byte(nil), view...), nil
}

// reactorMeta is the request line and headers as the reactor ABI passes
// them: "METHOD PATH[?QUERY]\n" then "Name: value\n" lines.
func reactorMeta(req *wire.Request) []byte {
	method, path := orDefault(req.Method, "POST"), orDefault(req.Path, "/")
	size := len(method) + len(path) + len(req.Query) + 3
	for name, values := range req.Headers {
		for _, v := range values {
			size += len(name) + len(v) + 3
		}
	}
	b := make([]byte, 0, size)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	if req.Query != "" {
		b = append(b, '?')
		b = append(b, req.Query...)
	}
	b = append(b, '\n')
	for name, values := range req.Headers {
		for _, v := range values {
			b = append(b, name...)
			b = append(b, ": "...)
			if strings.ContainsAny(v, "\r\n") { // one line per value
				v = lineBreaks.Replace(v)
			}
			b = append(b, v...)
			b = append(b, '\n')
		}
	}
	return b
}

// lineBreaks turns the line breaks of a header value into spaces.
var lineBreaks = strings.NewReplacer("\n", " ", "\r", " ")
