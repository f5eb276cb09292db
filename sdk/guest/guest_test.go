package guest

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMeta(t *testing.T) {
	req := parseMeta("GET /a/b?x=1&y=2\nX-Test: one\nx-test: two\nContent-Type: text/plain\n")
	if req.Method != "GET" || req.Path != "/a/b" || req.Query != "x=1&y=2" {
		t.Fatalf("request line: %+v", req)
	}
	if got := req.Header["X-Test"]; len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("X-Test = %v", got)
	}
	if req.Header.Get("content-type") != "text/plain" {
		t.Fatalf("Content-Type = %q", req.Header.Get("content-type"))
	}
	if def := parseMeta(""); def.Method != "POST" || def.Path != "/" {
		t.Fatalf("empty meta: %+v", def)
	}
}

func TestEncodeResponse(t *testing.T) {
	out := string(encodeResponse(nil, Response{Status: 201, Header: Header{"content-type": {"a\nb"}}, Body: []byte("x")}, nil))
	if out != "Status: 201\nContent-Type: a b\n\nx" {
		t.Fatalf("encoded %q", out)
	}
	if out := string(encodeResponse(nil, Response{}, nil)); out != "Status: 200\n\n" {
		t.Fatalf("zero response %q", out)
	}
	out = string(encodeResponse(nil, Response{Body: []byte("ignored")}, errors.New("bad\nthing")))
	if !strings.HasPrefix(out, "Status: 500\nHearth-Error: bad thing\n\n") {
		t.Fatalf("error response %q", out)
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add("GET /x?y\nA: b\n")
	f.Add("\n\n:::\n")
	f.Fuzz(func(t *testing.T, meta string) {
		req := parseMeta(meta)
		if req.Method == "" && !strings.HasPrefix(meta, " ") {
			t.Fatalf("empty method from %q", meta)
		}
		encodeResponse(nil, Response{Header: req.Header, Body: []byte(meta)}, nil)
	})
}
