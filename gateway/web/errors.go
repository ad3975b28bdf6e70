package web

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/gateway/dav"
	"github.com/bassareggiana/faldone/state"
)

// Whatever goes wrong, a person's browser gets a page in Italian: with the
// signed-in header (the person's name and "Esci") when there is a session,
// and a link back to the nearest folder of the archive they may open, or to
// their personal page, or to the sign-in. It says what happened in words,
// never an error's text or a path of the host.

// reqKey keys a request's reqState in its context.
type reqKey struct{}

// reqState is what the pages learned of a request that a message page
// ending it needs again: its session, once looked up.
type reqState struct {
	loaded bool
	sess   *state.Session
}

// withState gives r a place for what its pages learn of it.
func withState(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(reqKey{}).(*reqState); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), reqKey{}, &reqState{}))
}

// remember keeps the outcome of the request's session lookup: sess, or
// nil when there is none or it could not be read.
func remember(r *http.Request, sess *state.Session) {
	if st, ok := r.Context().Value(reqKey{}).(*reqState); ok {
		st.loaded, st.sess = true, sess
	}
}

// sessionOf is the request's session for a page's header, nil when there
// is none: looked up once per request, and not again after a failure (a
// state store that does not answer is not asked twice).
func (h *Handler) sessionOf(r *http.Request) *state.Session {
	st, _ := r.Context().Value(reqKey{}).(*reqState)
	if st != nil && st.loaded {
		return st.sess
	}
	var sess *state.Session
	if h.cfg.Sessions != nil {
		if s, err := h.cfg.Sessions.Load(r); err == nil {
			sess = &s
		}
	}
	remember(r, sess)
	return sess
}

// backLink is the way back a message page offers.
type backLink struct{ Href, Text string }

// message answers with a page that says what happened: the title, the
// message and the way back.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	pg := h.openPage(r, title)
	// Never kept: the next visit may find the page, or the service, back.
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, status, "messaggio.html", struct {
		page
		Message string
		Back    backLink
	}{pg, msg, h.back(r, pg.Session, status)})
}

// notFound answers for a page that does not exist.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusNotFound, "Pagina non trovata", "La pagina richiesta non esiste.")
}

// unrouted answers a request that no page takes: 404, or 405 (with the
// methods allowed) for a page that exists but is not opened that way, as
// the pages' mux would, but as a page.
func (h *Handler) unrouted(w http.ResponseWriter, r *http.Request) {
	hd, _ := h.mux.Handler(r)
	probe := &probeWriter{header: http.Header{}}
	hd.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		h.message(w, r, http.StatusMethodNotAllowed, "Operazione non consentita", "Questa pagina non si apre in questo modo: torna indietro e usa i comandi della pagina.")
		return
	}
	h.notFound(w, r)
}

// probeWriter takes the answer of a handler whose status alone matters.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// maxProbes bounds the folders looked up for the way back from a missing
// one.
const maxProbes = 8

// back is the way back from a message page: to the folder the request was
// about, or the nearest one above it that exists and the person may open
// (not looked for after a failure of the service, when looking would fail
// too); to the personal page for the pages that are not about a folder; to
// the sign-in without a session.
func (h *Handler) back(r *http.Request, sess *state.Session, status int) backLink {
	if sess == nil {
		return backLink{"/_/accedi", "Torna alla pagina di accesso"}
	}
	p, ok := h.folderOf(r)
	if !ok {
		return backLink{"/_/profilo", "Torna all'area personale"}
	}
	if status < 500 {
		p = h.nearestFolder(r, *sess, p)
	}
	if p == "/" {
		return backLink{FolderPages + "/", "Torna all'archivio"}
	}
	return backLink{FolderPages + escapedPath(p) + "/", "Torna alla cartella " + h.shownName(p)}
}

// folderOf is the folder of the archive a request was about, from its
// URL: the folder that shows what a page shows or changes, or the folder a
// page acts in; a drive's path stands for itself. false: the request is
// not about a folder of the archive (or is about the archive's start page,
// whose way back is the personal page).
func (h *Handler) folderOf(r *http.Request) (string, bool) {
	up := func(p string) string { return path.Dir(p) }
	self := func(p string) string { return p }
	var (
		prefix string
		folder func(string) string
	)
	switch u := r.URL.Path; {
	case !strings.HasPrefix(u, Prefix):
		p, _, err := dav.CleanURLPath(r.URL.EscapedPath())
		if err != nil || p == "/" {
			return "", false
		}
		return up(p), true
	case strings.HasPrefix(u, FolderPages+"/"):
		prefix, folder = FolderPages, up
	case strings.HasPrefix(u, "/_/scheda/"):
		prefix, folder = "/_/scheda", up
	case strings.HasPrefix(u, "/_/disegno/"):
		prefix, folder = "/_/disegno", up
	case strings.HasPrefix(u, "/_/fascicolo/"):
		prefix, folder = "/_/fascicolo", self
	case strings.HasPrefix(u, "/_/zip/"):
		prefix, folder = "/_/zip", self
	case strings.HasPrefix(u, "/_/carica/"):
		prefix, folder = "/_/carica", self
	case strings.HasPrefix(u, "/_/modifica/"):
		// A new folder is made in the folder, a dossier closed is the
		// folder; what is renamed or deleted is in it.
		prefix, folder = "/_/modifica", up
		if a := r.PostFormValue("azione"); a == "cartella" || a == "chiudi" {
			folder = self
		}
	case strings.HasPrefix(u, "/_/cestino/"):
		// A Comune's recycle bin: back to the Comune.
		prefix, folder = "/_/cestino", func(p string) string {
			c, _ := access.SplitComune(p)
			return "/" + c
		}
	default:
		return "", false
	}
	p, ok := archivePath(r, prefix)
	if !ok || (p == "/" && prefix == FolderPages) {
		return "", false
	}
	p = folder(p)
	if p == "" {
		p = "/"
	}
	return path.Clean(p), true
}

