package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/testutil"
)

func fullRequest() *Request {
	return &Request{InvocationID: "inv1", Namespace: "default", Function: "hello", Version: 7,
		Digest: "ab12", ABI: abi.Reactor, Concurrency: 4, TimeoutMs: 5000, MemoryMB: 64,
		Env: map[string]string{"A": "1", "EMPTY": ""}, Method: "POST", Path: "/x/y", Query: "a=b&c",
		Headers: map[string][]string{"X-A": {"1", "2"}, "Content-Type": {"text/plain"}, "X-None": {}},
		BodyRef: "payloads/inv1", Gateway: "gw-1",
		Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", RequestID: "req-1"}
}

func fullResponse() *Response {
	return &Response{Status: 201, Headers: map[string][]string{"Location": {"/a"}},
		Error: &Error{Code: CodeTimeout, Message: "too slow"}, Stderr: "log\nlines", Cold: true,
		InitMicros: 1234, RunMicros: -1, Runner: "r1", OutputRef: "results/inv1"}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, req := range []*Request{fullRequest(), {}} {
		for _, body := range [][]byte{[]byte("body"), nil, bytes.Repeat([]byte{0, 1, 0xff}, 1000)} {
			msg, err := EncodeRequest(InvokeSubject, req, body)
			if err != nil {
				t.Fatal(err)
			}
			wantHeaders := 0
			if req.Traceparent != "" {
				wantHeaders = 2 // the trace context and request id; the rest is in the data
			}
			if msg.Subject != InvokeSubject || len(msg.Header) != wantHeaders {
				t.Fatalf("message subject %q, headers %v", msg.Subject, msg.Header)
			}
			if _, ok := msg.Header[LegacyTraceHeader]; ok {
				t.Fatalf("a %q header, which nats-server parses for its message tracing: %v", LegacyTraceHeader, msg.Header)
			}
			got, gotBody, err := DecodeRequest(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, req) || !bytes.Equal(gotBody, body) {
				t.Fatalf("round trip changed the request:\n got %+v %q\nwant %+v %q", got, gotBody, req, body)
			}
		}
	}
}

// TestLegacyTraceHeader: a message from a gateway before the rename, with
// the trace context under "traceparent", still gives the runner its trace.
func TestLegacyTraceHeader(t *testing.T) {
	req := fullRequest()
	msg, err := EncodeRequest(InvokeSubject, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg.Header[LegacyTraceHeader] = msg.Header[TraceHeader]
	delete(msg.Header, TraceHeader)
	got, _, err := DecodeRequest(msg)
	if err != nil || got.Traceparent != req.Traceparent {
		t.Fatalf("traceparent %q, %v; want %q", got.Traceparent, err, req.Traceparent)
	}
}

// TestRequestHeadersThroughNATS: the trace context and request id cross a
// real NATS server in the message's headers, and a message without them
// decodes with both empty.
func TestRequestHeadersThroughNATS(t *testing.T) {
	nc := testutil.ConnectNATS(t)
	sub, err := nc.SubscribeSync("t.headers")
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*Request{fullRequest(), {InvocationID: "bare"}} {
		msg, _ := EncodeRequest("t.headers", req, []byte("b"))
		if err := nc.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
		got, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := DecodeRequest(got)
		if err != nil {
			t.Fatal(err)
		}
		if back.Traceparent != req.Traceparent || back.RequestID != req.RequestID || back.InvocationID != req.InvocationID {
			t.Fatalf("through NATS: %q %q %q; want %q %q %q", back.Traceparent, back.RequestID, back.InvocationID, req.Traceparent, req.RequestID, req.InvocationID)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, resp := range []*Response{fullResponse(), {Runner: "r"}} {
		msg, err := EncodeResponse("_INBOX.x", resp, []byte("out"))
		if err != nil {
			t.Fatal(err)
		}
		got, out, err := DecodeResponse(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, resp) || string(out) != "out" {
			t.Fatalf("round trip changed the response:\n got %+v\nwant %+v", got, resp)
		}
	}
}

// TestDecodeJSONHeader: messages of Hearth versions before the binary
// format, with JSON metadata in a header, are still read.
func TestDecodeJSONHeader(t *testing.T) {
	req := fullRequest()
	meta, _ := json.Marshal(req)
	msg := nats.NewMsg(InvokeSubject)
	msg.Header.Set(MetaHeader, string(meta))
	msg.Data = []byte("body")
	got, body, err := DecodeRequest(msg)
	if err != nil || !reflect.DeepEqual(got, req) || string(body) != "body" {
		t.Fatalf("JSON request: %+v %q %v", got, body, err)
	}
	resp := fullResponse()
	meta, _ = json.Marshal(resp)
	msg.Header.Set(MetaHeader, string(meta))
	gotResp, _, err := DecodeResponse(msg)
	if err != nil || !reflect.DeepEqual(gotResp, resp) {
		t.Fatalf("JSON response: %+v %v", gotResp, err)
	}
}

func TestDecodeRejectsBadMessages(t *testing.T) {
	good, _ := EncodeRequest(InvokeSubject, fullRequest(), []byte("body"))
	metaLen := len(good.Data) - len("body")
	for name, data := range map[string][]byte{
		"empty":              nil,
		"unknown format":     append([]byte{2}, good.Data[1:]...),
		"no length":          {formatV1},
		"length past end":    {formatV1, 100, 1, 2},
		"huge length":        {formatV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"truncated metadata": append([]byte{formatV1, byte(metaLen - 3)}, good.Data[2:metaLen-1]...),
		"huge map count":     {formatV1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x03},
		"bad boolean":        {formatV1, 1, 7},
	} {
		msg := &nats.Msg{Data: data}
		if _, _, err := DecodeRequest(msg); err == nil {
			t.Errorf("request %s: want an error", name)
		}
		if _, _, err := DecodeResponse(msg); err == nil {
			t.Errorf("response %s: want an error", name)
		}
	}
	bad := &nats.Msg{Header: nats.Header{MetaHeader: []string{"{"}}}
	if _, _, err := DecodeRequest(bad); err == nil {
		t.Error("bad JSON header: want an error")
	}
}

// FuzzDecodeRequest: any data decodes to an error or to a request that
// encodes back to a message that decodes to the same request and body.
func FuzzDecodeRequest(f *testing.F) {
	msg, _ := EncodeRequest(InvokeSubject, fullRequest(), []byte("hi"))
	f.Add(msg.Data)
	f.Add([]byte{formatV1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		req, body, err := DecodeRequest(&nats.Msg{Data: data})
		if err != nil {
			return
		}
		again, err := EncodeRequest(InvokeSubject, req, body)
		if err != nil {
			t.Fatal(err)
		}
		req2, body2, err := DecodeRequest(again)
		if err != nil || !reflect.DeepEqual(req, req2) || !bytes.Equal(body, body2) {
			t.Fatalf("re-encoding changed the request: %+v %v", req2, err)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	msg, _ := EncodeResponse("r", fullResponse(), []byte("out"))
	f.Add(msg.Data)
	f.Add([]byte{formatV1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, out, err := DecodeResponse(&nats.Msg{Data: data})
		if err != nil {
			return
		}
		again, _ := EncodeResponse("r", resp, out)
		resp2, out2, err := DecodeResponse(again)
		if err != nil || !reflect.DeepEqual(resp, resp2) || !bytes.Equal(out, out2) {
			t.Fatalf("re-encoding changed the response: %+v %v", resp2, err)
		}
	})
}
