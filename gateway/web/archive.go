package web

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/gateway/dav"
	"github.com/bassareggiana/faldone/scan/render"
	"github.com/bassareggiana/faldone/state"
)

// Decider is the authorization of a person: the same one WebDAV uses.
type Decider interface {
	Decide(a access.Action, path string) access.Verdict
}

// pageSize is how many entries a folder page shows.
const pageSize = 100

// archivePath returns the namespace path named by the rest of the URL, read
// as WebDAV reads the path of a request.
func archivePath(r *http.Request, prefix string) (string, bool) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), prefix)
	if rest == "" {
		rest = "/"
	}
	p, _, err := dav.CleanURLPath(rest)
	return p, err == nil
}

// escapedPath escapes each segment of a namespace path for a URL.
func escapedPath(p string) string {
	if p == "/" {
		return "/"
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + strings.Join(segs, "/")
}

type archiveEntry struct {
	Name, Href, Modified string
	Label                string // the name shown: a Comune's folder by the Comune's name
	Download, SizeText   string // files only
	Thumb                string // a file's thumbnail, "" when it has none
	Action               string // form action for rename and delete
	Dir, Locked          bool
	CanRename, CanDelete bool
	Size                 int64
	mod                  time.Time
	path                 string
}

type crumb struct{ Name, Href string }

// grantLink is a dossier the person may open through a grant.
type grantLink struct {
	Path, Href, Until string
	Write             bool
}

type archivePage struct {
	page
	Heading, Sort, Dir, ZipHref, PrevHref, NextHref string
	Outcome                                         string // what the last action did, to confirm it
	ZipSize                                         string // the folder's size, where it is small enough to count
	Used, Available                                 string // the Comune's space, on its page, where it has a quota
	UsedPercent                                     int
	GrantHref                                       string // the grants form for this folder, for its managers
	TrashHref                                       string // the Comune's recycle bin, for its editors
	RecordHref                                      string // the dossier's record, when the folder is a dossier
	Closed                                          string // "chiuso il … da …", when the folder is in a closed dossier
	CloseAction                                     string // the form that closes this dossier, for its managers
	UploadAction, ChangeAction                      string // forms, when the person may write here
	Crumbs                                          []crumb
	Entries                                         []archiveEntry
	Grants                                          []grantLink // on the start page
	Total, Page, Pages                              int
	// SearchComune is the Comune the folder is in, whose dossiers the
	// page's search box searches; SearchComuneName its name.
	SearchComune, SearchComuneName string
	base                           string
}

// SortHref is the link that sorts by key, reversing the order when the page
// is already sorted by it.
func (p archivePage) SortHref(key string) string {
	dir := "asc"
	if p.Sort == key && p.Dir == "asc" {
		dir = "desc"
	}
	return p.base + "?" + url.Values{"ordina": {key}, "verso": {dir}}.Encode()
}

// previewable types open in the browser; the others download.
func previewable(ct string) bool {
	return ct == "application/pdf" || strings.HasPrefix(ct, "image/jpeg") || strings.HasPrefix(ct, "image/png") ||
		strings.HasPrefix(ct, "image/gif") || strings.HasPrefix(ct, "image/webp")
}

// signedIn opens a page request's archive operation: it needs a session,
// and answers the browser itself otherwise.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (state.Session, *archive.Op, bool) {
	sess, ok := h.session(w, r)
	if !ok {
		return sess, nil, false
	}
	op, err := h.begin(r, sess)
	if err != nil {
		h.unavailable(w, r, "authorize", err)
		return sess, nil, false
	}
	return sess, op, true
}

// readable opens a page about the archive path that follows prefix in the
// URL: it needs a session, a valid path (the root only when root is set)
// and the right to read there, and answers the browser itself otherwise. A
// path the person may not read gets what a missing one gets, missing.
func (h *Handler) readable(w http.ResponseWriter, r *http.Request, prefix string, root bool, missing func(http.ResponseWriter, *http.Request)) (state.Session, string, *archive.Op, bool) {
	sess, op, ok := h.signedIn(w, r)
	if !ok {
		return sess, "", nil, false
	}
	p, ok := archivePath(r, prefix)
	if !ok || (p == "/" && !root) {
		h.message(w, r, http.StatusBadRequest, "Percorso non valido", "Il percorso richiesto non è valido.")
		return sess, "", nil, false
	}
	if op.Allow(access.Read, p) != nil {
		missing(w, r)
		return sess, "", nil, false
	}
	return sess, p, op, true
}

