package web

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/ranged"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/scan/render"
)

// Previews renders the pages of scans, PDFs and pictures (scan/render).
type Previews interface {
	Pages(ctx context.Context, src render.Source) (int, error)
	Render(ctx context.Context, src render.Source, n, w int) (render.Image, error)
}

// The viewer: /_/vista/<path> shows a TIFF or PDF a page at a time, with
// the thumbnails of its pages; /_/pagina/<path>?n=N&w=W is page N as an
// image W pixels wide, and /_/miniatura/<path> the first page as a
// thumbnail, which the folder pages show beside files. Every image is
// read with the person's access, as the file page is.

// viewerPage is the data of vista.html.
type viewerPage struct {
	page
	Name, FileHref, Download string
	Image                    string // the URL of the pages' images, without its query
	Crumbs                   []crumb
	Page, Pages              int
	PrevHref, NextHref       string
	Thumbs                   []int // the pages, from 1
	Error                    string
}

// source is the render source of the file e at p, read through op.
func source(op *archive.Op, p string, e backends.Entry) render.Source {
	version := e.ETag
	if version == "" {
		version = strconv.FormatInt(e.Size, 10) + "-" + strconv.FormatInt(e.ModTime.UnixNano(), 10)
	}
	return render.Source{Path: p, Version: version, Size: e.Size, Type: e.ContentType,
		Data: ranged.New(op, p, e.Size, e.ETag, ranged.Options{})}
}

// previewFile opens the file of an image request, answering the browser
// itself (and returning false) when there is none to render.
func (h *Handler) previewFile(w http.ResponseWriter, r *http.Request, prefix string) (render.Source, bool) {
	_, p, op, ok := h.readable(w, r, prefix, false, h.fileNotFound)
	if !ok {
		return render.Source{}, false
	}
	if h.cfg.Previews == nil {
		h.fileNotFound(w, r)
		return render.Source{}, false
	}
	e, ok := h.entryOf(w, r, op, p)
	if !ok {
		return render.Source{}, false
	}
	if e.IsDir || !render.Renderable(e.ContentType) {
		h.message(w, r, http.StatusNotFound, "Anteprima non disponibile", "Per questo tipo di file non c'è un'anteprima: scaricalo per aprirlo.")
		return render.Source{}, false
	}
	return source(op, p, e), true
}

// pageImage serves page n of a file at width w.
func (h *Handler) pageImage(w http.ResponseWriter, r *http.Request) {
	src, ok := h.previewFile(w, r, "/_/pagina")
	if !ok {
		return
	}
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("n"))
	if q.Get("n") == "" {
		n, err = 1, nil
	}
	width, werr := strconv.Atoi(q.Get("w"))
	if q.Get("w") == "" {
		width, werr = 1024, nil
	}
	if err != nil || werr != nil || n < 1 || !allowedWidth(width) {
		h.message(w, r, http.StatusBadRequest, "Pagina non valida", "La pagina o la larghezza richieste non sono valide.")
		return
	}
	if h.notModified(w, r, render.Tag(src, n, width)) {
		return
	}
	img, err := h.cfg.Previews.Render(r.Context(), src, n, width)
	if err != nil {
		h.renderFailed(w, r, src, err)
		return
	}
	h.serveImage(w, r, img)
}

// thumbnail serves the first page of a file as a thumbnail, or, when it
// cannot be rendered, the icon of its type: a folder page never shows a
// broken image.
func (h *Handler) thumbnail(w http.ResponseWriter, r *http.Request) {
	src, ok := h.previewFile(w, r, "/_/miniatura")
	if !ok {
		return
	}
	if h.notModified(w, r, render.Tag(src, 1, render.Thumbnail)) {
		return
	}
	img, err := h.cfg.Previews.Render(r.Context(), src, 1, render.Thumbnail)
	if err != nil {
		h.logRenderFailure(r, src, err)
		h.typeIcon(w, src.Type)
		return
	}
	h.serveImage(w, r, img)
}

// notModified answers 304 when the browser holds the rendering tag.
func (h *Handler) notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	etag := `"` + tag + `"`
	w.Header().Set("ETag", etag)
	// Private: the image is of a file the person may read. Kept a few
	// minutes, then asked again: a replaced file has a new tag.
	w.Header().Set("Cache-Control", "private, max-age=300")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if strings.TrimSpace(t) == etag {
				w.WriteHeader(http.StatusNotModified)
				return true
			}
		}
	}
	return false
}

func (h *Handler) serveImage(w http.ResponseWriter, r *http.Request, img render.Image) {
	defer img.File.Close()
	fi, err := img.File.Stat()
	if err != nil {
		h.unavailable(w, r, "stat rendered page", err)
		return
	}
	w.Header().Set("Content-Type", img.Type)
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, img.File)
	}
}

