package abi

// ABIs a module can implement, as a function version's abi field and
// wire.Request.ABI name them.
const (
	// Command is a WASI program: it exports Start and gets a fresh
	// instance per call, with the request on stdin and the response on
	// stdout.
	Command = "command"
	// Reactor exports Alloc and Handle; its instances are pooled and serve
	// one call after another.
	Reactor = "reactor"
)

// Exports the host looks for.
const (
	// Start is a command's entry point, WASI's _start.
	Start = "_start"
	// Initialize, when a reactor exports it, is called once when an
	// instance is made (WASI's reactor start-up; Go's c-shared runtime).
	Initialize = "_initialize"
	// Alloc, of type (size i32) -> i32, returns a pointer to size bytes of
	// the instance's memory: the input buffer the host writes a request
	// into. It stays valid until the next call of Alloc.
	Alloc = "hearth_alloc"
	// Handle, of type (meta_ptr, meta_len, body_ptr, body_len i32) -> i64,
	// handles one request and returns ptr<<32 | len of its response.
	Handle = "hearth_handle"
)

// WASIModule is the only host module a function may import: WASI preview1.
// Hearth provides no host functions of its own.
const WASIModule = "wasi_snapshot_preview1"

// ErrorHeader, in the header block of a reactor's response, fails the call
// with its value as the message.
const ErrorHeader = "Hearth-Error"