// entryOf is the entry of p for a page, or false when it answered the
// browser itself: the file missing (the page's own not-found), or the
// storage failing.
func (h *Handler) entryOf(w http.ResponseWriter, r *http.Request, op *archive.Op, p string) (backends.Entry, bool) {
	e, err := op.Info(p)
	switch {
	case err == nil:
		return e, true
	case statusOfBackend(err) == http.StatusNotFound:
		h.fileNotFound(w, r)
	default:
		h.unavailable(w, r, "stat file", err)
	}
	return e, false
}

// archive serves a folder of the archive as a page: breadcrumbs, sorting
// and paging, with only what the person may see. Its search box searches
// the catalogue (the search page), among the dossiers of the folder's
// Comune.
func (h *Handler) archive(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/archivio", true, h.folderNotFound)
	if !ok {
		return
	}
	q := r.URL.Query()
	entries, err := h.listAll(op, p)
	if err != nil {
		if errors.Is(err, backends.ErrNotDir) {
			http.Redirect(w, r, "/_/scheda"+escapedPath(p), http.StatusSeeOther) // a file: its own page
			return
		}
		if statusOfBackend(err) == http.StatusNotFound {
			h.folderNotFound(w, r)
			return
		}
		h.unavailable(w, r, "list folder", err)
		return
	}
	pg := archivePage{page: page{Title: "Archivio", Session: &sess, CSRF: sess.CSRF},
		Sort: q.Get("ordina"), Dir: q.Get("verso"), base: "/_/archivio" + escapedPath(p)}
	if p != "/" {
		pg.base += "/"
	}
	if pg.Sort != "data" && pg.Sort != "dimensione" {
		pg.Sort = "nome"
	}
	if pg.Dir != "desc" {
		pg.Dir = "asc"
	}
	slices.SortStableFunc(entries, func(a, b archiveEntry) int {
		// Folders come first, whatever the order, as in a file manager.
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		var c int
		switch pg.Sort {
		case "data":
			c = a.mod.Compare(b.mod)
		case "dimensione":
			c = int(min(max(a.Size-b.Size, -1), 1))
		}
		if c == 0 {
			c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		}
		if pg.Dir == "desc" {
			c = -c
		}
		return c
	})
	pg.Total = len(entries)
	pg.Pages = max(1, (pg.Total+pageSize-1)/pageSize)
	pg.Page, _ = strconv.Atoi(q.Get("pagina"))
	pg.Page = min(max(pg.Page, 1), pg.Pages)
	link := func(n int) string {
		return pg.base + "?" + url.Values{"ordina": {pg.Sort}, "verso": {pg.Dir}, "pagina": {strconv.Itoa(n)}}.Encode()
	}
	if pg.Page > 1 {
		pg.PrevHref = link(pg.Page - 1)
	}
	if pg.Page < pg.Pages {
		pg.NextHref = link(pg.Page + 1)
	}
	pg.Entries = entries[(pg.Page-1)*pageSize : min(pg.Page*pageSize, pg.Total)]
	pg.Heading = "Archivio"
	if p != "/" && op.MayWrite(p) {
		pg.UploadAction = "/_/carica" + escapedPath(p)
		pg.ChangeAction = "/_/modifica" + escapedPath(p)
	}
	if h.cfg.Catalogue != nil && h.cfg.Catalogue.Rule().IsDossier(p) {
		pg.RecordHref = "/_/fascicolo" + escapedPath(p)
	}
	// The Comune's bin; from a folder inside, searched for what was deleted in it.
	if c, rest := access.SplitComune(p); c != "" && op.MayWrite("/"+c) {
		pg.TrashHref = "/_/cestino/" + url.PathEscape(c) + "/"
		if rest = strings.Trim(rest, "/"); rest != "" {
			pg.TrashHref += "?" + url.Values{"cerca": {rest + "/"}}.Encode()
		}
	}
	if p != "/" {
		pg.Heading = h.shownName(p)
		pg.ZipHref = "/_/zip" + escapedPath(p)
		// A dossier is small enough to count on every view; a larger
		// folder's size is counted when its ZIP is asked for.
		if h.cfg.Catalogue != nil && (h.cfg.Catalogue.Rule().IsDossier(p) || h.cfg.Catalogue.Rule().Inside(p)) {
			if files, size, complete, err := folderSize(op, p, countedFiles); err == nil && complete {
				pg.ZipSize = filesText(files) + ", " + sizeText(size)
			}
		}
		pg.Crumbs = h.crumbs(p)
	}
	pg.Title = pg.Heading
	pg.Outcome = outcomeText(q)
	if c, rest := access.SplitComune(p); c != "" && rest == "" && h.cfg.Quota != nil {
		if used, avail, ok := h.cfg.Quota.Quota(p); ok {
			pg.Used, pg.Available = sizeText(used), sizeText(avail)
			if total := used + avail; total > 0 {
				pg.UsedPercent = int(used * 100 / total)
			}
		}
	}
	if c, rest := access.SplitComune(p); rest != "" && h.cfg.Manages != nil {
		manages, err := h.cfg.Manages(r.Context(), sess.Person)
		if err != nil {
			h.unavailable(w, r, "roles", err)
			return
		}
		if slices.Contains(manages, c) {
			pg.GrantHref = "/_/accessi?" + url.Values{"percorso": {p}}.Encode()
		}
	}
	if c, rest := access.SplitComune(p); rest != "" && h.cfg.Dossiers != nil {
		closed, err := h.cfg.Dossiers.ClosedDossiers(r.Context(), p, false)
		if err != nil {
			h.unavailable(w, r, "closed dossiers", err)
			return
		}
		if len(closed) > 0 {
			d := closed[0]
			pg.Closed = "Fascicolo chiuso il " + dateText(d.Closed, h.cfg.Location) + " da " + h.displayName(r.Context(), d.By) + ": " + d.Reason
			// Nothing in it can change: no forms to change it.
			pg.UploadAction, pg.ChangeAction = "", ""
		} else if pg.GrantHref != "" && c != "" && op.MayDelete(p, true) {
			pg.CloseAction = "/_/modifica" + escapedPath(p)
		}
	}
	locked, err := h.lockedIn(r.Context(), p, pg.Entries)
	if err != nil {
		h.unavailable(w, r, "read locks", err)
		return
	}
	for i := range pg.Entries {
		pg.Entries[i].Locked = locked[pg.Entries[i].path]
	}
	if c, _ := access.SplitComune(p); c != "" && h.cfg.Catalogue != nil {
		for _, k := range h.cfg.Comuni {
			if k.ID == c {
				pg.SearchComune, pg.SearchComuneName = k.ID, k.Name
			}
		}
	}
	if p == "/" && h.cfg.Grants != nil {
		// The start page: the Comuni of the person's roles are the rows;
		// the dossiers of their grants are linked above them.
		gs, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Person: sess.Person, Live: true, Now: time.Now()})
		if err != nil {
			h.unavailable(w, r, "list grants", err)
			return
		}
		for _, g := range gs {
			pg.Grants = append(pg.Grants, grantLink{Path: strings.TrimPrefix(g.Path, "/"), Href: "/_/archivio" + escapedPath(g.Path) + "/",
				Until: untilText(g.Expires, h.cfg.Location), Write: g.Write})
		}
	}
	h.cfg.Audit(r, sess.Person, "BROWSE", p, http.StatusOK)
	h.render(w, http.StatusOK, "archivio.html", pg)
}

