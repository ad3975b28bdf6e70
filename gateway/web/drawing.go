package web

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/drawing/dwg"
	"github.com/bassareggiana/faldone/drawing/dxf"
)

// A CAD drawing's page (DWG, DXF) says which AutoCAD release wrote it, and
// where the person's network drive shows it, to open it in a CAD program;
// a DXF drawing is previewed too, drawn as SVG by /_/disegno/<path>, which
// the page's script (static/disegno.js) pans and zooms.

// drawingLimits bound a preview (pages.drawing_preview_max and _entities):
// the largest drawings of a permit are a few MB; one beyond is opened in a
// CAD program.
func (h *Handler) drawingLimits() dxf.Limits {
	l, d := h.cfg.DrawingLimits, dxf.DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	return l // the other zero fields are dxf's defaults
}

// drawingVersion is part of the previews' ETag: a release that draws
// differently changes it.
const drawingVersion = "1"

// dxfHeadBytes is how much of a DXF file is read for its version:
// $ACADVER opens the header.
const dxfHeadBytes = 64 << 10

// drawingInfo is what a file page shows of a drawing.
type drawingInfo struct {
	DXF     bool
	Name    string
	Version string // the line of the format's version
	Units   string // the drawing's unit, "" when the file does not say
	Preview string // the SVG's URL; "" when there is no preview
	Problem string // why there is none, for a DXF
	Drive   drivePaths
}

// drivePaths are the file's path as the person's network drive shows it.
type drivePaths struct {
	Letter string // a drive mapped to Z: as the personal page says: Z:\guastalla\…
	UNC    string // Windows without a mapped drive: \\host@SSL\DavWWWRoot\guastalla\…
	Mount  string // macOS and Linux, below the drive's folder: /guastalla/…
}

// drawingOf is the drawing's part of the file page of e, nil for a file
// that is not a drawing.
func (h *Handler) drawingOf(r *http.Request, op *archive.Op, e backends.Entry, p string) *drawingInfo {
	var di drawingInfo
	switch e.ContentType {
	case "image/vnd.dwg":
	case "image/vnd.dxf":
		di.DXF = true
	default:
		return nil
	}
	di.Name, di.Drive = e.Name(), drivePathsOf(r, p)
	n := int64(dwg.HeaderSize)
	if di.DXF {
		n = dxfHeadBytes
	}
	head, err := h.fileHead(op, p, e.Size, n)
	if err != nil {
		h.cfg.Log.Warn("drawing: read the file's start", "path", p, "err", err)
		di.Version = "non disponibile: l'archivio non ha risposto"
		if di.DXF {
			di.Problem = "L'anteprima non è al momento disponibile: riprova più tardi."
		}
		return &di
	}
	if !di.DXF {
		v, err := dwg.Version(r.Context(), strings.NewReader(head))
		if err != nil {
			v = ""
		}
		di.Version = dwg.Describe(v)
		return &di
	}
	hdr, err := dxf.ReadHeader(r.Context(), strings.NewReader(head))
	v := hdr.Version
	di.Units = dxf.UnitName(hdr.Units)
	switch {
	case err != nil:
		di.Version = "non riconosciuta"
		di.Problem = drawingProblem(err)
		h.cfg.Log.Warn("drawing: not a DXF file read", "path", p, "err", err)
		return &di
	case v == "":
		// AutoCAD reads a DXF without a header as R12's.
		di.Version = "non indicata nel file (DXF R12 o precedente)"
	default:
		if _, ok := dwg.Lookup(v); ok {
			di.Version = dwg.Describe(v)
		} else {
			di.Version = "versione DXF non riconosciuta (" + v + ")"
		}
	}
	if e.Size > h.drawingLimits().MaxBytes {
		di.Problem = drawingProblem(dxf.ErrTooLarge)
		return &di
	}
	di.Preview = "/_/disegno" + escapedPath(p)
	return &di
}

