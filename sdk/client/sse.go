package client

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// maxEventSize bounds one server-sent event (its lines together), so that
// a stream without blank lines cannot take all memory.
const maxEventSize = 32 << 20

// errEventTooLarge is the error of an event past maxEventSize.
var errEventTooLarge = errors.New("hearth: server-sent event larger than 32 MiB")

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	Type string // the event field; "" is "message"
	ID   string // the last event id seen on the stream, as EventSource keeps it
	Data string // the data lines joined with "\n"
}

// sseReader parses a text/event-stream as the HTML standard's
// "interpreting an event stream" says: lines end with CRLF, LF or CR;
// lines starting with ':' are comments (keepalives); "field: value" with
// one optional space after the colon; data lines are joined with "\n";
// a blank line dispatches the event, unless it has no data; an id with a
// NUL is ignored; retry and unknown fields are ignored.
type sseReader struct {
	r      *bufio.Reader
	lastID string
	line   []byte
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReader(r)} }

// readLine reads one line without its ending; io.EOF at the end of the
// stream (a last line without an ending is not dispatched, as the
// standard says of an unfinished event).
func (s *sseReader) readLine(budget int) ([]byte, error) {
	s.line = s.line[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch b {
		case '\n':
			return s.line, nil
		case '\r':
			if next, err := s.r.Peek(1); err == nil && next[0] == '\n' {
				_, _ = s.r.ReadByte()
			}
			return s.line, nil
		}
		if len(s.line) >= budget {
			return nil, errEventTooLarge
		}
		s.line = append(s.line, b)
	}
}

// Next returns the next event; io.EOF when the stream ended.
func (s *sseReader) Next() (sseEvent, error) {
	var (
		typ     string
		data    strings.Builder
		hasData bool
		size    int
	)
	for {
		line, err := s.readLine(maxEventSize - size)
		if err != nil {
			return sseEvent{}, err
		}
		size += len(line) + 1
		if len(line) == 0 {
			if !hasData {
				typ = "" // an event without data is not dispatched
				continue
			}
			out := data.String()
			return sseEvent{Type: typ, ID: s.lastID, Data: out[:len(out)-1]}, nil
		}
		if line[0] == ':' {
			continue // a comment: the gateway's keepalive
		}
		field, value := string(line), ""
		if i := strings.IndexByte(field, ':'); i >= 0 {
			field, value = field[:i], strings.TrimPrefix(field[i+1:], " ")
		}
		switch field {
		case "event":
			typ = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				s.lastID = value
			}
		}
	}
}
