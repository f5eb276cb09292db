package autoscaler

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Minutes is the length of a trace: one day of one-minute bins, numbered
// 1 … Minutes.
const Minutes = 1440

// DefaultMemoryMB is the memory of a function whose app is missing from the
// memory file.
const DefaultMemoryMB = 128

// Trace is one day of invocations, one Function per row of the
// invocations file, in file order.
type Trace struct {
	Functions []Function
}

// Function is one row of the invocations file: a unit of the replay.
type Function struct {
	Owner   string // HashOwner
	App     string // HashApp
	Name    string // HashFunction
	Trigger string // Trigger (http, timer, queue, …); empty when the file has no such column
	// MemoryMB is the AverageAllocatedMb of the function's app, or
	// DefaultMemoryMB when the app is missing from the memory file.
	MemoryMB float64
	// Counts holds the invocations per minute: Counts[t-1] is minute t.
	Counts []int
}

// Count is the number of invocations in minute t (1 … Minutes).
func (f *Function) Count(t int) int { return f.Counts[t-1] }

// Info is what a policy may know about the function before any traffic.
func (f *Function) Info() FunctionInfo {
	return FunctionInfo{MemoryMB: f.MemoryMB, Trigger: f.Trigger}
}

// ParseError is a malformed line in a trace file.
type ParseError struct {
	File   string // "invocations" or "memory"
	Line   int    // 1-based line in the file
	Column string // header name of the offending column, if one
	Err    error
}

// Error says where the input is malformed and how.
func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("%s line %d, column %s: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s line %d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying error, which wraps ErrFormat.
func (e *ParseError) Unwrap() error { return e.Err }

// ErrFormat is wrapped by every ParseError that is not a read error: the
// file is not a trace in the Azure Functions 2019 format.
var ErrFormat = errors.New("not in the Azure Functions 2019 trace format")

// ReadTrace reads a trace in the Azure Functions 2019 format.
//
// The invocations file has a header and one row per function. Its columns
// are found by name, in any order: HashOwner, HashApp, HashFunction, an
// optional Trigger, and the minutes 1 … 1440 named "1" … "1440" (the
// original dataset), "minute_1" … "minute_1440" or "1_minute" …
// "1440_minute" (vHive invitro samples).
// Other columns are ignored. Counts must be non-negative integers.
//
// The memory file has a header with at least HashOwner, HashApp and
// AverageAllocatedMb, one row per app. A function whose app (owner and
// app hash) is missing counts DefaultMemoryMB; memory may be nil, in which
// case every function does. An app listed twice with different memory is
// an error.
//
// Malformed input gives a *ParseError, wrapping ErrFormat, with the file,
// line and column; an error of a reader is returned wrapped.
func ReadTrace(invocations, memory io.Reader) (*Trace, error) {
	mem := map[appKey]float64{}
	if memory != nil {
		var err error
		if mem, err = readMemory(memory); err != nil {
			return nil, err
		}
	}
	fns, err := readInvocations(invocations)
	if err != nil {
		return nil, err
	}
	for i := range fns {
		f := &fns[i]
		f.MemoryMB = DefaultMemoryMB
		if mb, ok := mem[appKey{f.Owner, f.App}]; ok {
			f.MemoryMB = mb
		}
	}
	return &Trace{Functions: fns}, nil
}

type appKey struct{ owner, app string }

// table is a CSV file read row by row with columns found by header name.
type table struct {
	file string
	r    *csv.Reader
	head []string
	col  map[string]int  // first column of each name
	dup  map[string]bool // names that appear more than once
}

func newTable(file string, r io.Reader) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, with a clearer message
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: file, Line: 1, Err: fmt.Errorf("%w: empty file, expected a header", ErrFormat)}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &table{file: file, r: cr, head: make([]string, len(head)), col: make(map[string]int, len(head)), dup: map[string]bool{}}
	for i, h := range head {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // byte order mark
		}
		h = strings.TrimSpace(h)
		t.head[i] = h
		if _, seen := t.col[h]; seen {
			t.dup[h] = true
			continue
		}
		t.col[h] = i
	}
	return t, nil
}

// require returns the indices of the named columns, or an error naming the
// first one missing.
func (t *table) require(names ...string) ([]int, error) {
	idx := make([]int, len(names))
	for i, n := range names {
		j, ok := t.col[n]
		if !ok {
			return nil, &ParseError{File: t.file, Line: 1, Err: fmt.Errorf("%w: header has no %s column (is this the %s file?)", ErrFormat, n, t.file)}
		}
		if t.dup[n] {
			return nil, &ParseError{File: t.file, Line: 1, Column: n, Err: fmt.Errorf("%w: column appears twice in the header", ErrFormat)}
		}
		idx[i] = j
	}
	return idx, nil
}

