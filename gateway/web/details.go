package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/scan/render"
	"github.com/bassareggiana/faldone/state"
)

// Dossiers is the closed dossiers' store, as the pages use it.
type Dossiers interface {
	archive.DossierStore
	ClosedDossiers(ctx context.Context, p string, below bool) ([]state.ClosedDossier, error)
}

// Locks reads the WebDAV locks, so that a page can say who has a file open.
type Locks interface {
	Locks(ctx context.Context, p string, descendants bool, now time.Time) ([]state.Lock, error)
}

type lockInfo struct {
	Holder, Client, Since, Until string
}

type detailsPage struct {
	page
	Name, Folder, FolderHref, Type, Size, Modified string
	Download, Action                               string
	SHA256                                         string // hexadecimal, "" when none is recorded
	PDF, Image, CanRename, CanDelete               bool
	Locks                                          []lockInfo
	Crumbs                                         []crumb
	Versions                                       []versionRow // newest first
	CanRestore                                     bool         // a version may become the content
	VersionError                                   string       // why the last restore of a version did not happen
	Viewer                                         string       // the viewer of a TIFF's or PDF's pages, "" when none
	Signatures                                     *signaturesPanel
	SignedBy                                       *crumb       // a detached signature beside the file (name.p7s)
	Drawing                                        *drawingInfo // a CAD drawing's version, preview and drive paths
}

// details shows a file: its size, type and date, who has it locked, a
// preview of PDFs and images, its earlier versions, and what the person
// may do with it.
func (h *Handler) details(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/scheda", false, h.fileNotFound)
	if !ok {
		return
	}
	pg, ok := h.detailsOf(w, r, sess, op, p)
	if !ok {
		return
	}
	h.cfg.Audit(r, sess.Person, "DETAILS", p, http.StatusOK)
	h.render(w, http.StatusOK, "scheda.html", pg)
}

// detailsOf is the page of the file p, or false when it answered the
// browser itself (a folder, a file missing, a failure).
func (h *Handler) detailsOf(w http.ResponseWriter, r *http.Request, sess state.Session, op *archive.Op, p string) (detailsPage, bool) {
	e, ok := h.entryOf(w, r, op, p)
	if !ok {
		return detailsPage{}, false
	}
	if e.IsDir {
		http.Redirect(w, r, "/_/archivio"+escapedPath(p)+"/", http.StatusSeeOther)
		return detailsPage{}, false
	}
	dir := path.Dir(p)
	pg := detailsPage{page: page{Title: e.Name(), Session: &sess, CSRF: sess.CSRF}, Name: e.Name(),
		Folder: path.Base(dir), FolderHref: "/_/archivio" + escapedPath(dir) + "/", Type: typeName(e.ContentType),
		Size: sizeText(e.Size), Download: escapedPath(p), Action: "/_/modifica" + escapedPath(p),
		Crumbs: h.crumbs(dir), PDF: e.ContentType == "application/pdf", Image: previewable(e.ContentType) && e.ContentType != "application/pdf",
		CanRename: op.MayMove(p), CanDelete: op.MayDelete(p, false)}
	if !e.ModTime.IsZero() {
		pg.Modified = dateText(e.ModTime, h.cfg.Location)
	}
	sum, known, err := op.Digest(e)
	if err != nil {
		h.unavailable(w, r, "read digest", err)
		return pg, false
	}
	if known {
		pg.SHA256 = hex.EncodeToString(sum[:])
	}
	if h.cfg.Locks != nil {
		locks, err := h.cfg.Locks.Locks(r.Context(), p, false, time.Now())
		if err != nil {
			h.unavailable(w, r, "read locks", err)
			return pg, false
		}
		for _, l := range locks {
			if !l.Covers(p) {
				continue
			}
			li := lockInfo{Holder: h.displayName(r.Context(), l.Principal), Client: ownerText(l.Owner), Since: dateText(l.Created, h.cfg.Location)}
			if !l.Expires.IsZero() {
				li.Until = dateText(l.Expires, h.cfg.Location)
			}
			pg.Locks = append(pg.Locks, li)
		}
	}
	if pg.Versions, err = h.versions(r, op, p); err != nil {
		h.unavailable(w, r, "list versions", err)
		return pg, false
	}
	pg.CanRestore = op.MayWrite(p)
	if h.cfg.Previews != nil && render.Paged(e.ContentType) {
		pg.Viewer = "/_/vista" + escapedPath(p)
	}
	pg.Signatures = h.signaturesOf(r, op, p, e, r.URL.Query().Get("verifica") != "")
	if signedKind(e.Name()) != "p7s" {
		if se, err := op.Info(p + ".p7s"); err == nil && !se.IsDir {
			pg.SignedBy = &crumb{Name: se.Name(), Href: "/_/scheda" + escapedPath(p+".p7s") + "#firme"}
		}
	}
	pg.Drawing = h.drawingOf(r, op, e, p)
	return pg, true
}

