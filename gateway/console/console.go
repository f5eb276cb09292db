package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var embedded embed.FS

// Prefix is the path under which the gateway serves the assets; Index is
// served at /.
const Prefix = "/console/"

// ContentSecurityPolicy is the policy every console response carries: the
// gateway's own scripts, styles, images and API only, no inline script or
// style, no plugins, no framing, forms posting nowhere else.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Asset is one embedded file.
type Asset struct {
	Name        string // path below assets/, such as js/api.js
	ContentType string
	ETag        string
	Body        []byte
}

var (
	byName = map[string]*Asset{}
	// modTime is when the assets were built into the binary: the process
	// start stands in (embed.FS has no times), and ETags decide anyway.
	modTime = time.Now()
)

// contentTypes are the types of the files the console is made of; a file
// of another kind is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

func init() {
	err := fs.WalkDir(embedded, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "assets/")
		byName[name] = &Asset{Name: name, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, Body: body}
		return nil
	})
	if err != nil {
		panic("console: embedded assets: " + err.Error())
	}
}

// Index is the page served at /.
func Index() *Asset { return byName["index.html"] }

// Lookup finds the asset of a path below Prefix ("js/api.js").
func Lookup(name string) (*Asset, bool) {
	a, ok := byName[name]
	return a, ok
}

// Names lists the assets' names.
func Names() []string {
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	return out
}

// SetHeaders sets the security headers of a console response.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// Serve writes the asset with its type, the security headers and its
// ETag; browsers revalidate each time (no-cache), so a new binary's
// console is seen at the next load.
func Serve(w http.ResponseWriter, r *http.Request, a *Asset) {
	h := w.Header()
	SetHeaders(h)
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.ETag)
	http.ServeContent(w, r, a.Name, modTime, bytes.NewReader(a.Body))
}
