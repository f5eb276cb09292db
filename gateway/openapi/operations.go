package openapi

// operation describes one route of the route table (gateway/routes.go):
// what the document says beyond what the table knows. The path
// parameters come from the route's pattern, the namespace parameters from
// its rule (InRequest), the security from its need, and the 401, 403, 429,
// the namespace's 400 and the default error answer are added to every
// operation that has them.
type operation struct {
	id, tag, summary, description string
	pathParams                    map[string]pathParamDoc // overrides of pathParam
	params                        []m                     // query and header parameters
	body                          m                       // requestBody
	responses                     m                       // status → response
}

type pathParamDoc struct {
	schema m
	desc   string
}

// Path parameters that differ from pathParam's.
var (
	refParam = map[string]pathParamDoc{"name": {
		m{"type": "string", "pattern": `^[a-z][a-z0-9-]{0,62}([@][1-9][0-9]*|:[a-z][a-z0-9-]{0,62})?$`},
		"NAME (the newest version), NAME@VERSION or NAME:ALIAS (a weighted alias picks a version per call); : and @ may be percent-encoded.",
	}}
	faasRefParam = map[string]pathParamDoc{"name": {
		m{"type": "string", "pattern": `^[a-z][a-z0-9-]{0,62}([@][1-9][0-9]*|:[a-z][a-z0-9-]{0,62})?([.][a-z][a-z0-9-]{0,62})?$`},
		"NAME or NAME.NAMESPACE, as OpenFaaS names functions (NAME@VERSION and NAME:ALIAS work too). Without .NAMESPACE the namespace is ?namespace=, Hearth-Namespace or default; a .NAMESPACE that names another namespace than those is 400 invalid_parameter.",
	}}
	secretParam     = map[string]pathParamDoc{"name": {name(""), "The secret's name."}}
	invocationParam = map[string]pathParamDoc{"id": {m{"type": "string"}, "The invocation's id (Hearth-Invocation-Id)."}}
	deadParam       = map[string]pathParamDoc{"id": {m{"type": "string"}, "The dead letter's invocation id."}}
	keyParam        = map[string]pathParamDoc{"id": {m{"type": "string"}, "The key's id: 16 characters of a-z and 2-7."}}
)

func query(pname, desc string, schema m) m {
	return m{"name": pname, "in": "query", "schema": schema, "description": desc}
}

func limitParam(def, max int) m {
	return query("limit", "How many to answer.", m{"type": "integer", "minimum": 1, "maximum": max, "default": def})
}

// Bodies and answers several operations share.
var (
	anyBytes    = m{"*/*": m{"schema": m{}}}
	inputBody   = m{"description": "The function's input: any bytes.", "required": false, "content": anyBytes}
	invokeHdrs  = []string{"Hearth-Invocation-Id", "Hearth-Cold-Start", "Server-Timing", "Hearth-Function-Version", "Hearth-Runner", "Hearth-Placement"}
	notFoundFn  = responseRef("FunctionNotFound")
	notFoundRef = responseRef("RefNotFound")
)

// callErrors are the answers of a call that reached the invocation core,
// besides 200.
func callErrors() m {
	return m{
		"404": notFoundRef,
		"413": responseRef("CallTooLarge"),
		"429": responseRef("CallRefused"),
		"502": responseRef("CallFailed"),
		"503": responseRef("CallUnavailable"),
		"504": responseRef("CallTimeout"),
	}
}

// merged is the union of response maps.
func merged(ms ...m) m {
	out := m{}
	for _, x := range ms {
		for k, v := range x {
			out[k] = v
		}
	}
	return out
}

// passthroughOp is ANY /fn/… and, for OpenFaaS, /function/…; answer
// names the 200 of components.responses.
func passthroughOp(id, tag, summary, desc string, refs map[string]pathParamDoc, answer, bad string) operation {
	return operation{
		id: id, tag: tag, summary: summary, description: desc, pathParams: refs,
		body: inputBody,
		responses: merged(callErrors(), m{
			"200": responseRef(answer),
			"400": responseRef(bad),
		}),
	}
}

