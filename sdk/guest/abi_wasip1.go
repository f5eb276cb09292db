//go:build wasip1

package guest

import "unsafe"

// The exports below are Hearth's reactor ABI (docs/abi.md): abi.Alloc and
// abi.Handle, spelled out because a directive cannot name a constant
// (internal/testmodules' tests check that a guest exports them).

// input is the buffer the host writes requests into; it is replaced only
// when the host asks for a bigger one, so a warm call crosses into the
// guest once (hearth_handle), not once per buffer.
var input []byte

// response is reused between calls; the host copies it out before the next.
var response []byte

//go:wasmexport hearth_alloc
func hearthAlloc(size int32) int32 {
	if size <= 0 {
		return 0
	}
	input = make([]byte, size)
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(input))))
}

//go:wasmexport hearth_handle
func hearthHandle(metaPtr, metaLen, bodyPtr, bodyLen int32) int64 {
	// Meta and body are copied out of the reused input buffer, so a
	// handler may keep them after it returns, into one allocation: with
	// the deadline checks wazero compiles into every loop of a guest, each
	// allocation costs a Go reactor microseconds (docs/performance.md).
	// The meta part is never written again, so its string needs no copy of
	// its own; the body's capacity ends at its length, so an append to it
	// moves it.
	m, b := int(max(metaLen, 0)), int(max(bodyLen, 0))
	buf := make([]byte, m+b)
	copy(buf, view(metaPtr, metaLen))
	copy(buf[m:], view(bodyPtr, bodyLen))
	req := parseMeta(unsafe.String(unsafe.SliceData(buf), m))
	req.Body = buf[m : m+b : m+b]
	var resp Response
	var err error
	if handler == nil {
		err = errNoHandler
	} else {
		resp, err = handler(req)
	}
	response = encodeResponse(response, resp, err)
	if len(response) == 0 {
		return 0
	}
	ptr := uintptr(unsafe.Pointer(unsafe.SliceData(response)))
	return int64(ptr)<<32 | int64(len(response))
}

func view(ptr, n int32) []byte {
	if n <= 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
}
