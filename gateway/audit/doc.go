// Package audit is the gateway's audit log: who changed what, in which
// namespace, and whether it was allowed. Entries are JSON messages in the
// JetStream stream HEARTH_AUDIT (file storage, limits retention: kept 90
// days, at most 1,000,000 messages, the oldest discarded first).
//
// A gateway opens the log once with [Open] (which creates the stream or
// updates its configuration) and, for every change it is asked to make —
// a deploy, an alias, a trigger, a secret, an API key — calls
// [Log.Append] with the caller's key id, the action (one of the Action
// constants), the namespace, the target and the outcome ([Success],
// [Denied] or [Failed]). Append returns once JetStream has stored the
// entry. GET /v1/audit answers from [Log.List], newest first.
//
// Each entry is published on hearth.audit.NAMESPACE.ACTION, the action's
// dots replaced by '_' (function.deploy → function_deploy) and the
// namespace "*" or "" (an action on every namespace, or on none) written
// _all, so a filtered List lets the server skip the entries that do not
// match. List reads by sequence back from the end of the stream and looks
// at the newest [MaxScan] messages at most: an entry older than that is
// not found, however few entries match the filter.
package audit