// asyncOp is /async-function/… of OpenFaaS.
func asyncOp(id, desc string) operation {
	return operation{
		id: id, tag: "openfaas", summary: "Call a function asynchronously (OpenFaaS)", description: desc,
		pathParams: faasRefParam,
		params:     []m{paramRef("X-Callback-Url"), paramRef("Hearth-Callback-Url"), paramRef("Idempotency-Key")},
		body:       inputBody,
		responses: m{
			"202": jsonResp("Durably queued: GET /v1/invocations/{id} follows it; X-Call-Id is its id.", ref("Accepted"), "Location", "Hearth-Invocation-Id", "X-Call-Id", "Hearth-Function-Version"),
			"400": errResp("invalid_name (function or namespace), invalid_parameter (two namespaces named), invalid_callback_url, invalid_idempotency_key."),
			"404": notFoundRef,
			"413": responseRef("CallTooLarge"),
			"429": errResp("rate_limited: the key's or the function's rate_limit.", "Retry-After"),
			"503": errResp("queue_unavailable: the async stream did not take the call; try again.", "Retry-After"),
		},
	}
}

func operations() map[string]operation {
	faasCallDesc := "OpenFaaS's synchronous route, answered as ANY /fn/{name}/{path}: method, path after the name, query and headers reach the function. Every answer of a call also carries X-Call-Id."
	faasAsyncDesc := "OpenFaaS's async route, answered as POST /v1/functions/{name}/invoke with Prefer: respond-async: the path after the name, query and headers reach the function; X-Callback-Url (or Hearth-Callback-Url) gets the result POSTed when it finishes (docs/async.md)."
	noDeploy := func(id, what string) operation {
		return operation{
			id: id, tag: "openfaas", summary: what + " through OpenFaaS: not supported",
			description: "OpenFaaS deploys container images here; Hearth deploys WebAssembly modules with PUT /v1/functions/{name} and deletes with DELETE /v1/functions/{name}. The request is refused and changes nothing.",
			responses:   m{"405": errResp("method_not_allowed: the message says which Hearth route to use.", "Allow")},
		}
	}
	return map[string]operation{
		"GET /healthz": {id: "healthz", tag: "operations", summary: "The process is alive",
			responses: m{"200": jsonResp("Alive.", ref("Health"))}},
		"GET /readyz": {id: "readyz", tag: "operations", summary: "NATS and the object store are reachable",
			responses: m{
				"200": jsonResp("Ready.", ref("Ready")),
				"503": jsonResp("Not ready: checks says what is wrong.", ref("Ready")),
			}},
		"GET /metrics": {id: "metrics", tag: "operations", summary: "Prometheus metrics",
			description: "The gateway's series (hearth_invocations_total{namespace,function,code,cold} and the others of docs/operations.md). They name the functions of every namespace: with auth on, a key bound to * is needed.",
			responses:   m{"200": response("The Prometheus text exposition.", m{"text/plain": m{"schema": m{"type": "string"}}})}},
		"GET /": {id: "console", tag: "console", summary: "The web console",
			description: "The console's page (docs/console.md). It and its assets hold no data and need no key, even with auth on: the page calls the API with the key its user types in, kept in the browser's session storage.",
			responses:   m{"200": response("The page.", m{"text/html": m{"schema": m{"type": "string"}}}, "Content-Security-Policy")}},
		"GET /console/*": {id: "consoleAsset", tag: "console", summary: "A script, style sheet or image of the web console",
			pathParams: map[string]pathParamDoc{"path": {m{"type": "string"}, "The asset's path, such as js/main.js."}},
			responses: m{
				"200": response("The asset.", m{
					"text/javascript": m{"schema": m{"type": "string"}},
					"text/css":        m{"schema": m{"type": "string"}},
					"image/svg+xml":   m{"schema": m{"type": "string"}},
				}, "Content-Security-Policy"),
				"404": errResp("not_found: no such asset."),
			}},
		"GET /v1/openapi.json": {id: "getOpenAPI", tag: "operations", summary: "This document",
			description: "The OpenAPI document of the whole API, made from the gateway's route table (docs/openapi.json is the same bytes). With auth on, any valid key may read it, whatever its scopes and namespace.",
			responses:   m{"200": jsonResp("The document.", m{"type": "object"})}},

		"PUT /v1/functions/:name": {id: "deployFunction", tag: "functions", summary: "Deploy a new version",
			description: "The body is the module (application/wasm; the default spec) or multipart/form-data with parts module (the wasm) and spec (JSON). Unknown spec fields are refused; a spec that grants a secret the namespace lacks is 400. The new version is warmed (one instance on its home runner) before the answer when the module is at most 4 MiB, else right after; Hearth-Warm says which.",
			params:      append([]m{query("dry_run", "true: every check, nothing stored; 200 with dry_run true.", m{"type": "boolean"})}, warmParams()...),
			body: m{"required": true, "content": m{
				"application/wasm":         m{"schema": m{"type": "string", "contentMediaType": "application/wasm"}},
				"application/octet-stream": m{"schema": m{"type": "string", "contentMediaType": "application/wasm"}},
				"multipart/form-data": m{
					"schema": object("", []string{"module"}, m{
						"module": m{"type": "string", "contentMediaType": "application/wasm", "description": "The WebAssembly module."},
						"spec":   ref("Spec"),
					}),
					"encoding": m{"module": m{"contentType": "application/wasm, application/octet-stream"}, "spec": m{"contentType": "application/json"}},
				},
			}},
			responses: m{
				"201": jsonResp("Deployed.", ref("Deployed"), "Location", "Hearth-Warm"),
				"200": jsonResp("A dry run passed every check.", ref("Deployed")),
				"400": errResp("invalid_module, invalid_spec, invalid_name, invalid_parameter, bad_request."),
				"413": errResp("module_too_large."),
				"415": errResp("unsupported_media_type: send application/wasm or multipart/form-data."),
			}},
		"GET /v1/functions": {id: "listFunctions", tag: "functions", summary: "List functions",
			params: []m{limitParam(100, 1000), query("page", "The next_page of the previous answer.", m{"type": "string"})},
			responses: m{
				"200": jsonResp("A page of functions, by name.", ref("FunctionList")),
				"400": errResp("invalid_parameter (limit) or invalid_name (namespace)."),
			}},
		"GET /v1/functions/:name": {id: "getFunction", tag: "functions", summary: "A function: spec, versions, aliases",
			responses: m{"200": jsonResp("The function.", ref("FunctionDetail")), "404": notFoundFn}},
		"DELETE /v1/functions/:name": {id: "deleteFunction", tag: "functions", summary: "Delete a function and its triggers",
			responses: m{"204": noContent("Deleted: its versions, aliases and triggers."), "404": notFoundFn}},
		"POST /v1/functions/:name/invoke": {id: "invokeFunction", tag: "invocations", summary: "Call a function",
			description: "The body is the input, the response body the output. With Prefer: respond-async or ?async=true, the call is asynchronous: 202 once durably queued.",
			pathParams:  refParam,
			params:      []m{paramRef("Prefer"), paramRef("async"), paramRef("Hearth-Callback-Url"), paramRef("Idempotency-Key")},
			body:        inputBody,
			responses: merged(callErrors(), m{
				"200": response("The output; Content-Type from the function's CGI header, else application/octet-stream.", anyBytes, invokeHdrs...),
				"202": jsonResp("Async: durably queued.", ref("Accepted"), "Location", "Hearth-Invocation-Id", "Hearth-Function-Version"),
				"400": errResp("invalid_name (the reference), invalid_callback_url, invalid_idempotency_key."),
			})},
		"GET /v1/functions/:name/versions": {id: "listVersions", tag: "functions", summary: "A function's versions",
			responses: m{"200": jsonResp("Oldest first.", ref("VersionList")), "404": notFoundFn}},
		"GET /v1/functions/:name/versions/:version": {id: "getVersion", tag: "functions", summary: "One version",
			responses: m{
				"200": jsonResp("The version.", ref("Version")),
				"400": errResp("invalid_parameter: not a version number."),
				"404": errResp("function_not_found or version_not_found."),
			}},
		"GET /v1/functions/:name/aliases": {id: "listAliases", tag: "functions", summary: "A function's aliases",
			responses: m{"200": jsonResp("latest first, then by name.", ref("AliasList")), "404": notFoundFn}},
		"GET /v1/functions/:name/aliases/:alias": {id: "getAlias", tag: "functions", summary: "One alias",
			responses: m{"200": jsonResp("The alias.", ref("Alias")), "404": errResp("function_not_found or alias_not_found.")}},
		"PUT /v1/functions/:name/aliases/:alias": {id: "setAlias", tag: "functions", summary: "Set or move an alias",
			description: `{"version":3}, or {"weights":{"3":90,"4":10}} (2 to 10 versions, whole percentages adding up to 100). The versions it names are warmed as a deploy's are.`,
			params:      warmParams(),
			body:        m{"required": true, "content": m{"application/json": m{"schema": ref("AliasTarget")}}},
			responses: m{
				"201": jsonResp("A new alias.", ref("Alias"), "Location", "Hearth-Warm"),
				"200": jsonResp("The alias moved.", ref("Alias"), "Hearth-Warm"),
				"400": errResp("invalid_alias (the body, a missing version, latest), invalid_name or invalid_parameter (wait, warm)."),
				"404": notFoundFn,
			}},
		"DELETE /v1/functions/:name/aliases/:alias": {id: "deleteAlias", tag: "functions", summary: "Remove an alias",
			responses: m{
				"204": noContent("Removed."),
				"400": errResp("invalid_alias: latest cannot be removed."),
				"404": errResp("function_not_found or alias_not_found."),
			}},
		"GET /v1/functions/:name/invocations": {id: "listInvocations", tag: "invocations", summary: "A function's newest invocations",
			params: []m{limitParam(50, 1000)},
			responses: m{
				"200": jsonResp("Newest first.", ref("InvocationList")),
				"400": errResp("invalid_parameter (limit) or invalid_name."),
			}},
		"GET /v1/functions/:name/logs": {id: "functionLogs", tag: "invocations", summary: "A function's logs, as server-sent events; follow=true keeps the stream open",
			description: "A text/event-stream of one event per finished invocation (event: logs, id: the invocation's id, data: a JSON LogEvent): the newest limit of them, oldest first; with follow=true, then each invocation that finishes after, until the client disconnects or the gateway shuts down, with a comment line (: keepalive) every 15 s. Invocations still queued or running are not sent; those of a spec with records none or errors leave none to send.",
			params: []m{
				query("follow", "Keep the stream open and send each invocation that finishes.", m{"type": "string", "enum": []any{"true", "false", "1", "0"}, "default": "false"}),
				query("limit", "How many of the newest finished invocations to send first (0: none).", m{"type": "integer", "minimum": 0, "maximum": 1000, "default": 20}),
			},
			responses: m{
				"200": response("The events: event: logs, id: INVOCATION-ID, data: a LogEvent.", m{"text/event-stream": m{"schema": m{"type": "string"}, "x-event-data": ref("LogEvent")}}),
				"400": errResp("invalid_parameter (follow or limit) or invalid_name."),
			}},
		"GET /v1/functions/:name/triggers": {id: "listTriggers", tag: "triggers", summary: "The triggers of the latest version",
			responses: m{"200": jsonResp("Numbered from 1 in this order.", ref("TriggerList")), "404": notFoundFn}},
		"POST /v1/functions/:name/triggers": {id: "addTrigger", tag: "triggers", summary: "Add a trigger",
			description: "Deploys a new version with the same module and the trigger added to the spec.",
			body:        m{"required": true, "content": m{"application/json": m{"schema": ref("Trigger")}}},
			responses: m{
				"201": jsonResp("The new version and its triggers.", ref("TriggerList"), "Hearth-Warm"),
				"400": errResp("invalid_trigger or invalid_spec."),
				"404": notFoundFn,
			}},
		"DELETE /v1/functions/:name/triggers/:n": {id: "deleteTrigger", tag: "triggers", summary: "Remove a trigger",
			description: "Deploys a new version with the same module and the trigger taken out of the spec.",
			responses: m{
				"201": jsonResp("The new version and its triggers.", ref("TriggerList"), "Hearth-Warm"),
				"400": errResp("invalid_parameter: not a trigger number."),
				"404": errResp("function_not_found or trigger_not_found."),
			}},
		"GET /v1/runners": {id: "listRunners", tag: "operations", summary: "The runner table",
			responses: m{"200": jsonResp("Every runner the gateway hears from.", ref("RunnerList"))}},

		"GET /v1/autoscaler": {id: "getAutoscaler", tag: "operations", summary: "The autoscaler's forecasts, demand, prewarms and retires",
			description: "The namespace's functions in the autoscaler's last 120 minutes: the invocations of each minute against the forecast made for it, and the prewarms and retires it sent to runners. The gateway holding the autoscaler's lease answers from its memory; the others with what it published at the end of its last minute. With the autoscaler off, enabled is false.",
			responses:   m{"200": jsonResp("The timeline.", ref("Autoscaler"))}},

		"GET /v1/invocations/:id": {id: "getInvocation", tag: "invocations", summary: "An invocation's record", pathParams: invocationParam,
			responses: m{"200": jsonResp("The record.", ref("Invocation")), "404": errResp("invocation_not_found (records are kept 24 h by default).")}},
		"GET /v1/invocations/:id/result": {id: "getInvocationResult", tag: "invocations", summary: "The stored output of a finished async invocation", pathParams: invocationParam,
			responses: m{
				"200": response("The output.", m{"application/octet-stream": m{"schema": m{}}}),
				"404": errResp("invocation_not_found, no_result (failed, dead, or a sync call, whose output went to its caller) or result_expired."),
				"409": errResp("not_finished: queued or running."),
			}},
		"GET /v1/invocations/:id/logs": {id: "getInvocationLogs", tag: "invocations", summary: "The captured stderr of an invocation", pathParams: invocationParam,
			responses: m{
				"200": response("The log; empty if none.", m{"text/plain": m{"schema": m{"type": "string"}}}),
				"404": errResp("invocation_not_found."),
			}},
		"GET /v1/dlq": {id: "listDeadLetters", tag: "dlq", summary: "Dead letters of the namespace",
			params:    []m{query("function", "Only this function's.", name(""))},
			responses: m{"200": jsonResp("Oldest first.", ref("DeadLetterList"))}},
		"POST /v1/dlq/:id/replay": {id: "replayDeadLetter", tag: "dlq", summary: "Queue a dead letter again", pathParams: deadParam,
			description: "Queued again under the same id, with fresh attempts, on the function's current version.",
			responses: m{
				"202": jsonResp("Queued.", ref("Accepted"), "Location"),
				"404": errResp("not_in_dlq."),
			}},

		"GET /v1/secrets": {id: "listSecrets", tag: "secrets", summary: "The namespace's secrets, never their values",
			responses: m{"200": jsonResp("By name.", ref("SecretList"))}},
		"GET /v1/secrets/:name": {id: "getSecret", tag: "secrets", summary: "A secret's metadata", pathParams: secretParam,
			responses: m{"200": jsonResp("The metadata.", ref("Secret")), "404": errResp("secret_not_found.")}},
		"PUT /v1/secrets/:name": {id: "putSecret", tag: "secrets", summary: "Set a secret", pathParams: secretParam,
			description: "Encrypted at rest (AES-GCM); never answered or logged. A new value reaches new invocations within seconds.",
			body:        m{"required": true, "content": m{"application/json": m{"schema": ref("SecretValue")}}},
			responses: m{
				"201": jsonResp("A new secret.", ref("Secret"), "Location"),
				"200": jsonResp("The value was replaced.", ref("Secret")),
				"400": errResp("invalid_name or invalid_secret (not that JSON, no value, an empty value)."),
				"413": errResp("payload_too_large: above 64 KiB."),
				"503": errResp("secrets_unavailable: this gateway has no secrets key."),
			}},
		"DELETE /v1/secrets/:name": {id: "deleteSecret", tag: "secrets", summary: "Delete a secret", pathParams: secretParam,
			responses: m{"204": noContent("Deleted; functions granted it fail with secret_unavailable until it is set again."), "404": errResp("secret_not_found.")}},

		"POST /v1/keys": {id: "createKey", tag: "keys", summary: "Create an API key",
			body: m{"required": true, "content": m{"application/json": m{"schema": ref("KeyRequest")}}},
			responses: m{
				"201": jsonResp("The key, shown only here.", ref("NewKey"), "Location"),
				"400": errResp("invalid_key."),
				"403": errResp("forbidden: more scopes than the caller's key, or a namespace it is not bound to."),
				"409": errResp("auth_disabled: the gateway runs without auth."),
			}},
		"GET /v1/keys": {id: "listKeys", tag: "keys", summary: "List API keys, never a key",
			responses: m{
				"200": jsonResp("Oldest first; a key bound to a namespace sees that namespace's.", ref("KeyList")),
				"409": errResp("auth_disabled."),
			}},
		"DELETE /v1/keys/:id": {id: "deleteKey", tag: "keys", summary: "Revoke an API key", pathParams: keyParam,
			responses: m{
				"204": noContent("Refused at once by this gateway, within milliseconds by the others."),
				"404": errResp("key_not_found."),
				"409": errResp("auth_disabled."),
			}},
		"GET /v1/audit": {id: "listAudit", tag: "audit", summary: "The audit log",
			params: []m{
				limitParam(100, 1000),
				query("action", "Only this action.", m{"type": "string", "enum": []string{"function.deploy", "function.delete", "alias.set", "alias.delete", "trigger.add", "trigger.delete", "secret.put", "secret.delete", "key.create", "key.delete", "dlq.replay"}}),
				query("namespace", "Only this namespace's entries: a name or *.", m{"type": "string"}),
			},
			responses: m{
				"200": jsonResp("Newest first.", ref("AuditList")),
				"400": errResp("invalid_parameter or invalid_name."),
				"403": errResp("forbidden: another namespace than a namespace-bound key's."),
			}},

		"ANY /fn/:name": passthroughOp("passthrough", "invocations", "HTTP passthrough to a function",
			"Method, path, query and headers reach the function (CGI variables); its Status, Content-Type and other CGI headers shape the response.", refParam, "Passthrough", "BadRef"),
		"ANY /fn/:name/*": passthroughOp("passthroughPath", "invocations", "HTTP passthrough to a function, with a path",
			"As /fn/{name}; the function sees /{path}.", refParam, "Passthrough", "BadRef"),

		"ANY /function/:name": passthroughOp("faasCall", "openfaas", "Call a function (OpenFaaS)", faasCallDesc, faasRefParam, "FaasPassthrough", "FaasBadTarget"),
		"ANY /function/:name/*": passthroughOp("faasCallPath", "openfaas", "Call a function with a path (OpenFaaS)",
			faasCallDesc+" The function sees /{path}.", faasRefParam, "FaasPassthrough", "FaasBadTarget"),
		"POST /async-function/:name":   asyncOp("faasAsync", faasAsyncDesc),
		"POST /async-function/:name/*": asyncOp("faasAsyncPath", faasAsyncDesc+" The function sees /{path}."),
		"GET /system/functions": {id: "faasListFunctions", tag: "openfaas", summary: "List functions (OpenFaaS)",
			description: "The namespace's functions in OpenFaaS's shape, a JSON array.",
			responses:   m{"200": jsonResp("The functions, by name.", arrayOf(ref("FaasFunction"), ""))}},
		"POST /system/functions":   noDeploy("faasDeployFunction", "Deploy"),
		"PUT /system/functions":    noDeploy("faasUpdateFunction", "Update"),
		"DELETE /system/functions": noDeploy("faasDeleteFunction", "Delete"),
		"GET /system/function/:name": {id: "faasGetFunction", tag: "openfaas", summary: "A function (OpenFaaS)",
			description: "In OpenFaaS's shape; the namespace is ?namespace= (or Hearth-Namespace), as OpenFaaS has it.",
			responses:   m{"200": jsonResp("The function.", ref("FaasFunction")), "404": notFoundFn}},
		"GET /system/info": {id: "faasInfo", tag: "openfaas", summary: "The provider and its version (OpenFaaS)",
			description: "As faas-cli version reads it. With auth on, any valid key may read it.",
			responses:   m{"200": jsonResp("The provider.", ref("FaasInfo"))}},
	}
}

// warmParams are the query parameters of a deploy's and an alias
// change's warming (gateway/warm.go).
func warmParams() []m {
	return []m{
		query("wait", "warm: answer once an instance is warm, whatever the module's size; none: answer at once and warm right after. Absent: wait for modules up to 4 MiB.", m{"type": "string", "enum": []string{"warm", "none"}}),
		query("warm", "false: do not warm (the first call is a cold start); not with wait=warm.", m{"type": "boolean"}),
	}
}