// listAll lists a folder whole, keeping only what the person may see.
func (h *Handler) listAll(op *archive.Op, p string) ([]archiveEntry, error) {
	var out []archiveEntry
	for e, err := range op.List(p, false) {
		if err != nil {
			return nil, err
		}
		out = append(out, h.entry("/"+e.Path, e, op))
	}
	return out, nil
}

// entry is a row of a folder page: the entry e, at np.
func (h *Handler) entry(np string, e backends.Entry, op *archive.Op) archiveEntry {
	ae := archiveEntry{Name: e.Name(), Label: h.shownName(np), Dir: e.IsDir, Size: e.Size, mod: e.ModTime, path: np,
		Action: "/_/modifica" + escapedPath(np), CanRename: op.MayMove(np), CanDelete: op.MayDelete(np, e.IsDir)}
	if c, rest := access.SplitComune(np); c != "" && rest == "" {
		// A Comune's own folder is the mount of its storage: it can be
		// neither renamed nor deleted, so no control offers to.
		ae.CanRename, ae.CanDelete = false, false
	}
	if e.IsDir {
		ae.Href = "/_/archivio" + escapedPath(np) + "/"
	} else {
		ae.Href = "/_/scheda" + escapedPath(np)
		ae.Download = escapedPath(np)
		if h.cfg.Previews != nil && render.Renderable(e.ContentType) {
			ae.Thumb = "/_/miniatura" + escapedPath(np)
		}
		ae.SizeText = sizeText(e.Size)
	}
	if !e.ModTime.IsZero() {
		ae.Modified = dateText(e.ModTime, h.cfg.Location)
	}
	return ae
}