// displayName is how the pages name a person: the name their sign-in gave,
// rather than a fiscal number, or else the account's key.
func (h *Handler) displayName(ctx context.Context, key string) string {
	if h.cfg.People != nil {
		if p, err := h.cfg.People.Person(ctx, key); err == nil && p.Display != "" {
			return p.Display
		}
	}
	return key
}

// lockedIn returns the paths among the entries of folder p that a live
// lock covers: one query for the whole folder.
func (h *Handler) lockedIn(ctx context.Context, p string, entries []archiveEntry) (map[string]bool, error) {
	if h.cfg.Locks == nil {
		return nil, nil
	}
	locks, err := h.cfg.Locks.Locks(ctx, p, true, time.Now())
	if err != nil || len(locks) == 0 {
		return nil, err
	}
	out := map[string]bool{}
	for _, e := range entries {
		for _, l := range locks {
			if l.Covers(e.path) {
				out[e.path] = true
			}
		}
	}
	return out, nil
}

// crumbs are the links to a folder and each folder above it.
func (h *Handler) crumbs(dir string) []crumb {
	var out []crumb
	if dir == "/" {
		return nil
	}
	acc := ""
	for _, s := range strings.Split(strings.TrimPrefix(dir, "/"), "/") {
		acc += "/" + s
		out = append(out, crumb{Name: h.shownName(acc), Href: "/_/archivio" + escapedPath(acc) + "/"})
	}
	return out
}

// shownName is the name the pages give the folder or file p: a Comune's
// own folder by the Comune's name ("Guastalla"), anything else by its own.
func (h *Handler) shownName(p string) string {
	if c, rest := access.SplitComune(p); c != "" && rest == "" {
		if n, ok := h.names[c]; ok {
			return n
		}
	}
	return path.Base(p)
}

// ownerText is the text of a lock's DAV:owner, which clients fill with a
// name, an address or a URL; the markup around it is dropped.
func ownerText(owner string) string {
	d := xml.NewDecoder(strings.NewReader(owner))
	var b bytes.Buffer
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte(' ')
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	s = strings.TrimPrefix(s, "mailto:")
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "")
}

// sizeText writes a size as people read it, in Italian: "1,5 MB".
func sizeText(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " byte"
	}
	units := []string{"kB", "MB", "GB", "TB"}
	v := float64(n)
	i := -1
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if v >= 100 {
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strings.Replace(s, ".", ",", 1) + " " + units[i]
}

// typeName names a content type for people.
func typeName(ct string) string {
	switch {
	case ct == "application/pdf":
		return "Documento PDF"
	case ct == "application/pkcs7-mime":
		return "Documento firmato (p7m)"
	case ct == "image/vnd.dwg":
		return "Disegno CAD (DWG)"
	case ct == "image/vnd.dxf":
		return "Disegno CAD (DXF)"
	case ct == "image/tiff":
		return "Immagine TIFF (scansione)"
	case strings.HasPrefix(ct, "image/"):
		return "Immagine"
	case strings.HasPrefix(ct, "text/"):
		return "Testo"
	case ct == "application/zip":
		return "Archivio ZIP"
	}
	return ct
}
