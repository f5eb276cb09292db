package runner

import (
	"bytes"
	"testing"
)

func TestParseCGI(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		status  int
		ctype   string
		body    string
		headers bool
	}{
		{"plain body", "Hello, world!\n", 0, "", "Hello, world!\n", false},
		{"headers and body", "Content-Type: text/plain\nStatus: 201 Created\n\nmade it", 201, "text/plain", "made it", true},
		{"crlf", "Content-Type: application/json\r\n\r\n{}", 0, "application/json", "{}", true},
		{"location means redirect", "Location: /there\n\n", 302, "", "", true},
		{"colon in prose is body", "Note: this is prose\nand more\n\nbody", 0, "", "Note: this is prose\nand more\n\nbody", false},
		{"space in name is body", "Not A Header: x\n\nbody", 0, "", "Not A Header: x\n\nbody", false},
		{"bad status is body", "Status: abc\n\nbody", 0, "", "Status: abc\n\nbody", false},
		{"status out of range is body", "Status: 99\n\nbody", 0, "", "Status: 99\n\nbody", false},
		{"leading blank line is body", "\n\nbody", 0, "", "\n\nbody", false},
		{"no end of block is body", "Content-Type: text/plain\nbody", 0, "", "Content-Type: text/plain\nbody", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseCGI([]byte(tt.out))
			if got.Status != tt.status || string(got.Body) != tt.body || (got.Headers != nil) != tt.headers {
				t.Fatalf("ParseCGI(%q) = status %d body %q headers %v", tt.out, got.Status, got.Body, got.Headers)
			}
			if got.Headers != nil && got.Headers.Get("Content-Type") != tt.ctype {
				t.Fatalf("Content-Type = %q, want %q", got.Headers.Get("Content-Type"), tt.ctype)
			}
			if got.Headers.Get("Status") != "" {
				t.Fatal("Status header must not be passed on")
			}
		})
	}
}

func FuzzParseCGI(f *testing.F) {
	f.Add([]byte("Content-Type: text/plain\nStatus: 201\n\nbody"))
	f.Add([]byte("plain"))
	f.Add([]byte("A: b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		got := ParseCGI(out)
		if got.Headers == nil && !bytes.Equal(got.Body, out) {
			t.Fatal("output without headers must be all body")
		}
		if len(got.Body) > len(out) {
			t.Fatal("body longer than output")
		}
		if got.Status != 0 && (got.Status < 200 || got.Status > 599) {
			t.Fatalf("status %d out of range", got.Status)
		}
	})
}
