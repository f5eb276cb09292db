package autoscaler

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestReadTrace(t *testing.T) {
	counts := at(1, 721, 1440)
	counts[720] = 5
	memory := csvFile([]string{"HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb", "AverageAllocatedMb_pct1"},
		[]string{"o1", "a1", "10", "188", "170"},
		[]string{"o2", "a2", "10", "99.5", "90"})

	tests := []struct {
		name        string
		invocations string
		memory      string
		noMemory    bool
		wantTrigger string
		wantMB      []float64
	}{{
		name: "invitro sample layout",
		invocations: csvFile(invocationsHeader([]string{"HashFunction", "HashOwner", "HashApp"}, minuteName),
			invocationsRow([]string{"f1", "o1", "a1"}, counts),
			invocationsRow([]string{"f2", "o2", "a2"}, counts)),
		memory: memory,
		wantMB: []float64{188, 99.5},
	}, {
		name: "original dataset layout with trigger",
		invocations: csvFile(invocationsHeader([]string{"HashOwner", "HashApp", "HashFunction", "Trigger"}, func(m int) string { return fmt.Sprint(m) }),
			invocationsRow([]string{"o1", "a1", "f1", "timer"}, counts),
			invocationsRow([]string{"o2", "a2", "f2", "timer"}, counts)),
		memory:      memory,
		wantTrigger: "timer",
		wantMB:      []float64{188, 99.5},
	}, {
		name: "N_minute columns, app missing from memory",
		invocations: csvFile(invocationsHeader([]string{"HashFunction", "HashApp", "HashOwner"}, func(m int) string { return fmt.Sprintf("%d_minute", m) }),
			invocationsRow([]string{"f1", "a1", "o1"}, counts),
			invocationsRow([]string{"f2", "a9", "o2"}, counts)),
		memory: memory,
		wantMB: []float64{188, DefaultMemoryMB},
	}, {
		name: "no memory file, byte order mark, CRLF",
		invocations: "\uFEFF" + strings.ReplaceAll(csvFile(invocationsHeader([]string{"HashFunction", "HashOwner", "HashApp"}, minuteName),
			invocationsRow([]string{"f1", "o1", "a1"}, counts),
			invocationsRow([]string{"f2", "o2", "a2"}, counts)), "\n", "\r\n"),
		noMemory: true,
		wantMB:   []float64{DefaultMemoryMB, DefaultMemoryMB},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mem io.Reader
			if !tt.noMemory {
				mem = strings.NewReader(tt.memory)
			}
			tr, err := ReadTrace(strings.NewReader(tt.invocations), mem)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Functions) != 2 {
				t.Fatalf("got %d functions, want 2", len(tr.Functions))
			}
			for i, f := range tr.Functions {
				if f.Name != fmt.Sprint("f", i+1) || f.Owner != fmt.Sprint("o", i+1) {
					t.Errorf("function %d is %s/%s, want f%d of o%d", i, f.Name, f.Owner, i+1, i+1)
				}
				if f.Trigger != tt.wantTrigger {
					t.Errorf("trigger %q, want %q", f.Trigger, tt.wantTrigger)
				}
				if f.MemoryMB != tt.wantMB[i] {
					t.Errorf("function %d has %v MB, want %v", i, f.MemoryMB, tt.wantMB[i])
				}
				if f.Count(1) != 1 || f.Count(721) != 5 || f.Count(1440) != 1 || f.Count(2) != 0 {
					t.Errorf("counts of minutes 1, 721, 1440, 2 are %d %d %d %d, want 1 5 1 0", f.Count(1), f.Count(721), f.Count(1440), f.Count(2))
				}
			}
		})
	}
}