// zipFolder streams a folder, with everything in it the person may see, as
// one ZIP archive: no temporary file, memory bounded by one copy buffer.
func (h *Handler) zipFolder(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/zip", false, h.folderNotFound)
	if !ok {
		return
	}
	bp := strings.TrimPrefix(p, "/")
	if e, err := op.Info(p); err != nil || !e.IsDir {
		h.folderNotFound(w, r)
		return
	}
	if r.URL.Query().Get("conferma") != "1" {
		files, size, complete, err := folderSize(op, p, countedFiles)
		if err != nil {
			h.unavailable(w, r, "zip: count", err)
			return
		}
		if !complete || size > h.cfg.ZipConfirmAbove {
			what := "più di " + filesText(files) + " (" + sizeText(size) + " finora)"
			if complete {
				what = filesText(files) + " per " + sizeText(size)
			}
			h.render(w, http.StatusOK, "zip.html", struct {
				page
				Name, What, Href, Back string
			}{page{Title: "Scarica " + h.shownName(p) + " come ZIP", Session: &sess, CSRF: sess.CSRF}, h.shownName(p), what,
				"/_/zip" + escapedPath(p) + "?conferma=1", "/_/archivio" + escapedPath(p) + "/"})
			return
		}
	}
	name := path.Base(p)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", attachment(name+".zip"))
	zw := zip.NewWriter(w)
	var (
		files int
		sums  strings.Builder // SHA256SUMS, in sha256sum's format
	)
	status := http.StatusOK
pages:
	for page, err := range op.Pages(p, true) {
		if err != nil {
			h.cfg.Log.Error("zip: list", "path", p, "err", err)
			status = archive.Status(err)
			break
		}
		// The recorded digests of a page, in one query, to check the bytes
		// against as they go into the archive.
		recorded, err := op.Digests(page.Entries)
		if err != nil {
			h.cfg.Log.Warn("zip: digests not read; the files go unchecked", "path", p, "err", err)
		}
		for _, e := range page.Entries {
			if e.IsDir {
				continue
			}
			entry := name + strings.TrimPrefix(e.Path, bp)
			var want *[32]byte
			if d, ok := recorded["/"+e.Path]; ok {
				want = &d
			}
			sum, err := h.zipFile(op, zw, entry, e, want)
			if err != nil {
				// The archive is under way: end it; the client sees it cut short.
				h.cfg.Log.Error("zip: file", "path", e.Path, "err", err)
				status = http.StatusInternalServerError
				break pages
			}
			fmt.Fprintf(&sums, "%x  %s\n", sum, strings.TrimPrefix(entry, name+"/"))
			files++
		}
	}
	// Whoever receives the dossier can check every file with
	// `sha256sum -c SHA256SUMS` in its folder.
	if status == http.StatusOK && files > 0 {
		if fw, err := zw.CreateHeader(&zip.FileHeader{Name: name + "/SHA256SUMS", Method: zip.Deflate, Modified: time.Now().In(h.cfg.Location)}); err == nil {
			io.WriteString(fw, sums.String())
		}
	}
	if err := zw.Close(); err != nil {
		h.cfg.Log.Warn("zip: finish", "path", p, "err", err)
	}
	h.cfg.Log.Info("zip download", "person", sess.Person, "path", p, "files", files)
	h.cfg.Audit(r, sess.Person, "ZIP", p, status)
}

