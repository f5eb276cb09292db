// Package render is the markdown example's work, apart from the ABI so
// that it runs (and is tested) natively too.
package render

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// md is made once per instance; a reactor's instances serve many calls.
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// Fragment is the HTML of src.
func Fragment(src []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Page is src as a whole HTML document, titled by its first heading.
func Page(src []byte) ([]byte, error) {
	doc := md.Parser().Parse(text.NewReader(src))
	title := "Document"
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			if t := strings.TrimSpace(string(headingText(h, src))); t != "" {
				title = t
			}
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	var body bytes.Buffer
	if err := md.Renderer().Render(&body, src, doc); err != nil {
		return nil, err
	}
	var page bytes.Buffer
	page.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	page.WriteString(html.EscapeString(title))
	page.WriteString("</title>\n<style>body{max-width:46rem;margin:2rem auto;padding:0 1rem;font:16px/1.5 system-ui,sans-serif}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}</style>\n</head>\n<body>\n")
	page.Write(body.Bytes())
	page.WriteString("</body>\n</html>\n")
	return page.Bytes(), nil
}

// headingText is the text of a heading's inline children.
func headingText(h *ast.Heading, src []byte) []byte {
	var out []byte
	_ = ast.Walk(h, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := n.(*ast.Text); ok && entering {
			out = append(out, t.Segment.Value(src)...)
		}
		return ast.WalkContinue, nil
	})
	return out
}
