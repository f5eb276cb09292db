package runner

import (
	"bytes"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// maxCGIHeaderBlock bounds how far into stdout a header block may reach.
const maxCGIHeaderBlock = 64 << 10

// CGIResponse is a command's stdout read the WAGI way.
type CGIResponse struct {
	Status  int         // 0 when the function set none
	Headers http.Header // nil when stdout had no header block
	Body    []byte
}

// ParseCGI reads stdout as a CGI response when it begins with a header
// block: `Name: value` lines ended by an empty line. The Status header sets
// the HTTP status; Location without Status means 302. Output that does not
// begin with a well-formed header block is all body.
func ParseCGI(stdout []byte) CGIResponse {
	plain := CGIResponse{Body: stdout}
	head, body, ok := splitHeaderBlock(stdout)
	if !ok {
		return plain
	}
	headers := make(http.Header)
	for _, line := range strings.Split(head, "\n") {
		line = strings.TrimSuffix(line, "\r")
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validHeaderName(name) {
			return plain
		}
		headers.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	res := CGIResponse{Headers: headers, Body: body}
	if s := headers.Get("Status"); s != "" {
		code, _, _ := strings.Cut(s, " ")
		n, err := strconv.Atoi(code)
		if err != nil || n < 200 || n > 599 {
			return plain
		}
		res.Status = n
		headers.Del("Status")
	} else if headers.Get("Location") != "" {
		res.Status = http.StatusFound
	}
	return res
}

// splitHeaderBlock splits out at the first empty line, if one ends a
// non-empty block within maxCGIHeaderBlock bytes.
func splitHeaderBlock(out []byte) (head string, body []byte, ok bool) {
	window := out[:min(len(out), maxCGIHeaderBlock)]
	end, sep := -1, 0
	if i := bytes.Index(window, []byte("\n\n")); i >= 0 {
		end, sep = i, 2
	}
	if i := bytes.Index(window, []byte("\r\n\r\n")); i >= 0 && (end < 0 || i < end) {
		end, sep = i, 4
	}
	if end <= 0 {
		return "", nil, false
	}
	return string(window[:end]), out[end+sep:], true
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 tchar).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