// countedFiles bounds the files counted for a folder's size: a dossier's
// are far fewer; a Comune's, millions.
const countedFiles = 5000

// folderSize counts the files under p and their bytes, up to limit files;
// complete is false when there were more.
func folderSize(op *archive.Op, p string, limit int) (files int, size int64, complete bool, err error) {
	for page, err := range op.Pages(p, true) {
		if err != nil {
			return files, size, false, err
		}
		for _, e := range page.Entries {
			if e.IsDir {
				continue
			}
			if files == limit {
				return files, size, false, nil
			}
			files++
			size += e.Size
		}
	}
	return files, size, true, nil
}

// filesText writes a count of files: "1 file", "12 file".
func filesText(n int) string { return strconv.Itoa(n) + " file" }

// zipFile writes the file e into the archive as name, and returns the
// SHA-256 of the bytes written. Where recorded, the digest of the listed
// version, differs while that version was read, the archive holds other
// bytes than it was given: logged as the integrity problem it is (faldone
// verify tells more).
func (h *Handler) zipFile(op *archive.Op, zw *zip.Writer, name string, e backends.Entry, recorded *[32]byte) ([32]byte, error) {
	var sum [32]byte
	obj, err := op.Open("/"+e.Path, nil)
	if err != nil {
		return sum, err
	}
	defer obj.Body.Close()
	method := zip.Deflate
	if previewable(e.ContentType) || strings.HasSuffix(e.Path, ".zip") || strings.HasSuffix(e.Path, ".p7m") {
		method = zip.Store // compressed already: deflating again costs time for nothing
	}
	// The zone matters: Windows Explorer shows the MS-DOS time of the entry,
	// which archive/zip writes as the wall clock of Modified's location.
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: e.ModTime.In(h.cfg.Location)})
	if err != nil {
		return sum, err
	}
	hw := sha256.New()
	if _, err = io.Copy(io.MultiWriter(fw, hw), obj.Body); err != nil {
		return sum, err
	}
	sum = [32]byte(hw.Sum(nil))
	if recorded != nil && archive.Version(obj.Entry) == archive.Version(e) && *recorded != sum {
		h.cfg.Log.Error("zip: a file reads other bytes than its recorded SHA-256", "path", e.Path,
			"recorded", hex.EncodeToString(recorded[:]), "read", hex.EncodeToString(sum[:]))
	}
	return sum, nil
}

// attachment is the Content-Disposition of a download saved as name: the
// plain filename for old clients, the UTF-8 one for the others.
func attachment(name string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName(name), url.PathEscape(name))
}

// asciiName is a file name for clients that read only the plain filename.
func asciiName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b[i] = '_'
		}
	}
	return string(b)
}

// folderNotFound and fileNotFound answer for a folder or a file that does
// not exist, or that the person may not see: the two are never told apart.
func (h *Handler) folderNotFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusNotFound, "Cartella non trovata", "La cartella non esiste o non è accessibile.")
}

func (h *Handler) fileNotFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, http.StatusNotFound, "File non trovato", "Il file non esiste o non è accessibile.")
}

// statusOfBackend tells a missing folder from other failures, by the one
// mapping (archive.Status); a file where a folder was asked for is missing
// too.
func statusOfBackend(err error) int {
	if errors.Is(err, backends.ErrNotDir) {
		return http.StatusNotFound
	}
	return archive.Status(err)
}
