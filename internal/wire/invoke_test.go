package wire

import (
	"bytes"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestRequestRoundTrip(t *testing.T) {
	req := &Request{InvocationID: "inv1", Function: "hello", Digest: "ab", TimeoutMs: 5,
		Headers: map[string][]string{"X-A": {"1", "2"}}}
	msg, err := EncodeRequest(InvokeSubject, req, []byte("body"))
	if err != nil {
		t.Fatal(err)
	}
	got, body, err := DecodeRequest(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Function != "hello" || got.TimeoutMs != 5 || got.Headers["X-A"][1] != "2" || !bytes.Equal(body, []byte("body")) {
		t.Fatalf("round trip changed the request: %+v %q", got, body)
	}
}

func TestDecodeRejectsBadMessages(t *testing.T) {
	for name, msg := range map[string]*nats.Msg{
		"no header": {Data: []byte("x")},
		"bad json":  {Header: nats.Header{MetaHeader: []string{"{"}}},
	} {
		if _, _, err := DecodeRequest(msg); err == nil {
			t.Errorf("%s: want error", name)
		}
		if _, _, err := DecodeResponse(msg); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(`{"id":"x","function":"hello","timeout_ms":10}`, []byte("hi"))
	f.Add(`{`, []byte(nil))
	f.Fuzz(func(t *testing.T, meta string, data []byte) {
		msg := nats.NewMsg("s")
		msg.Header.Set(MetaHeader, meta)
		msg.Data = data
		req, body, err := DecodeRequest(msg)
		if err == nil && (req == nil || !bytes.Equal(body, data)) {
			t.Fatalf("decoded without a request or lost the body")
		}
	})
}
