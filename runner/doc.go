// Package runner executes functions: it takes invocations from NATS, fetches
// modules from the object store by digest, compiles them with wazero (with a
// compilation cache on disk, shared between runners through S3) and runs
// them in sandboxes with memory, time and output limits — a fresh instance
// per call for WASI commands, pooled warm instances for reactors.
//
// A runner role starts from [New] with a [Config], a NATS connection and a
// [Store], then [Runner.Start]; [Runner.Stop] drains it. A gateway in the
// same process hands it calls directly with [Runner.Invoke]. Underneath,
// an [Engine] ([NewEngine], [NewEngineWithCacheDir]) compiles and runs
// modules: [Engine.Run] runs one call, [Engine.Prewarm] and
// [Engine.RetireIdle] are the autoscaler's hooks. The limits it applies are
// internal/limits'; the ABIs it calls are internal/abi's (docs/abi.md).
package runner