// fileHead is the first n bytes of the file p of size bytes, or fewer.
func (h *Handler) fileHead(op *archive.Op, p string, size, n int64) (string, error) {
	if size == 0 {
		return "", nil
	}
	obj, err := op.Open(p, &backends.Range{Start: 0, Length: min(n, size)})
	if err != nil {
		return "", err
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(io.LimitReader(obj.Body, n))
	return string(b), err
}

// drivePathsOf is where the file p is on the drive of the server the
// browser reached: the drive's root is the archive's (see creata.html).
func drivePathsOf(r *http.Request, p string) drivePaths {
	win := strings.ReplaceAll(p, "/", `\`)
	d := drivePaths{Letter: "Z:" + win, Mount: p}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	// Windows' WebDAV redirector names a server by host, @SSL for HTTPS
	// and @port for any port but the scheme's own; an IPv6 address would
	// need its own spelling, and gets none.
	if host == "" || strings.ContainsAny(host, ":[]") {
		return d
	}
	unc := `\\` + host
	if r.TLS != nil {
		unc += "@SSL"
	}
	if port != "" && !(r.TLS != nil && port == "443") && !(r.TLS == nil && port == "80") {
		unc += "@" + port
	}
	d.UNC = unc + `\DavWWWRoot` + win
	return d
}

// drawingProblem is the page's sentence for why a DXF has no preview.
func drawingProblem(err error) string {
	switch {
	case errors.Is(err, dxf.ErrTooLarge):
		return "Il disegno è troppo grande per l'anteprima: aprilo con il programma CAD."
	case errors.Is(err, dxf.ErrTooComplex):
		return "Il disegno è troppo complesso per l'anteprima: aprilo con il programma CAD."
	case errors.Is(err, dxf.ErrBinary):
		return "Il file è un DXF binario, che l'anteprima non legge: aprilo con il programma CAD."
	case errors.Is(err, dxf.ErrEmpty):
		return "Il disegno non contiene elementi da mostrare nell'anteprima: aprilo con il programma CAD."
	case errors.Is(err, dxf.ErrMalformed):
		return "Il file non è un disegno DXF leggibile, o è danneggiato: aprilo con il programma CAD."
	}
	return "L'anteprima non è al momento disponibile: riprova più tardi."
}

// drawingSVG serves the preview of a DXF drawing as SVG. It is kept by the
// browser only as long as the file is unchanged (its ETag) and asked for
// again each time, for the access check. The SVG has no script, and its
// own policy forbids any: opened by itself, it stays an image.
func (h *Handler) drawingSVG(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/disegno", false, h.fileNotFound)
	if !ok {
		return
	}
	e, ok := h.entryOf(w, r, op, p)
	if !ok {
		return
	}
	if e.IsDir || e.ContentType != "image/vnd.dxf" {
		h.message(w, r, http.StatusNotFound, "Anteprima non disponibile", "L'anteprima del disegno è disponibile solo per i file DXF.")
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-cache")
	hd.Set("Vary", "Accept-Encoding")
	if e.ETag != "" {
		etag := `"disegno-` + drawingVersion + "-" + etagToken(e.ETag) + `"`
		hd.Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if e.Size > h.drawingLimits().MaxBytes {
		h.drawingFailed(w, r, sess.Person, p, dxf.ErrTooLarge)
		return
	}
	select {
	case h.drawingSlots <- struct{}{}:
		defer func() { <-h.drawingSlots }()
	case <-r.Context().Done():
		return
	}
	start := time.Now()
	obj, err := op.Open(p, nil)
	if err != nil {
		h.unavailable(w, r, "open drawing", err)
		return
	}
	defer obj.Body.Close()
	d, err := dxf.Parse(r.Context(), obj.Body, h.drawingLimits())
	if err != nil {
		h.drawingFailed(w, r, sess.Person, p, err)
		return
	}
	out := &svgResponse{w: w, gzip: strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")}
	st, err := d.WriteSVG(r.Context(), out)
	if err == nil {
		err = out.Close()
	}
	if err != nil && !out.started {
		h.drawingFailed(w, r, sess.Person, p, err)
		return
	}
	if err != nil {
		// Cut while sent: the browser must not take half a drawing for
		// the whole.
		h.cfg.Log.Warn("drawing: preview cut", "path", p, "err", err)
		panic(http.ErrAbortHandler)
	}
	h.cfg.Log.Info("drawing previewed", "path", p, "entities", st.Entities, "svg_bytes", st.Bytes, "ms", time.Since(start).Milliseconds())
	h.cfg.Audit(r, sess.Person, "DRAWING", p, http.StatusOK)
}

// drawingFailed answers a preview that cannot be drawn: the page's script
// gets the reason in a sentence, a browser's tab a page.
func (h *Handler) drawingFailed(w http.ResponseWriter, r *http.Request, person, p string, err error) {
	status := http.StatusUnprocessableEntity
	msg := drawingProblem(err)
	switch {
	case errors.Is(err, context.Canceled):
		return
	case !errors.Is(err, dxf.ErrTooLarge) && !errors.Is(err, dxf.ErrTooComplex) && !errors.Is(err, dxf.ErrBinary) &&
		!errors.Is(err, dxf.ErrMalformed) && !errors.Is(err, dxf.ErrEmpty):
		h.cfg.Log.Error("drawing: read the file", "path", p, "err", err)
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	default:
		h.cfg.Log.Warn("drawing: no preview", "path", p, "err", err)
	}
	h.cfg.Audit(r, person, "DRAWING", p, status)
	hd := w.Header()
	hd.Del("ETag")
	hd.Set("Cache-Control", "no-store")
	if scriptRequest(r) {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, msg)
		return
	}
	h.message(w, r, status, "Anteprima non disponibile", msg)
}

// svgResponse sends the SVG's headers with its first bytes, so that a
// drawing refused before any is written can still be answered otherwise.
type svgResponse struct {
	w       http.ResponseWriter
	gzip    bool
	gz      *gzip.Writer
	started bool
}

func (s *svgResponse) Write(b []byte) (int, error) {
	if !s.started {
		s.started = true
		hd := s.w.Header()
		hd.Set("Content-Type", "image/svg+xml")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		hd.Set("X-Content-Type-Options", "nosniff")
		if s.gzip {
			hd.Set("Content-Encoding", "gzip")
			s.gz, _ = gzip.NewWriterLevel(s.w, gzip.BestSpeed)
		}
		s.w.WriteHeader(http.StatusOK)
	}
	if s.gz != nil {
		return s.gz.Write(b)
	}
	return s.w.Write(b)
}

func (s *svgResponse) Close() error {
	if s.gz != nil {
		return s.gz.Close()
	}
	return nil
}

// etagToken keeps the characters of a storage's ETag that an entity tag
// may hold.
func etagToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == '"' || r >= 0x7f {
			return -1
		}
		return r
	}, s)
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
