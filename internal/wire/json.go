package wire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSONString appends s as a JSON string, as encoding/json writes it
// up to the escaping of characters that need none: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c >= 0x20:
				b = append(b, c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// AppendJSONTime appends t as encoding/json writes a time.Time: a string
// in RFC 3339 with nanoseconds.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendJSONFloat appends f as a JSON number without an exponent, which
// decodes to the same value encoding/json's form does. NaN and values
// beyond ±1e20, which are not durations in ms and which encoding/json
// refuses or writes with an exponent, are written as 0 so that the
// document stays valid.
func AppendJSONFloat(b []byte, f float64) []byte {
	if f != f || f > 1e20 || f < -1e20 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}
