// Package openapi writes the gateway's OpenAPI 3.1 document, served at
// GET /v1/openapi.json and committed as docs/openapi.json.
//
// The document is made from the route table (gateway/routes.go, through
// [Route]) and the descriptions here: the table gives every path, method,
// the scope its rule needs (the operation's security and x-hearth-scope),
// where its namespace comes from (x-hearth-namespace, and the namespace
// parameters) and its audit action (x-hearth-audit); operations.go gives
// what a person needs beyond that, schemas.go the JSON of requests and
// answers. [Document] refuses a route without an operation and an
// operation without a route, so a route cannot be added undocumented
// (docs/decisions/0010-openapi.md says why it is made, not hand-written).
package openapi
