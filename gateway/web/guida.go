package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"

	"github.com/bassareggiana/faldone/docs/guida"
)

// guide is the guide for the people who use the archive (docs/guida),
// rendered once from its Markdown: no raw HTML passes (goldmark's default),
// its images are served beside it.
type guide struct {
	body   template.HTML
	images http.Handler
}

func newGuide() (*guide, error) {
	src, err := fs.ReadFile(guida.Files, "README.md")
	if err != nil {
		return nil, fmt.Errorf("web: guide: %w", err)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithParserOptions(parser.WithAutoHeadingID()))
	var b bytes.Buffer
	if err := md.Convert(src, &b); err != nil {
		return nil, fmt.Errorf("web: guide: %w", err)
	}
	img, err := fs.Sub(guida.Files, "img")
	if err != nil {
		return nil, fmt.Errorf("web: guide: %w", err)
	}
	// The Markdown is the project's own, converted without raw HTML.
	return &guide{body: template.HTML(b.String()), images: http.StripPrefix("/_/guida/img/", http.FileServerFS(img))}, nil
}

// guidePage serves the guide, to anyone: it tells how to sign in.
func (h *Handler) guidePage(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "guida.html", struct {
		page
		Body template.HTML
	}{h.openPage(r, "Guida"), h.guide.body})
}