// renderFailed says, in the page's words, why a page has no image.
func (h *Handler) renderFailed(w http.ResponseWriter, r *http.Request, src render.Source, err error) {
	h.logRenderFailure(r, src, err)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("ETag")
	status, title, msg := renderProblem(err)
	if status == http.StatusServiceUnavailable {
		h.unavailable(w, r, "render page", err)
		return
	}
	h.message(w, r, status, title, msg)
}

// renderProblem is what a person reads of a render's failure.
func renderProblem(err error) (int, string, string) {
	switch {
	case errors.Is(err, render.ErrNoPage):
		return http.StatusNotFound, "Pagina inesistente", "Il documento non ha la pagina richiesta."
	case errors.Is(err, render.ErrBigTIFF):
		return http.StatusUnprocessableEntity, "Anteprima non disponibile", "Il file è un TIFF di formato esteso (BigTIFF), che l'anteprima non legge: scaricalo per aprirlo."
	case errors.Is(err, render.ErrTooLarge):
		return http.StatusUnprocessableEntity, "Anteprima non disponibile", "Il file è troppo grande o troppo complesso per l'anteprima: scaricalo per aprirlo."
	case errors.Is(err, render.ErrDamaged):
		return http.StatusUnprocessableEntity, "Anteprima non disponibile", "Il file sembra danneggiato o non è leggibile: l'anteprima non si può mostrare. Scaricalo per aprirlo con un programma sul tuo computer."
	case errors.Is(err, render.ErrUnsupported):
		return http.StatusNotFound, "Anteprima non disponibile", "Per questo tipo di file non c'è un'anteprima: scaricalo per aprirlo."
	}
	return http.StatusServiceUnavailable, "", ""
}

func (h *Handler) logRenderFailure(r *http.Request, src render.Source, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.cfg.Log.Warn("preview not rendered", "path", src.Path, "query", r.URL.RawQuery, "err", err)
}

// typeIcon answers with the icon of files of content type ct.
func (h *Handler) typeIcon(w http.ResponseWriter, ct string) {
	name := "icona-documento.svg"
	switch {
	case ct == "application/pdf":
		name = "icona-pdf.svg"
	case ct == "image/tiff":
		name = "icona-scansione.svg"
	case strings.HasPrefix(ct, "image/"):
		name = "icona-immagine.svg"
	}
	b, err := fs.ReadFile(h.static, name)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	// Not kept: the file may render once replaced.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("ETag")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("X-Faldone-Anteprima", "icona")
	w.Write(b)
}

func allowedWidth(w int) bool {
	for _, a := range render.Widths {
		if a == w {
			return true
		}
	}
	return false
}

// maxThumbs bounds the thumbnails of the viewer's page.
const maxThumbs = 600

// viewer shows a TIFF or PDF a page at a time.
func (h *Handler) viewer(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/vista", false, h.fileNotFound)
	if !ok {
		return
	}
	e, ok := h.entryOf(w, r, op, p)
	if !ok {
		return
	}
	if e.IsDir || h.cfg.Previews == nil || !render.Paged(e.ContentType) {
		http.Redirect(w, r, "/_/scheda"+escapedPath(p), http.StatusSeeOther)
		return
	}
	src := source(op, p, e)
	pg := viewerPage{page: page{Title: e.Name(), Session: &sess, CSRF: sess.CSRF}, Name: e.Name(),
		FileHref: "/_/scheda" + escapedPath(p), Download: escapedPath(p), Image: "/_/pagina" + escapedPath(p),
		Crumbs: h.crumbs(parentOf(p))}
	status := http.StatusOK
	pages, err := h.cfg.Previews.Pages(r.Context(), src)
	if err != nil {
		status, _, pg.Error = renderProblem(err)
		if status == http.StatusServiceUnavailable {
			h.unavailable(w, r, "count pages", err)
			return
		}
		h.logRenderFailure(r, src, err)
	} else {
		pg.Pages = pages
		pg.Page = 1
		if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n >= 1 && n <= pages {
			pg.Page = n
		}
		base := "/_/vista" + escapedPath(p) + "?n="
		if pg.Page > 1 {
			pg.PrevHref = base + strconv.Itoa(pg.Page-1)
		}
		if pg.Page < pages {
			pg.NextHref = base + strconv.Itoa(pg.Page+1)
		}
		// The thumbnails of the pages around the current one: a scan of
		// thousands of pages would make a page of megabytes.
		first, last := max(1, pg.Page-maxThumbs/2), min(pages, pg.Page+maxThumbs/2)
		for n := first; n <= last; n++ {
			pg.Thumbs = append(pg.Thumbs, n)
		}
	}
	h.cfg.Audit(r, sess.Person, "VIEW", p, status)
	h.render(w, status, "vista.html", pg)
}

// parentOf is the folder of the archive path p.
func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}
