package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hearthfn/hearth/gateway/auth"
)

// Version is the OpenAPI version the document is written in.
const Version = "3.1.0"

// Route is one route of the gateway's route table, as Gateway.Routes
// lists it: its method ("ANY" for every one), echo's path pattern
// (/v1/functions/:name, /fn/:name/*), the scope its rule needs (as
// auth.Need names it: none, read, read or invoke, invoke, deploy, admin),
// where its namespace comes from, and its audit action.
type Route struct {
	Method, Path, Need string
	Where              auth.Where
	Action             string
}

// AnyMethods are the methods an ANY route is documented with: every one an
// OpenAPI document can name (echo also routes CONNECT, PROPFIND and
// REPORT, which it cannot).
var AnyMethods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// Path is echo's path pattern in OpenAPI's form: :name is {name}, and the
// trailing wildcard * is {path}.
func Path(echoPath string) string {
	parts := strings.Split(echoPath, "/")
	for i, p := range parts {
		switch {
		case p == "*":
			parts[i] = "{path}"
		case strings.HasPrefix(p, ":"):
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// Document writes the OpenAPI document of routes as indented JSON. Every
// route must have an operation in operations.go and every operation a
// route, so a route cannot be added without being described.
func Document(routes []Route) ([]byte, error) {
	ops := operations()
	paths := m{}
	used := map[string]bool{}
	var errs []string
	for _, r := range routes {
		k := r.Method + " " + r.Path
		op, ok := ops[k]
		if !ok {
			errs = append(errs, "route "+k+" has no operation in gateway/openapi/operations.go")
			continue
		}
		used[k] = true
		item, _ := paths[Path(r.Path)].(m)
		if item == nil {
			item = m{}
			paths[Path(r.Path)] = item
		}
		pp, err := op.pathParameters(r.Path)
		if err != nil {
			errs = append(errs, k+": "+err.Error())
			continue
		}
		if len(pp) > 0 {
			if have, ok := item["parameters"]; ok {
				a, _ := json.Marshal(have)
				b, _ := json.Marshal(pp)
				if !bytes.Equal(a, b) {
					errs = append(errs, k+": its path parameters are described unlike those of the path's other routes")
				}
			}
			item["parameters"] = pp
		}
		methods := []string{r.Method}
		if r.Method == "ANY" {
			methods = AnyMethods
		}
		for _, method := range methods {
			o, err := op.build(r, method)
			if err != nil {
				errs = append(errs, k+": "+err.Error())
				continue
			}
			item[strings.ToLower(method)] = o
		}
	}
	for k := range ops {
		if !used[k] {
			errs = append(errs, "operation "+k+" in gateway/openapi/operations.go matches no route")
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("openapi: %s", strings.Join(errs, "; "))
	}
	doc := m{
		"openapi": Version,
		"info": m{
			"title":       "Hearth API",
			"version":     "1",
			"summary":     "Hearth, a serverless WebAssembly platform: deploy, call and watch functions.",
			"description": description,
		},
		"servers": []m{{"url": "http://127.0.0.1:8080", "description": "hearth dev, by default"}},
		"tags": []m{
			{"name": "functions", "description": "Deploy, list, inspect and delete functions, their versions and aliases."},
			{"name": "invocations", "description": "Call functions, synchronously or not, and read what they did."},
			{"name": "triggers", "description": "NATS subjects and cron schedules that invoke functions."},
			{"name": "dlq", "description": "Async invocations that ran out of attempts."},
			{"name": "secrets", "description": "Encrypted values granted to functions by name."},
			{"name": "keys", "description": "API keys (admin)."},
			{"name": "audit", "description": "The log of every change (admin)."},
			{"name": "operations", "description": "Health, readiness, metrics, runners, the autoscaler and this document."},
			{"name": "console", "description": "The web console's page and assets (docs/console.md)."},
			{"name": "openfaas", "description": "Compatibility routes for OpenFaaS's faas-cli, connectors and scripts (docs/api.md, \"OpenFaaS compatibility\")."},
		},
		"paths": paths,
		"components": m{
			"schemas":    schemas(),
			"parameters": parameters(),
			"headers":    headers(),
			"responses":  responseComponents(),
			"securitySchemes": m{
				"apiKey": m{"type": "http", "scheme": "bearer",
					"description": "An API key: Authorization: Bearer hk_…. Each operation lists the scopes that meet its need as alternatives (a wider scope covers the narrower ones: deploy covers read and invoke, admin everything) and says in x-hearth-namespace where the namespace the key must be bound to comes from. hearth dev runs without keys unless started with --auth; then no operation needs one."},
			},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return buf.Bytes(), nil
}

const description = `The HTTP API of Hearth (shared/API.md is its fixed core; docs/api.md describes every route).

JSON in and out, except function payloads, which are bytes. Every error answers with status 4xx or 5xx, ` + "`Content-Type: application/json`" + ` and the body {"error":{"code":"…","message":"…"}} (the Error schema). Every response carries Hearth-Request-Id and traceparent (a request's W3C traceparent is continued; without one, or with a malformed one, a new trace starts); invocation responses also carry Hearth-Invocation-Id, Hearth-Cold-Start and Server-Timing (queue, init and run durations).

Names of functions, namespaces, aliases and secrets match ^[a-z][a-z0-9-]{0,62}$. The namespace of a request is ?namespace= or the Hearth-Namespace header, default "default".

With keys on, every operation but GET /healthz and GET /readyz needs Authorization: Bearer <key>: 401 unauthorized without a valid one, 403 forbidden when the key's scopes or namespace do not cover the request, 429 rate_limited past the key's rate limit.`

// scopesMeeting are the scopes that meet each need of auth (API.md: a
// wider scope covers the narrower ones).
var scopesMeeting = map[string][]string{
	"read":           {"read", "deploy", "admin"},
	"read or invoke": {"read", "invoke", "deploy", "admin"},
	"invoke":         {"invoke", "deploy", "admin"},
	"deploy":         {"deploy", "admin"},
	"admin":          {"admin"},
}

// WhereName names where a route's namespace comes from, as the document's
// x-hearth-namespace says it.
func WhereName(w auth.Where) string {
	switch w {
	case auth.InRequest:
		return "request"
	case auth.InObject:
		return "object"
	case auth.Cluster:
		return "cluster"
	}
	return fmt.Sprintf("where(%d)", w)
}

// build writes the operation of one method of route r.
func (op operation) build(r Route, method string) (m, error) {
	id := op.id
	if r.Method == "ANY" {
		id += strings.ToUpper(method[:1]) + strings.ToLower(method[1:])
	}
	o := m{
		"operationId":        id,
		"tags":               []string{op.tag},
		"summary":            op.summary,
		"x-hearth-scope":     r.Need,
		"x-hearth-namespace": WhereName(r.Where),
	}
	if op.description != "" {
		o["description"] = op.description
	}
	if r.Action != "" {
		o["x-hearth-audit"] = r.Action
	}

	var params []m
	if r.Where == auth.InRequest {
		params = append(params, paramRef("namespace"), paramRef("Hearth-Namespace"))
	}
	params = append(params, op.params...)
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.body != nil && method != "GET" && method != "HEAD" && method != "OPTIONS" && method != "TRACE" && method != "DELETE" {
		o["requestBody"] = op.body
	}

	responses := m{}
	for status, resp := range op.responses {
		responses[status] = resp
	}
	add := func(status string, resp m) {
		if _, ok := responses[status]; !ok {
			responses[status] = resp
		}
	}
	if r.Need == "none" {
		o["security"] = []m{}
	} else {
		scopes, ok := scopesMeeting[r.Need]
		if !ok {
			return nil, fmt.Errorf("unknown need %q", r.Need)
		}
		var sec []m
		for _, s := range scopes {
			sec = append(sec, m{"apiKey": []string{s}})
		}
		o["security"] = sec
		add("401", responseRef("Unauthorized"))
		add("403", responseRef("Forbidden"))
		add("429", responseRef("RateLimited"))
	}
	if r.Where == auth.InRequest {
		add("400", responseRef("InvalidNamespace"))
	}
	add("default", responseRef("Error"))
	o["responses"] = responses
	return o, nil
}

// pathParameters are the parameters of a route's path pattern, described
// by pathParam or the operation's overrides. They are written once for the
// path, for all its operations.
func (op operation) pathParameters(path string) ([]m, error) {
	var params []m
	for _, p := range strings.Split(path, "/") {
		var pname string
		switch {
		case p == "*":
			pname = "path"
		case strings.HasPrefix(p, ":"):
			pname = p[1:]
		default:
			continue
		}
		schema, desc := pathParam(pname)
		if o, ok := op.pathParams[pname]; ok {
			schema, desc = o.schema, o.desc
		}
		if schema == nil {
			return nil, fmt.Errorf("path parameter %s is not described", pname)
		}
		params = append(params, m{"name": pname, "in": "path", "required": true, "schema": schema, "description": desc})
	}
	return params, nil
}

// pathParam describes the path parameters most routes share.
func pathParam(pname string) (m, string) {
	switch pname {
	case "name":
		return name(""), "The function's name."
	case "version":
		return bounded(m{"type": "integer"}, 1, nil), "A version number, from 1."
	case "alias":
		return name(""), "The alias."
	case "n":
		return bounded(m{"type": "integer"}, 1, nil), "The trigger's number in the list, from 1."
	case "path":
		return m{"type": "string"}, "The rest of the path (it may hold slashes), passed to the function."
	}
	return nil, ""
}

// paramRef refers to one of components.parameters.
func paramRef(pname string) m { return m{"$ref": "#/components/parameters/" + pname} }

// parameters are the query and header parameters several operations take.
func parameters() m {
	return m{
		"namespace": m{"name": "namespace", "in": "query", "schema": name(""),
			"description": "The namespace the request addresses (default \"default\"); the same as Hearth-Namespace, and it wins over it."},
		"Hearth-Namespace": m{"name": "Hearth-Namespace", "in": "header", "schema": name(""),
			"description": "The namespace the request addresses, when ?namespace= does not name it."},
		"Prefer": m{"name": "Prefer", "in": "header", "schema": m{"type": "string"},
			"description": "respond-async makes the call asynchronous: 202 once durably queued."},
		"async": m{"name": "async", "in": "query", "schema": m{"type": "string", "enum": []string{"true", "1"}},
			"description": "true or 1: the same as Prefer: respond-async."},
		"Hearth-Callback-Url": m{"name": "Hearth-Callback-Url", "in": "header", "schema": m{"type": "string", "format": "uri"},
			"description": "Async only: an absolute http(s) URL the result is POSTed to when the invocation finishes (docs/async.md)."},
		"Idempotency-Key": m{"name": "Idempotency-Key", "in": "header", "schema": m{"type": "string"},
			"description": "Async only: calls with the same key (per function) are one invocation, with the same id."},
		"X-Callback-Url": m{"name": "X-Callback-Url", "in": "header", "schema": m{"type": "string", "format": "uri"},
			"description": "OpenFaaS's callback header: an absolute http(s) URL the result is POSTed to (as Hearth-Callback-Url)."},
	}
}

// headers are the response headers of the API (API.md).
func headers() m {
	h := func(desc string, schema m) m { return m{"description": desc, "schema": schema} }
	s := m{"type": "string"}
	return m{
		"Hearth-Request-Id":       m{"description": "The request's id, on every response.", "schema": s, "required": true},
		"traceparent":             m{"description": "W3C trace context of the gateway's span, on every response: the trace of the request's own traceparent, or a new one when it had none or a malformed one.", "schema": s, "required": true},
		"Hearth-Invocation-Id":    h("The invocation's id: GET /v1/invocations/{id}.", s),
		"Hearth-Cold-Start":       h("Whether the call started a new instance.", m{"type": "boolean"}),
		"Server-Timing":           h("queue;dur=…, init;dur=…, run;dur=… in milliseconds.", s),
		"Hearth-Function-Version": h("The version that ran (an alias may split calls between versions).", m{"type": "integer"}),
		"Hearth-Runner":           h("The runner that ran the call.", s),
		"Hearth-Placement":        h("The scheduler's reason for the runner (docs/scheduler.md).", s),
		"Retry-After":             h("Seconds to wait before trying again.", m{"type": "integer"}),
		"Hearth-Warm":             h("What became of warming the new version: warm, pending (after the answer), failed, no-runners or off (warm=false).", m{"type": "string", "enum": []string{"warm", "pending", "failed", "no-runners", "off"}}),
		"Location":                h("Where the created or queued thing is.", s),
		"WWW-Authenticate":        h(`Bearer realm="hearth"`, s),
		"X-Call-Id":               h("OpenFaaS's name for the invocation's id (the same as Hearth-Invocation-Id).", s),
		"Allow":                   h("The methods the resource has.", s),
		"Content-Security-Policy": h("The console's policy: the gateway's own scripts, styles and API only, no inline script, no framing.", s),
	}
}

// response is an answer: its description, the headers it carries (besides
// Hearth-Request-Id, which every one has) and its content.
func response(desc string, content m, hdrs ...string) m {
	hm := m{"Hearth-Request-Id": m{"$ref": "#/components/headers/Hearth-Request-Id"}, "traceparent": m{"$ref": "#/components/headers/traceparent"}}
	for _, h := range hdrs {
		hm[h] = m{"$ref": "#/components/headers/" + h}
	}
	r := m{"description": desc, "headers": hm}
	if content != nil {
		r["content"] = content
	}
	return r
}

// jsonResp is an answer with a JSON body of schema.
func jsonResp(desc string, schema m, hdrs ...string) m {
	return response(desc, m{"application/json": m{"schema": schema}}, hdrs...)
}

// responseRef refers to one of components.responses.
func responseRef(rname string) m { return m{"$ref": "#/components/responses/" + rname} }

// responseComponents are the answers many operations share.
func responseComponents() m {
	return m{
		"Unauthorized":     errResp("unauthorized: no valid API key.", "WWW-Authenticate"),
		"Forbidden":        errResp("forbidden: the key's scopes or namespace do not cover the request."),
		"RateLimited":      errResp("rate_limited: the key is past its rate limit.", "Retry-After"),
		"InvalidNamespace": errResp("invalid_name: the namespace is not a valid name."),
		"Error":            errResp("Any other error, in the JSON error shape (500 internal, 503 unavailable, …)."),
		"FunctionNotFound": errResp("function_not_found: no such function in the namespace."),
		"RefNotFound":      errResp("function_not_found, version_not_found or alias_not_found."),
		"BadRef":           errResp("invalid_name: the function reference is malformed."),
		"FaasBadTarget":    errResp("invalid_name (the function or its .NAMESPACE) or invalid_parameter (.NAMESPACE and ?namespace= or Hearth-Namespace name different namespaces)."),
		"CallTooLarge":     errResp("payload_too_large: above the gateway's limit or the function's max_payload."),
		"CallRefused":      errResp("overloaded (every runner full after the queue wait), concurrency_limit (the function's cap) or rate_limited (the key's or the function's rate_limit).", "Retry-After"),
		"CallFailed":       errResp("function_failed (a trap or a non-zero exit: error.stderr has the tail of stderr), output_too_large, secret_unavailable.", "Hearth-Invocation-Id"),
		"CallUnavailable":  errResp("no_runners, runner_lost or module_unavailable.", "Retry-After", "Hearth-Invocation-Id"),
		"CallTimeout":      errResp("timeout: the function ran past its timeout_ms.", "Hearth-Invocation-Id"),
		"Passthrough": response("The function's answer: its CGI Status header sets the status (200 without one), its Content-Type and other headers shape the response.",
			m{"*/*": m{"schema": m{}}}, invokeHdrs...),
		"FaasPassthrough": response("The function's answer, as for /fn/: its CGI Status header sets the status (200 without one), its Content-Type and other headers shape the response.",
			m{"*/*": m{"schema": m{}}}, append(append([]string{}, invokeHdrs...), "X-Call-Id")...),
	}
}

// errResp is an error answer: the JSON error shape.
func errResp(desc string, hdrs ...string) m { return jsonResp(desc, ref("Error"), hdrs...) }

// noContent is a 204.
func noContent(desc string) m { return response(desc, nil) }