// next reads a row; it returns io.EOF at the end and the row's line.
func (t *table) next() ([]string, int, error) {
	rec, err := t.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, err
		}
		return nil, 0, csvError(t.file, err)
	}
	line, _ := t.r.FieldPos(0)
	if len(rec) != len(t.head) {
		return nil, line, &ParseError{File: t.file, Line: line, Err: fmt.Errorf("%w: %d columns, the header has %d", ErrFormat, len(rec), len(t.head))}
	}
	return rec, line, nil
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: file, Line: pe.Line, Err: fmt.Errorf("%w: %w", ErrFormat, pe.Err)}
	}
	return fmt.Errorf("reading the %s file: %w", file, err)
}

func readMemory(r io.Reader) (map[appKey]float64, error) {
	t, err := newTable("memory", r)
	if err != nil {
		return nil, err
	}
	idx, err := t.require("HashOwner", "HashApp", "AverageAllocatedMb")
	if err != nil {
		return nil, err
	}
	mem := map[appKey]float64{}
	first := map[appKey]int{}
	for {
		rec, line, err := t.next()
		if err == io.EOF {
			return mem, nil
		}
		if err != nil {
			return nil, err
		}
		raw := strings.TrimSpace(rec[idx[2]])
		mb, err := strconv.ParseFloat(raw, 64)
		if err != nil || mb < 0 || math.IsInf(mb, 0) || math.IsNaN(mb) {
			return nil, &ParseError{File: t.file, Line: line, Column: "AverageAllocatedMb", Err: fmt.Errorf("%w: %q is not a non-negative number of MB", ErrFormat, raw)}
		}
		k := appKey{rec[idx[0]], rec[idx[1]]}
		if old, ok := mem[k]; ok && old != mb {
			return nil, &ParseError{File: t.file, Line: line, Column: "AverageAllocatedMb", Err: fmt.Errorf("%w: app %s has %v MB here and %v MB on line %d", ErrFormat, k.app, mb, old, first[k])}
		} else if !ok {
			first[k] = line
		}
		mem[k] = mb
	}
}

func readInvocations(r io.Reader) ([]Function, error) {
	t, err := newTable("invocations", r)
	if err != nil {
		return nil, err
	}
	idx, err := t.require("HashOwner", "HashApp", "HashFunction")
	if err != nil {
		return nil, err
	}
	trigger, hasTrigger := t.col["Trigger"]
	if t.dup["Trigger"] {
		return nil, &ParseError{File: t.file, Line: 1, Column: "Trigger", Err: fmt.Errorf("%w: column appears twice in the header", ErrFormat)}
	}
	// minuteCol[t-1] is the column of minute t.
	minuteCol := make([]int, Minutes)
	for i := range minuteCol {
		minuteCol[i] = -1
	}
	found := 0
	for i, h := range t.head {
		m, ok := minuteOf(h)
		if !ok {
			continue
		}
		if m < 1 || m > Minutes {
			return nil, &ParseError{File: t.file, Line: 1, Column: h, Err: fmt.Errorf("%w: minute %d is outside 1 … %d", ErrFormat, m, Minutes)}
		}
		if minuteCol[m-1] >= 0 {
			return nil, &ParseError{File: t.file, Line: 1, Column: h, Err: fmt.Errorf("%w: minute %d appears twice in the header", ErrFormat, m)}
		}
		minuteCol[m-1] = i
		found++
	}
	if found != Minutes {
		for m, c := range minuteCol {
			if c < 0 {
				return nil, &ParseError{File: t.file, Line: 1, Err: fmt.Errorf("%w: header has %d minute columns, want %d; minute %d is missing", ErrFormat, found, Minutes, m+1)}
			}
		}
	}

	var fns []Function
	for {
		rec, line, err := t.next()
		if err == io.EOF {
			return fns, nil
		}
		if err != nil {
			return nil, err
		}
		// Clone the keys: they share memory with the whole row.
		f := Function{Owner: strings.Clone(rec[idx[0]]), App: strings.Clone(rec[idx[1]]), Name: strings.Clone(rec[idx[2]]), Counts: make([]int, Minutes)}
		if hasTrigger {
			f.Trigger = strings.Clone(rec[trigger])
		}
		for m, c := range minuteCol {
			raw := rec[c]
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil || n < 0 {
				return nil, &ParseError{File: t.file, Line: line, Column: t.head[c], Err: fmt.Errorf("%w: count %q is not a non-negative integer", ErrFormat, raw)}
			}
			f.Counts[m] = n
		}
		fns = append(fns, f)
	}
}

// minuteOf parses a minute column name: "17", "minute_17" or "17_minute".
func minuteOf(h string) (int, bool) {
	s := strings.TrimSuffix(strings.TrimPrefix(h, "minute_"), "_minute")
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	m, err := strconv.Atoi(s)
	if err != nil {
		return Minutes + 1, true // absurdly large: reported as out of range
	}
	return m, true
}