// nearestFolder is p, or the nearest folder above it, that exists and that
// the session's person may open; the archive's start page when none is
// found within maxProbes.
func (h *Handler) nearestFolder(r *http.Request, sess state.Session, p string) string {
	if h.cfg.Archive == nil || h.cfg.Policy == nil {
		return "/"
	}
	op, err := h.begin(r, sess)
	if err != nil {
		return "/"
	}
	for i := 0; p != "/" && i < maxProbes; i++ {
		if e, err := op.Info(p); err == nil && e.IsDir {
			return p
		}
		p = path.Dir(p)
	}
	return "/"
}

// DrivePage answers with a page a request for the drive that failed with
// status, when a person's browser opened it, and reports whether it did.
// Drive clients (WebDAV) and scripts get the plain status.
func (h *Handler) DrivePage(w http.ResponseWriter, r *http.Request, status int) bool {
	if !navigation(r) {
		return false
	}
	title, msg, ok := statusMessage(status)
	if !ok {
		return false
	}
	h.securityHeaders(w.Header())
	r = withState(r)
	if _, ok := auth.FromContext(r.Context()); !ok {
		// Refused before it was known whose it is (the state store out, too
		// many attempts): no session to look up, nor the store to ask again.
		remember(r, nil)
	}
	h.message(w, r, status, title, msg)
	return true
}

// navigation reports whether a person's browser opened the request's URL
// as a page: browsers say so (Sec-Fetch-Mode), and older ones ask for HTML.
// A frame or a fetch of a page's script is not one.
func navigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "navigate":
		d := r.Header.Get("Sec-Fetch-Dest")
		return d == "" || d == "document"
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/html")
	}
	return false
}

// statusMessage is the title and the message of a page that answers a
// request of the drive that failed with status; false for the statuses a
// browser's page load does not meet (a failed condition, a range).
func statusMessage(status int) (title, msg string, ok bool) {
	switch {
	case status == http.StatusBadRequest:
		return "Richiesta non valida", "L'indirizzo richiesto non è valido.", true
	case status == http.StatusForbidden:
		return "Accesso non consentito", "Non hai i permessi per aprire questo elemento.", true
	case status == http.StatusNotFound:
		return "File o cartella non trovati", "Il file o la cartella non esiste, o non è accessibile.", true
	case status == http.StatusTooManyRequests:
		return "Troppi tentativi", "Troppi tentativi non riusciti: riprova più tardi.", true
	case status == http.StatusServiceUnavailable:
		return "Servizio non disponibile", "L'archivio non è al momento raggiungibile: riprova tra qualche minuto.", true
	case status >= 500:
		return "Errore del servizio", "Si è verificato un errore imprevisto: riprova più tardi. Se il problema continua, contatta l'assistenza.", true
	}
	return "", "", false
}

// staticFiles serves the pages' own files: files only, never a folder's
// listing. Browsers keep them until a release changes them, since their
// URLs carry the version of their content.
func (h *Handler) staticFiles(static fs.FS, gz gzipped) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/_/static/")
		f, fi, ok := openFile(static, name)
		if !ok {
			h.notFound(w, r)
			return
		}
		defer f.Close()
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		if gz.serve(w, r, name, fi) {
			return
		}
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	})
}

// openFile opens the file name of fsys; false for a folder, a name that
// is not a file's (empty, with a trailing slash) or one missing.
func openFile(fsys fs.FS, name string) (io.ReadSeekCloser, fs.FileInfo, bool) {
	if !fs.ValidPath(name) || name == "." {
		return nil, nil, false
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, false
	}
	fi, err := f.Stat()
	rs, seeks := f.(io.ReadSeekCloser)
	if err != nil || fi.IsDir() || !seeks {
		f.Close()
		return nil, nil, false
	}
	return rs, fi, true
}

// Favicon serves the icon that browsers ask for at /favicon.ico, before
// any sign-in: the pages' own, an SVG. Its URL carries no version, so
// browsers keep it a day.
func (h *Handler) Favicon(w http.ResponseWriter, r *http.Request) {
	f, fi, ok := openFile(h.static, "faldone.svg")
	if !ok {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", "image/svg+xml")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "favicon.svg", fi.ModTime(), f)
}