func TestReadTraceErrors(t *testing.T) {
	lead := []string{"HashFunction", "HashOwner", "HashApp"}
	header := invocationsHeader(lead, minuteName)
	good := invocationsRow([]string{"f", "o", "a"}, at(5))
	bad := func(col int, v string) []string {
		r := append([]string(nil), good...)
		r[col] = v
		return r
	}
	memHeader := []string{"HashOwner", "HashApp", "AverageAllocatedMb"}
	goodMem := csvFile(memHeader, []string{"o", "a", "128"})

	tests := []struct {
		name        string
		invocations string
		memory      string
		file        string
		line        int
		column      string
		contains    string
	}{
		{name: "empty invocations", invocations: "", memory: goodMem, file: "invocations", line: 1, contains: "expected a header"},
		{name: "header missing, data first", invocations: strings.Join(good, ",") + "\n", memory: goodMem, file: "invocations", line: 1, contains: "no HashOwner column"},
		{name: "a minute missing", invocations: csvFile(header[:len(header)-1]), memory: goodMem, file: "invocations", line: 1, contains: "minute 1440 is missing"},
		{name: "a minute twice", invocations: csvFile(append(append([]string(nil), header...), "minute_7")), memory: goodMem, file: "invocations", line: 1, column: "minute_7", contains: "appears twice"},
		{name: "minute out of range", invocations: csvFile(append(append([]string(nil), header...), "minute_1441")), memory: goodMem, file: "invocations", line: 1, column: "minute_1441", contains: "outside"},
		{name: "key column twice", invocations: csvFile(append(append([]string(nil), header...), "HashApp")), memory: goodMem, file: "invocations", line: 1, column: "HashApp", contains: "appears twice"},
		{name: "short row", invocations: csvFile(header, good, good[:100]), memory: goodMem, file: "invocations", line: 3, contains: "100 columns, the header has 1443"},
		{name: "non-integer count", invocations: csvFile(header, good, good, bad(3+41, "4.5")), memory: goodMem, file: "invocations", line: 4, column: "minute_42", contains: `"4.5" is not a non-negative integer`},
		{name: "negative count", invocations: csvFile(header, bad(3, "-1")), memory: goodMem, file: "invocations", line: 2, column: "minute_1", contains: "non-negative"},
		{name: "empty count", invocations: csvFile(header, bad(3+1439, "")), memory: goodMem, file: "invocations", line: 2, column: "minute_1440"},
		{name: "unterminated quote", invocations: csvFile(header, bad(0, `"f`)), memory: goodMem, file: "invocations", line: 2},
		{name: "empty memory", invocations: csvFile(header, good), memory: "", file: "memory", line: 1, contains: "expected a header"},
		{name: "memory without AverageAllocatedMb", invocations: csvFile(header, good), memory: csvFile([]string{"HashOwner", "HashApp", "SampleCount"}, []string{"o", "a", "1"}), file: "memory", line: 1, contains: "no AverageAllocatedMb column"},
		{name: "memory not a number", invocations: csvFile(header, good), memory: csvFile(memHeader, []string{"o", "a", "128"}, []string{"o2", "a2", "lots"}), file: "memory", line: 3, column: "AverageAllocatedMb"},
		{name: "negative memory", invocations: csvFile(header, good), memory: csvFile(memHeader, []string{"o", "a", "-3"}), file: "memory", line: 2, column: "AverageAllocatedMb"},
		{name: "memory NaN", invocations: csvFile(header, good), memory: csvFile(memHeader, []string{"o", "a", "NaN"}), file: "memory", line: 2, column: "AverageAllocatedMb"},
		{name: "app twice with different memory", invocations: csvFile(header, good), memory: csvFile(memHeader, []string{"o", "a", "128"}, []string{"o", "a", "256"}), file: "memory", line: 3, column: "AverageAllocatedMb", contains: "128 MB on line 2"},
		{name: "memory row too long", invocations: csvFile(header, good), memory: csvFile(memHeader, []string{"o", "a", "128", "x"}), file: "memory", line: 2, contains: "4 columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTrace(strings.NewReader(tt.invocations), strings.NewReader(tt.memory))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", err)
			}
			if pe.File != tt.file || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("error at %s line %d column %q, want %s line %d column %q (%v)", pe.File, pe.Line, pe.Column, tt.file, tt.line, tt.column, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
		})
	}
}

func TestReadTraceDuplicateAppSameMemory(t *testing.T) {
	header := invocationsHeader([]string{"HashFunction", "HashOwner", "HashApp"}, minuteName)
	inv := csvFile(header, invocationsRow([]string{"f", "o", "a"}, at(5)))
	mem := csvFile([]string{"HashOwner", "HashApp", "AverageAllocatedMb"}, []string{"o", "a", "300"}, []string{"o", "a", "300"})
	tr, err := ReadTrace(strings.NewReader(inv), strings.NewReader(mem))
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Functions[0].MemoryMB; got != 300 {
		t.Errorf("memory %v, want 300", got)
	}
}

func TestReadTraceSample(t *testing.T) {
	tr := loadSample(t)
	if len(tr.Functions) != 200 {
		t.Errorf("sample has %d functions, want 200", len(tr.Functions))
	}
	for _, f := range tr.Functions {
		// Every app of the sample is in memory.csv, with 88 … 484 MB.
		if f.MemoryMB < 88 || f.MemoryMB > 484 {
			t.Errorf("function %s has %v MB", f.Name, f.MemoryMB)
		}
	}
}

// FuzzReadTrace checks that the parser never panics and that whatever it
// accepts is a well-formed trace.
func FuzzReadTrace(f *testing.F) {
	short := "HashFunction,HashOwner,HashApp,minute_1\nf,o,a,1\n"
	full := csvFile(invocationsHeader([]string{"HashFunction", "HashOwner", "HashApp"}, minuteName), invocationsRow([]string{"f", "o", "a"}, at(3, 700)))
	mem := "HashOwner,HashApp,AverageAllocatedMb\no,a,128\n"
	f.Add(full, mem)
	f.Add(short, mem)
	f.Add("", "")
	f.Add(full, "HashOwner,HashApp,AverageAllocatedMb\no,a,-1\n")
	f.Add(strings.Replace(full, ",1,", ",\"1\n\",", 1), mem)
	f.Add(strings.Replace(full, "minute_", "", -1), "HashApp,HashOwner,AverageAllocatedMb\na,o,1e308\n")
	f.Fuzz(func(t *testing.T, invocations, memory string) {
		tr, err := ReadTrace(strings.NewReader(invocations), strings.NewReader(memory))
		if err != nil {
			if tr != nil {
				t.Error("a trace with an error")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			return
		}
		for _, fn := range tr.Functions {
			if len(fn.Counts) != Minutes {
				t.Fatalf("%d counts", len(fn.Counts))
			}
			for _, c := range fn.Counts {
				if c < 0 {
					t.Fatalf("negative count %d", c)
				}
			}
			if fn.MemoryMB < 0 || fn.MemoryMB != fn.MemoryMB {
				t.Fatalf("memory %v", fn.MemoryMB)
			}
		}
	})
}
