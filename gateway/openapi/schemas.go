package openapi

import (
	"time"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
)

// m is a JSON object of the document.
type m = map[string]any

// namePattern is the rule of function names, namespaces, aliases and
// secret names (API.md, "Names").
const namePattern = `^[a-z][a-z0-9-]{0,62}$`

func ref(name string) m { return m{"$ref": "#/components/schemas/" + name} }

// described sets a schema's description, unless desc is empty.
func described(s m, desc string) m {
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func str(desc string) m { return described(m{"type": "string"}, desc) }

func integer(desc string) m { return described(m{"type": "integer"}, desc) }

func boolean(desc string) m { return described(m{"type": "boolean"}, desc) }

func number(desc string) m { return described(m{"type": "number"}, desc) }

func dateTime(desc string) m { return described(m{"type": "string", "format": "date-time"}, desc) }

func name(desc string) m { return described(m{"type": "string", "pattern": namePattern}, desc) }

func arrayOf(items m, desc string) m { return described(m{"type": "array", "items": items}, desc) }

func stringMap(desc string) m {
	return described(m{"type": "object", "additionalProperties": m{"type": "string"}}, desc)
}

// object is a JSON object with properties, the required ones listed.
func object(desc string, required []string, props m) m {
	o := described(m{"type": "object", "properties": props}, desc)
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// closed is object for a request body that the gateway decodes strictly:
// an unknown field is refused.
func closed(desc string, required []string, props m) m {
	o := object(desc, required, props)
	o["additionalProperties"] = false
	return o
}

// with returns o with more properties (a Go type that embeds another).
func with(o m, desc string, required []string, props m) m {
	merged := m{}
	for k, v := range o["properties"].(m) {
		merged[k] = v
	}
	for k, v := range props {
		merged[k] = v
	}
	req, _ := o["required"].([]string)
	return object(desc, append(append([]string{}, req...), required...), merged)
}

// bounded sets a number's minimum and maximum (nil: none).
func bounded(s m, min, max any) m {
	if min != nil {
		s["minimum"] = min
	}
	if max != nil {
		s["maximum"] = max
	}
	return s
}

// schemas are the document's components.schemas: the JSON of requests and
// answers. Each names the Go type it describes; the gateway's tests match
// their properties to those types' JSON fields both ways.
func schemas() m {
	scopes := m{"type": "string", "enum": []string{"read", "invoke", "deploy", "admin"}}
	functionSummary := object("A function: its newest version (gateway functionSummary).",
		[]string{"name", "namespace", "version", "digest", "abi", "updated_at"}, m{
			"name":       name("The function's name."),
			"namespace":  name("Its namespace."),
			"version":    integer("The newest version, numbered from 1."),
			"digest":     str("The newest version's module, sha256:HEX."),
			"abi":        ref("ABI"),
			"updated_at": dateTime("When the function last changed."),
		})
	version := object("A version of a function (registry.Version), with the aliases that name it.",
		[]string{"version", "digest", "size", "abi", "spec", "created_at"}, m{
			"version":    integer("The version number, from 1."),
			"digest":     str("The module's digest, sha256:HEX."),
			"size":       integer("The module's size in bytes."),
			"abi":        ref("ABI"),
			"spec":       ref("Spec"),
			"created_at": dateTime("When it was deployed."),
			"aliases":    arrayOf(m{"type": "string"}, "The aliases that name this version (latest included; a weighted alias names each of its versions)."),
		})
	alias := object("An alias: a named pointer to one version, or a weighted split between versions (gateway aliasView).",
		[]string{"name"}, m{
			"name":       name("The alias; latest is the implicit alias of the newest version."),
			"version":    integer("The version it names, when it names one."),
			"weights":    ref("Weights"),
			"updated_at": dateTime("When it was last set."),
			"implicit":   boolean("True for latest, which moves on every deploy and cannot be set or removed."),
		})
	key := object("An API key as listed: everything but the key itself (auth.Key).",
		[]string{"id", "name", "scopes", "namespace", "rate_limit", "created_at"}, m{
			"id":         str("The key's id: 16 characters of a-z and 2-7."),
			"name":       str("A label for people."),
			"scopes":     arrayOf(scopes, "What the key may do, least to most."),
			"namespace":  str("The namespace the key is bound to, or * for every one."),
			"rate_limit": m{"anyOf": []m{ref("RateLimit"), {"type": "null"}}, "description": "The key's token bucket, or null for none."},
			"created_at": dateTime("When it was made."),
		})
	return m{
		"Error": closed("The JSON shape of every error answer (apierr.Body).", []string{"error"}, m{
			"error": ref("ErrorDetail"),
		}),
		"ErrorDetail": closed("What went wrong (apierr.Detail).", []string{"code", "message"}, m{
			"code":    str("A machine-readable code, such as function_not_found, invalid_spec, unauthorized, timeout."),
			"message": str("What went wrong and what to do."),
			"stderr":  str("The tail of a failed function's stderr."),
		}),
		"ABI": m{"type": "string", "enum": []string{abi.Command, abi.Reactor},
			"description": "How a module is run: command (a WASI program with _start, a fresh instance per call) or reactor (exports alloc and handle; instances are pooled)."},
		"Spec": closed("How a function runs (registry.Spec). Unset fields mean the default; a stored version's spec has its defaults filled in. Unknown fields are refused.", nil, m{
			"name":        name("When given, must be the deploy's name."),
			"namespace":   name("When given, must be the deploy's namespace."),
			"description": m{"type": "string", "maxLength": limits.MaxDescriptionBytes, "description": "Text for people, UTF-8, at most 1024 bytes."},
			"abi":         m{"type": "string", "enum": []string{"", abi.Command, abi.Reactor}, "description": "When given, must be the ABI detected from the module's exports."},
			"memory_mb":   bounded(integer("Memory limit in MiB; 0 or absent: the default (128)."), 0, limits.MaxMemoryMB),
			"timeout_ms":  bounded(integer("Wall-clock limit of one call in ms; 0 or absent: the default (10000); at most 15 minutes."), 0, int(limits.MaxTimeout/time.Millisecond)),
			"concurrency": bounded(integer("The calls one runner runs at once; 0: no cap beyond the runner's capacity."), 0, limits.MaxConcurrency),
			"max_payload": bounded(integer("The largest request body in bytes; 0: the gateway's limit."), 0, limits.MaxPayloadBytes),
			"records": m{"type": "string", "enum": []string{"", "all", "errors", "none"},
				"description": "Which sync calls leave an invocation record and their logs: all (the default), errors (only failed calls) or none. Async invocations always have one."},
			"env": m{"type": "object", "additionalProperties": m{"type": "string"}, "maxProperties": limits.MaxEnvVars,
				"propertyNames": m{"pattern": `^[A-Za-z_][A-Za-z0-9_]{0,127}$`},
				"description":   "Environment variables; names and values at most 64 KiB together."},
			"secrets": m{"type": "array", "items": name("A secret of the function's namespace."), "maxItems": limits.MaxSecrets, "uniqueItems": true,
				"description": "Secrets granted to the function; each reaches it as the environment variable of its name upper-cased with - as _ (db-password: DB_PASSWORD). Each must exist at deploy."},
			"rate_limit": ref("RateLimit"),
			"triggers":   m{"type": "array", "items": ref("Trigger"), "maxItems": limits.MaxTriggers, "description": "Event sources that invoke the function."},
			"labels":     m{"type": "object", "additionalProperties": m{"type": "string", "maxLength": 63}, "maxProperties": limits.MaxLabels, "description": "Kubernetes-style labels."},
		}),
		"RateLimit": closed("A token bucket (registry.RateLimit): rps calls a second, burst at once.", []string{"rps"}, m{
			"rps":   m{"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000, "description": "Calls a second."},
			"burst": bounded(integer("Calls at once; 0 or absent: rps rounded up."), 0, 1_000_000),
		}),
		"Trigger": closed("An event source that invokes a function (registry.Trigger).", []string{"type"}, m{
			"type":     m{"type": "string", "enum": []string{"nats", "cron"}},
			"subject":  str("nats: the subject; * and > wildcards, not under $, hearth. or _."),
			"schedule": str("cron: five fields (minute hour day-of-month month day-of-week, UTC), a descriptor such as @daily, or @every DURATION (at least 1s)."),
			"options": m{"type": "object", "additionalProperties": m{"type": "string", "maxLength": limits.MaxTriggerOptBytes}, "maxProperties": limits.MaxTriggerOptions,
				"propertyNames": m{"pattern": `^[a-z][a-z0-9_]{0,31}$`},
				"description":   "nats: queue (the queue group) and delivery (at-most-once, the default, or at-least-once)."},
		}),
		"Weights": m{"type": "object", "propertyNames": m{"pattern": `^[1-9][0-9]*$`}, "additionalProperties": bounded(m{"type": "integer"}, 1, 100),
			"description": "A weighted split: version number → percent of calls; 2 to 10 versions adding up to 100."},
		"AliasTarget": m{"type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
			"description": "What an alias is set to (registry.AliasTarget): one version, or weights.",
			"properties": m{
				"version": bounded(integer("The version the alias names."), 1, nil),
				"weights": ref("Weights"),
			}},
		"Deployed": object("The answer to a deploy (gateway deployResponse).", []string{"name", "namespace", "version", "digest", "abi", "created_at"}, m{
			"name":       name("The function."),
			"namespace":  name("Its namespace."),
			"version":    integer("The new version; 0 for a dry run."),
			"digest":     str("The module's digest, sha256:HEX."),
			"abi":        ref("ABI"),
			"created_at": dateTime("When the version was made."),
			"dry_run":    boolean("True when only checked (?dry_run=true): nothing was stored."),
		}),
		"FunctionSummary": functionSummary,
		"FunctionList": object("A page of functions, by name.", []string{"functions", "next_page"}, m{
			"functions": arrayOf(ref("FunctionSummary"), ""),
			"next_page": str("Pass it back as ?page= for the next page; empty on the last."),
		}),
		"FunctionDetail": with(functionSummary, "A function with its current spec, every version and its aliases (gateway functionDetail).",
			[]string{"spec", "versions", "aliases", "created_at"}, m{
				"spec":       ref("Spec"),
				"versions":   arrayOf(ref("Version"), "Oldest first."),
				"aliases":    arrayOf(ref("Alias"), "latest first, then by name."),
				"created_at": dateTime("When the function was first deployed."),
			}),
		"Version":     version,
		"VersionList": object("", []string{"versions"}, m{"versions": arrayOf(ref("Version"), "Oldest first.")}),
		"Alias":       alias,
		"AliasList":   object("", []string{"aliases"}, m{"aliases": arrayOf(ref("Alias"), "latest first, then by name.")}),
		"TriggerList": object("The triggers of a function's latest version, numbered from 1 in this order.", []string{"version", "triggers"}, m{
			"version":  integer("The version they belong to."),
			"triggers": arrayOf(ref("Trigger"), ""),
		}),
		"Accepted": object("An async invocation, durably queued.", []string{"id", "status"}, m{
			"id":     str("The invocation's id: GET /v1/invocations/{id}."),
			"status": m{"type": "string", "enum": []string{"queued"}},
		}),
		"Invocation": object("An invocation's record (records.Record).", []string{"id", "namespace", "function", "version", "mode", "status", "attempts", "queued_at", "timings", "cold"}, m{
			"id":              str("The invocation's id."),
			"namespace":       name("The function's namespace."),
			"function":        name("The function."),
			"version":         integer("The version that ran."),
			"mode":            str("How it was called: sync, async, cron or nats."),
			"status":          m{"type": "string", "enum": []string{"queued", "running", "succeeded", "failed", "dead"}},
			"attempts":        integer("Attempts so far."),
			"queued_at":       dateTime("When the gateway took it."),
			"started_at":      dateTime("When the last attempt started."),
			"finished_at":     dateTime("When it finished."),
			"next_attempt_at": dateTime("When a failed async attempt is tried again."),
			"timings": object("The last attempt, in milliseconds.", []string{"queued_ms", "wait_ms", "init_ms", "run_ms"}, m{
				"queued_ms": number("From accept to the attempt's start (async)."),
				"wait_ms":   number("Gateway and NATS time around the run."),
				"init_ms":   number("Module fetch, compile, instance start."),
				"run_ms":    number("The function's run."),
			}),
			"cold":        boolean("Whether the call started a new instance."),
			"runner":      str("The runner that ran it."),
			"placement":   str("The scheduler's reason (docs/scheduler.md)."),
			"trace_id":    str("The W3C trace id of the call: the traceparent the request brought, or the trace the gateway started (docs/observability.md)."),
			"request_id":  str("The Hearth-Request-Id of the HTTP request that made the invocation; none for cron and NATS triggers."),
			"status_code": integer("The HTTP status of the last attempt."),
			"error":       ref("ErrorDetail"),
			"result":      ref("ObjectRef"),
			"logs":        ref("ObjectRef"),
			"callback": object("The delivery of the result to the callback URL.", []string{"url", "delivered", "attempts"}, m{
				"url":         str(""),
				"delivered":   boolean(""),
				"attempts":    integer(""),
				"status_code": integer("The callback's answer."),
				"error":       str(""),
			}),
		}),
		"ObjectRef": object("A stored output or log.", []string{"key", "size"}, m{
			"key":  str("Its key in the object store."),
			"size": integer("Bytes."),
		}),
		"LogEvent": object("The data of an event of GET /v1/functions/{name}/logs: a finished invocation and its captured stderr.", []string{"id", "function", "version", "mode", "status", "queued_at", "logs"}, m{
			"id":          str("The invocation's id (also the event's id)."),
			"function":    name("The function."),
			"version":     integer("The version that ran."),
			"mode":        str("How it was called: sync, async, cron or nats."),
			"status":      m{"type": "string", "enum": []string{"succeeded", "failed", "dead"}},
			"queued_at":   dateTime("When the gateway took it."),
			"finished_at": dateTime("When it finished."),
			"logs":        str("What it wrote to stderr; empty if nothing (or expired)."),
		}),
		"InvocationList": object("", []string{"invocations"}, m{"invocations": arrayOf(ref("Invocation"), "Newest first.")}),
		"DeadLetterList": object("", []string{"dead_letters"}, m{"dead_letters": arrayOf(object("An async invocation that ran out of attempts (async.DeadLetter).",
			[]string{"id", "namespace", "function", "attempts", "last_error", "queued_at", "dead_at"}, m{
				"id":         str("The invocation's id."),
				"namespace":  name(""),
				"function":   name(""),
				"attempts":   integer(""),
				"last_error": str(""),
				"queued_at":  dateTime(""),
				"dead_at":    dateTime(""),
			}), "Oldest first.")}),
		"Autoscaler": object("The autoscaler's recent past for the namespace's functions (autoscaler.Timeline): each function's invocations per closed minute against the forecast made for it, and the prewarms and retires sent to runners, on one clock.",
			[]string{"enabled", "leading", "policy", "tick_ms", "leader", "updated_at", "minutes", "functions", "events"}, m{
				"enabled":    boolean("Whether this gateway takes part in autoscaling (--autoscale POLICY)."),
				"leading":    boolean("Whether this gateway holds the autoscaler's lease and answers from its memory; else the timeline is the one the leader published at the end of its last minute."),
				"message":    str("Why there is nothing to show, when there is not."),
				"policy":     str("The keep-alive policy: fixed-K, hybrid or predictive."),
				"tick_ms":    number("The length of the policy's minute, in milliseconds."),
				"leader":     str("The id of the gateway that made the timeline."),
				"updated_at": dateTime("When it was made or published."),
				"minutes": arrayOf(object("A closed minute.", []string{"minute", "end"}, m{
					"minute": integer("Its number in the controller's count."),
					"end":    dateTime("When it closed; it began when the one before it closed."),
				}), "The last 120 closed minutes at most, oldest first."),
				"functions": arrayOf(object("A function's minutes, aligned with minutes; a function with no call and no warm minute in them is left out.",
					[]string{"namespace", "function", "counts", "forecast_warm", "warm_now"}, m{
						"namespace":     name(""),
						"function":      name(""),
						"counts":        arrayOf(integer(""), "The invocations of each minute (the actual demand)."),
						"forecast_warm": arrayOf(boolean(""), "Whether the policy had forecast each minute warm (an instance kept for it)."),
						"warm_now":      boolean("The forecast of the minute in progress."),
					}), "By name."),
				"events": arrayOf(object("A command to a runner that changed something, or failed.",
					[]string{"time", "namespace", "function", "op", "reason", "instances", "runner"}, m{
						"time":      dateTime(""),
						"namespace": name(""),
						"function":  name(""),
						"op":        m{"type": "string", "enum": []string{"prewarm", "retire"}},
						"reason":    m{"type": "string", "enum": []string{"forecast", "reactive"}, "description": "forecast: the policy's one warm instance; reactive: the concurrency asked for more."},
						"instances": integer("Instances started (prewarm) or closed (retire)."),
						"runner":    str(""),
						"error":     str("Why the command failed."),
					}), "The last 256 at most, oldest first."),
			}),
		"RunnerList": object("The runner table.", []string{"strategy", "runners"}, m{
			"strategy": str("The placement strategy: hashing, round-robin or least-loaded."),
			"runners": arrayOf(object("A runner as its heartbeats describe it (scheduler.Info).",
				[]string{"id", "state", "capacity", "in_flight", "memory_bytes", "warm", "last_seen"}, m{
					"id":           str(""),
					"state":        m{"type": "string", "enum": []string{"ready", "draining", "stopped"}},
					"capacity":     integer("Calls it runs at once."),
					"in_flight":    integer("Calls this gateway has on it now."),
					"memory_bytes": integer(""),
					"warm": arrayOf(object("A module with instances on the runner.", []string{"digest", "memory_mb", "idle", "busy"}, m{
						"digest":    str(""),
						"memory_mb": integer(""),
						"idle":      integer("Pooled instances ready for a call."),
						"busy":      integer(""),
					}), ""),
					"last_seen": dateTime("Its last heartbeat."),
					"joining":   m{"type": "boolean", "description": "Present and true while the runner, just joined, warms the functions it is home for and takes no calls (at most 10 s)."},
				}), ""),
		}),
		"SecretValue": closed("A secret's value: 1 byte to 64 KiB.", []string{"value"}, m{
			"value": m{"type": "string", "minLength": 1},
		}),
		"Secret": object("A secret's metadata, never its value (secrets.Meta).", []string{"name", "created_at", "updated_at"}, m{
			"name":       name(""),
			"created_at": dateTime(""),
			"updated_at": dateTime(""),
		}),
		"SecretList": object("", []string{"secrets"}, m{"secrets": arrayOf(ref("Secret"), "By name.")}),
		"KeyRequest": closed("A new key (auth.KeyRequest).", []string{"name", "scopes", "namespace"}, m{
			"name":       m{"type": "string", "minLength": 1, "maxLength": 100, "description": "A label for people."},
			"scopes":     m{"type": "array", "items": scopes, "minItems": 1, "uniqueItems": true},
			"namespace":  m{"type": "string", "description": "A namespace name, or * for every one."},
			"rate_limit": ref("RateLimit"),
		}),
		"Key":     key,
		"NewKey":  with(key, "A new key: its metadata and, only in this answer, the key.", []string{"key"}, m{"key": str("The key: hk_ID_SECRET. It is stored hashed and never shown again.")}),
		"KeyList": object("", []string{"keys"}, m{"keys": arrayOf(ref("Key"), "Oldest first.")}),
		"AuditList": object("", []string{"entries"}, m{"entries": arrayOf(object("A change (audit.Entry).", []string{"time", "key_id", "action", "namespace", "target", "outcome"}, m{
			"time":      dateTime(""),
			"key_id":    str("The key that asked; empty without auth, bootstrap for the bootstrap admin key."),
			"action":    str("function.deploy, function.delete, alias.set, alias.delete, trigger.add, trigger.delete, secret.put, secret.delete, key.create, key.delete, dlq.replay."),
			"namespace": str(""),
			"target":    str("The function, NAME:ALIAS, the secret, the key id, …"),
			"outcome":   m{"type": "string", "enum": []string{"success", "denied", "failed"}},
		}), "Newest first.")}),
		"Health": object("", []string{"status"}, m{"status": m{"type": "string", "enum": []string{"ok"}}}),
		"Ready": object("", []string{"ready", "checks"}, m{
			"ready":  boolean("NATS and the object store are reachable."),
			"checks": object("ok, or what is wrong.", []string{"nats", "storage"}, m{"nats": str(""), "storage": str("")}),
		}),

		"FaasFunction": object("A function as OpenFaaS's GET /system/functions lists it (faas-provider FunctionStatus; gateway faasFunction).",
			[]string{"name", "image", "namespace", "labels", "annotations", "invocationCount", "replicas", "availableReplicas", "createdAt"}, m{
				"name":              name(""),
				"image":             str("The newest version's module digest, sha256:HEX (Hearth runs modules, not images)."),
				"namespace":         name(""),
				"envVars":           stringMap("The spec's env."),
				"secrets":           arrayOf(m{"type": "string"}, "The secrets the spec grants (names)."),
				"labels":            stringMap("The spec's labels."),
				"annotations":       stringMap("hearth/version, hearth/abi and, when set, hearth/description."),
				"limits":            object("", nil, m{"memory": str("The spec's memory_mb, as a Kubernetes quantity (128Mi).")}),
				"invocationCount":   number("Calls of the function this gateway has answered since it started."),
				"replicas":          integer("Warm instances on the runners now (0 when scaled to zero)."),
				"availableReplicas": integer("Runners ready to run it; a cold start takes milliseconds, so the function is callable whenever this is above 0."),
				"createdAt":         dateTime("When the function was first deployed."),
			}),
		"FaasInfo": object("OpenFaaS's GET /system/info (gateway faasInfo).", []string{"provider", "version", "arch"}, m{
			"provider": object("", []string{"provider", "version", "orchestration"}, m{
				"provider":      m{"type": "string", "enum": []string{"hearth"}},
				"version":       ref("FaasVersion"),
				"orchestration": m{"type": "string", "enum": []string{"hearth"}, "description": "Hearth's own scheduler over NATS; functions run in wazero."},
			}),
			"version": ref("FaasVersion"),
			"arch":    str("The gateway's GOARCH."),
		}),
		"FaasVersion": object("", []string{"sha", "release"}, m{
			"sha":     str("The commit the gateway was built from (empty when unknown)."),
			"release": str("The module version, or dev."),
		}),
	}
}
