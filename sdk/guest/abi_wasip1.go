//go:build wasip1

package guest

import "unsafe"

// The exports below are Hearth's reactor ABI (docs/abi.md).

// pinned keeps the buffers handed to the host alive until the next call.
var pinned [][]byte

// response is reused between calls; the host copies it out before the next.
var response []byte

//go:wasmexport hearth_alloc
func hearthAlloc(size int32) int32 {
	if size <= 0 {
		return 0
	}
	buf := make([]byte, size)
	pinned = append(pinned, buf)
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
}

//go:wasmexport hearth_handle
func hearthHandle(metaPtr, metaLen, bodyPtr, bodyLen int32) int64 {
	req := parseMeta(string(view(metaPtr, metaLen)))
	req.Body = view(bodyPtr, bodyLen)
	pinned = pinned[:0] // req.Body keeps its own buffer alive
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
