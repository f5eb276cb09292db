package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hearthfn/hearth/functions/thumbnail/thumb"
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/fnbuild"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// The examples built from their own hearth.yaml: each folder has the
// source, the built module and the manifest that builds it (go tool task
// functions rebuilds them). Unlike Examples(), hearth dev does not deploy
// them: they are tried with hearth up -f functions/NAME/hearth.yaml.
var manifests = []string{"jsontransform", "markdown", "thumbnail", "wc-wat", "slugify", "csv2json-rust"}

// module reads an example's committed module and checks it has the ABI
// its manifest names.
func module(t testing.TB, name string) []byte {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(name, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fnbuild.Check(context.Background(), wasm, "reactor"); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return wasm
}

// call posts body to /fn/NAME+rest and returns the answer.
func call(t testing.TB, base, fn, rest, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return stacktest.Call(t, http.MethodPost, base+"/fn/"+fn+rest, ctype, body)
}

func wantAnswer(t *testing.T, resp *http.Response, body []byte, status int, ctype, want string) {
	t.Helper()
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) || string(body) != want {
		t.Errorf("%d %s %q; want %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, status, ctype, want)
	}
}

// TestExampleManifests: every example folder's hearth.yaml names its
// module, of the reactor ABI, with a build command.
func TestExampleManifests(t *testing.T) {
	for _, name := range manifests {
		m, err := os.ReadFile(filepath.Join(name, "hearth.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"name: " + name + "\n", "abi: reactor", "module: " + name + ".wasm", "command: "} {
			if !bytes.Contains(m, []byte(want)) {
				t.Errorf("%s/hearth.yaml does not say %q", name, want)
			}
		}
		module(t, name)
	}
}

// TestExamplesOnDevStack deploys each example to a dev stack and calls it
// through /fn/ as a browser or curl would.
func TestExamplesOnDevStack(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	for _, name := range manifests {
		spec := ""
		if name == "thumbnail" {
			spec = `{"memory_mb":256}`
		}
		stacktest.MustDeploy(t, s.GatewayURL, name, module(t, name), spec)
	}
	base := s.GatewayURL

	t.Run("jsontransform", func(t *testing.T) {
		in := []byte(`[{"id":1,"name":"tea","price":3.5,"tags":["hot"]},{"id":2,"name":"cake","price":4},{"id":3,"name":"water","price":0.5}]`)
		resp, body := call(t, base, "jsontransform", "?pick=id,name&rename=name:title&sort=-price&limit=2", "application/json", in)
		wantAnswer(t, resp, body, 200, "application/json", `[{"id":2,"title":"cake"},{"id":1,"title":"tea"}]`+"\n")
		resp, body = call(t, base, "jsontransform", "?pick=tags,id", "application/json", []byte(`{"id":7, "tags": [ "a" ], "x": null}`))
		wantAnswer(t, resp, body, 200, "application/json", `{"tags":["a"],"id":7}`+"\n")
		resp, body = call(t, base, "jsontransform", "", "application/json", in)
		wantAnswer(t, resp, body, 200, "application/json", `[{"id":1,"name":"tea","price":3.5,"tags":["hot"]},{"id":2,"name":"cake","price":4},{"id":3,"name":"water","price":0.5}]`+"\n")
		for _, c := range []struct{ query, body, want string }{
			{"", "not json", "the input is not a JSON object or array"},
			{"", "[1,2]", "item 0: want a JSON object"},
			{"?limit=-1", "[]", "limit=-1: give a count"},
			{"?rename=a", "[]", "rename=a: give old:new pairs"},
			{"?sort=id", `{"id":1}`, "sort and limit need an array of objects"},
		} {
			resp, body := call(t, base, "jsontransform", c.query, "application/json", []byte(c.body))
			var e struct {
				Error struct{ Code, Message string }
			}
			if resp.StatusCode != 400 || json.Unmarshal(body, &e) != nil || e.Error.Code != "bad_input" || !strings.Contains(e.Error.Message, c.want) {
				t.Errorf("%s %q: %d %s; want 400 with %q", c.query, c.body, resp.StatusCode, body, c.want)
			}
		}
	})

	t.Run("markdown", func(t *testing.T) {
		src := "# Release & <b>notes</b>\n\nSome *emphasis*, a [link](https://example.com) and ~~old~~.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n- [x] done\n"
		resp, body := call(t, base, "markdown", "", "text/markdown", []byte(src))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
		}
		page := string(body)
		for _, want := range []string{"<!DOCTYPE html>", "<title>Release &amp; notes</title>", `<h1 id="release--`, `">Release &amp; <!-- raw HTML omitted -->notes<!-- raw HTML omitted --></h1>`,
			"<em>emphasis</em>", `<a href="https://example.com">link</a>`, "<del>old</del>", "<td>1</td>", `<input checked="" disabled="" type="checkbox"`, "<!-- raw HTML omitted -->"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page has no %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "<script>") {
			t.Errorf("raw HTML came through:\n%s", page)
		}
		resp, body = call(t, base, "markdown", "?fragment=1", "text/markdown", []byte("hello *world*"))
		wantAnswer(t, resp, body, 200, "text/html", "<p>hello <em>world</em></p>\n")
		// GET with no body: an empty page.
		resp, body = stacktest.Call(t, http.MethodGet, base+"/fn/markdown", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>Document</title>") {
			t.Errorf("GET: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("thumbnail", func(t *testing.T) {
		src := testImage(640, 480)
		resp, body := call(t, base, "thumbnail", "?size=64", "image/png", src)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%d %v %.200s", resp.StatusCode, resp.Header, body)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
			t.Fatalf("thumbnail %v, want 64×48", b)
		}
		// The same bytes as the native code makes: the module is the package.
		native, err := thumb.Thumbnail(src, 64)
		if err != nil || !bytes.Equal(native, body) {
			t.Errorf("the module's thumbnail differs from the native one (%v)", err)
		}
		// The left column averages the red of the image's left 10 pixels.
		if r, _, _, _ := img.At(0, 24).RGBA(); r>>8 > 8 {
			t.Errorf("pixel (0,24) red %d, want the dark left edge", r>>8)
		}
		if r, _, _, _ := img.At(63, 24).RGBA(); r>>8 < 240 {
			t.Errorf("pixel (63,24) red %d, want the bright right edge", r>>8)
		}
		// A small image keeps its size; a tall one is bounded by its height.
		resp, body = call(t, base, "thumbnail", "", "image/png", testImage(30, 200))
		if img, err := png.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx() != 19 || img.Bounds().Dy() != 128 {
			t.Errorf("30×200 at the default 128: %d %v %v", resp.StatusCode, err, img)
		}
		for _, c := range []struct{ query, body, want string }{
			{"", "", "no image: send a PNG or JPEG"},
			{"", "GIF89a not really", "not a PNG or JPEG image"},
			{"?size=0", "x", "size=0: give 1 to 2048 pixels"},
			{"?size=big", "x", "size=big"},
		} {
			resp, body := call(t, base, "thumbnail", c.query, "image/png", []byte(c.body))
			if resp.StatusCode != 400 || !strings.Contains(string(body), c.want) {
				t.Errorf("%s %q: %d %q, want 400 %q", c.query, c.body, resp.StatusCode, body, c.want)
			}
		}
	})

	t.Run("wc-wat", func(t *testing.T) {
		for in, want := range map[string]string{
			"":                                "0 0 0\n",
			"one two\nthree\n":                "2 3 14\n",
			"  spaced \t out  ":               "0 2 16\n",
			strings.Repeat("ab c\n", 200_000): "200000 400000 1000000\n",
		} {
			resp, body := call(t, base, "wc-wat", "", "text/plain", []byte(in))
			wantAnswer(t, resp, body, 200, "text/plain", want)
		}
	})

	t.Run("slugify", func(t *testing.T) {
		for _, c := range []struct{ query, in, want string }{
			{"", "Hello, World! Ça va?", "hello-world-a-va\n"},
			{"", "  --Already-a-slug--  ", "already-a-slug\n"},
			{"", "", "\n"},
			{"?max=8", "Hello, World! Ça va?", "hello\n"},
			{"?x=1&max=11", "Hello, World! Ça va?", "hello-world\n"},
			{"?max=3", "abcdefgh", "abc\n"},
		} {
			resp, body := call(t, base, "slugify", c.query, "text/plain", []byte(c.in))
			wantAnswer(t, resp, body, 200, "text/plain", c.want)
		}
	})

	t.Run("csv2json-rust", func(t *testing.T) {
		resp, body := call(t, base, "csv2json-rust", "", "text/csv", []byte("name,note\r\ntea,\"hot, \"\"green\"\"\"\r\ncake,\"two\nlines\"\r\nwater\r\n"))
		wantAnswer(t, resp, body, 200, "application/json", `[{"name":"tea","note":"hot, \"green\""},{"name":"cake","note":"two\nlines"},{"name":"water"}]`+"\n")
		var rows []map[string]string
		if err := json.Unmarshal(body, &rows); err != nil || len(rows) != 3 {
			t.Errorf("not the JSON of 3 rows: %v", err)
		}
		resp, body = call(t, base, "csv2json-rust", "", "text/csv", []byte("a\n1,2\n"))
		wantAnswer(t, resp, body, 400, "text/plain", "row 2 has 2 fields, the header 1\n")
		resp, body = call(t, base, "csv2json-rust", "", "text/csv", []byte("a\n\"open\n"))
		wantAnswer(t, resp, body, 400, "text/plain", "line 3: a quoted field is not closed\n")
	})
}

// testImage is a w×h PNG whose red grows from left to right and whose
// green grows from top to bottom.
func testImage(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / max(1, w-1)), G: uint8(y * 255 / max(1, h-1)), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BenchmarkThumbnail makes a 128-pixel thumbnail of a 1024×768 PNG
// natively, through the dev stack (HTTP to the gateway, NATS to the
// runner, the Go reactor on wazero, and back), and by calling the module's
// exports on wazero directly, with WithCloseOnContextDone as the runner
// has it (the timeout's enforcement) and without; the ratios are the price
// of running it as a Hearth function, and where it goes (functions/README.md).
func BenchmarkThumbnail(b *testing.B) {
	src := testImage(1024, 768)
	b.Run("native", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if _, err := thumb.Thumbnail(src, 128); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, closeOnDone := range []bool{true, false} {
		name := "wazero"
		if !closeOnDone {
			name = "wazero-no-close"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(closeOnDone))
			defer rt.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			mod, err := rt.InstantiateWithConfig(ctx, module(b, "thumbnail"), wazero.NewModuleConfig().WithName("").WithStartFunctions(abi.Initialize))
			if err != nil {
				b.Fatal(err)
			}
			meta := "POST /\n"
			in := append([]byte(meta), src...)
			alloc, handle := mod.ExportedFunction(abi.Alloc), mod.ExportedFunction(abi.Handle)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				res, err := alloc.Call(ctx, uint64(len(in)))
				if err != nil {
					b.Fatal(err)
				}
				p := uint32(res[0])
				mod.Memory().Write(p, in)
				if _, err := handle.Call(ctx, uint64(p), uint64(len(meta)), uint64(p)+uint64(len(meta)), uint64(len(src))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("hearth", func(b *testing.B) {
		s := stacktest.Dev(b, b.TempDir())
		stacktest.MustDeploy(b, s.GatewayURL, "thumbnail", module(b, "thumbnail"), `{"memory_mb":256}`)
		if resp, body := call(b, s.GatewayURL, "thumbnail", "", "image/png", src); resp.StatusCode != 200 {
			b.Fatalf("%d %s", resp.StatusCode, body) // warm: compiled, an instance in the pool
		}
		b.SetBytes(int64(len(src)))
		b.ResetTimer()
		for b.Loop() {
			if resp, body := call(b, s.GatewayURL, "thumbnail", "", "image/png", src); resp.StatusCode != 200 {
				b.Fatal(fmt.Sprintf("%d %s", resp.StatusCode, body))
			}
		}
	})
}
