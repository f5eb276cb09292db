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
	req := parseMeta(string(view(metaPtr, metaLen)))
	// The body is copied out of the reused input buffer, so a handler may
	// keep it after it returns.
	req.Body = append([]byte(nil), view(bodyPtr, bodyLen)...)
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
