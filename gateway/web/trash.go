package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/gateway/dav"
	"github.com/bassareggiana/faldone/state"
)

// The recycle bin (cestino) of a Comune, and the earlier versions of a
// file, as the pages show them. What they hold, who may see it and what a
// restore may replace are the archive service's rules (archive/trash.go):
// the pages only list, ask and put the answer in words.

// trashPageSize is how many entries a page of the recycle bin shows: each
// row carries its forms, so fewer than a folder's.
const trashPageSize = 50

// keptRow is an entry of the recycle bin as its page shows it.
type keptRow struct {
	ID, Name, Rel, Size, By, At, From string
	Dir                               bool
	Files                             int
	CanPurge                          bool
	As                                string // the value of its "Ripristina come…" field
	Taken                             bool   // its place is taken: the page asks for another
}

type trashPage struct {
	page
	Comune, Query, Action, ArchiveHref string
	ComuneName                         string
	Error                              string // why the last action did not happen
	Restored, RestoredHref             string // where the last restore put the entry
	Rows                               []keptRow
	Total, Page, Pages                 int
	PrevHref, NextHref                 string
}

// trashComune reads the Comune of a recycle bin's URL and checks that the
// person may change its archive: its bin is its editors'. It answers the
// browser itself otherwise.
func (h *Handler) trashComune(w http.ResponseWriter, r *http.Request, op *archive.Op) (string, bool) {
	p, ok := archivePath(r, "/_/cestino")
	if !ok || p == "/" || strings.Count(p, "/") != 1 {
		h.message(w, r, http.StatusNotFound, "Pagina non trovata", "Il cestino richiesto non esiste.")
		return "", false
	}
	if !op.MayWrite(p) {
		h.message(w, r, http.StatusForbidden, "Accesso non consentito", "Il cestino di un Comune è riservato a chi può modificarne l'archivio.")
		return "", false
	}
	return p, true
}

// trash shows a Comune's recycle bin: what was deleted, by whom, when and
// from where, newest first, with a search and pages.
func (h *Handler) trash(w http.ResponseWriter, r *http.Request) {
	sess, op, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	comune, ok := h.trashComune(w, r, op)
	if !ok {
		return
	}
	q := r.URL.Query()
	pg, err := h.trashList(r, sess, op, comune, q.Get("cerca"), q.Get("pagina"))
	if err != nil {
		h.unavailable(w, r, "list the recycle bin", err)
		return
	}
	if done, ok := localRestored(comune, q.Get("ripristinato")); ok && op.Visible(done) {
		pg.Restored, pg.RestoredHref = strings.TrimPrefix(done, comune+"/"), "/_/scheda"+escapedPath(done)
	}
	h.cfg.Audit(r, sess.Person, "TRASH", comune, http.StatusOK)
	h.render(w, http.StatusOK, "cestino.html", pg)
}

// localRestored reads the path a restore reported back to the page: one
// in the Comune, or none.
func localRestored(comune, s string) (string, bool) {
	if s == "" {
		return "", false
	}
	p, err := archive.Path(s)
	return p, err == nil && strings.HasPrefix(p, comune+"/")
}

// trashList is the page of the recycle bin of comune that query and page
// (as the URL gives them) select.
func (h *Handler) trashList(r *http.Request, sess state.Session, op *archive.Op, comune, query, pageText string) (trashPage, error) {
	query = strings.TrimSpace(query)
	pg := trashPage{page: page{Title: "Cestino di " + h.shownName(comune), Session: &sess, CSRF: sess.CSRF}, Comune: strings.TrimPrefix(comune, "/"), ComuneName: h.shownName(comune), Query: query,
		Action: "/_/cestino" + escapedPath(comune) + "/", ArchiveHref: "/_/archivio" + escapedPath(comune) + "/"}
	pg.Page, _ = strconv.Atoi(pageText)
	pg.Page = max(pg.Page, 1)
	kq := state.KeptQuery{Kind: state.KindDeleted, Path: comune, Tree: true, Search: query, Limit: trashPageSize, Offset: (pg.Page - 1) * trashPageSize}
	ks, total, err := op.Kept(kq)
	if err != nil {
		return pg, err
	}
	pg.Total = total
	pg.Pages = max(1, (total+trashPageSize-1)/trashPageSize)
	if pg.Page > pg.Pages {
		// Past the end (the last entries restored): the last page.
		pg.Page = pg.Pages
		kq.Offset = (pg.Page - 1) * trashPageSize
		if ks, _, err = op.Kept(kq); err != nil {
			return pg, err
		}
	}
	link := func(n int) string {
		v := url.Values{"pagina": {strconv.Itoa(n)}}
		if query != "" {
			v.Set("cerca", query)
		}
		return pg.Action + "?" + v.Encode()
	}
	if pg.Page > 1 {
		pg.PrevHref = link(pg.Page - 1)
	}
	if pg.Page < pg.Pages {
		pg.NextHref = link(pg.Page + 1)
	}
	names := map[string]string{}
	for _, k := range ks {
		by, ok := names[k.By]
		if !ok {
			by = h.displayName(r.Context(), k.By)
			names[k.By] = by
		}
		rel := strings.TrimPrefix(k.Path, comune+"/")
		pg.Rows = append(pg.Rows, keptRow{ID: k.ID, Name: path.Base(k.Path), Rel: rel, Size: sizeText(k.Size), By: by,
			At: dateText(k.At, h.cfg.Location), From: k.From, Dir: k.IsDir, Files: k.Files, CanPurge: op.MayPurge(k.Path), As: rel})
	}
	return pg, nil
}

// restoreTarget reads the "Ripristina come…" field of an entry of the bin
// of comune deleted from orig: a name alone stays in the folder the entry
// was deleted from, a path is below the Comune (with or without the
// Comune's own name first).
func restoreTarget(comune, orig, typed string) (string, bool) {
	s := strings.TrimSpace(typed)
	s = strings.TrimPrefix(s, comune+"/")
	s = strings.TrimPrefix(s, "/")
	if !strings.Contains(s, "/") {
		if !validName(s) {
			return "", false
		}
		return path.Join(path.Dir(orig), s), true
	}
	rel, ok := relativePath(s)
	if !ok {
		return "", false
	}
	return comune + "/" + rel, true
}

// freeName suggests a name for what cannot go back to rel, where
// something else is now: the page fills the field with it.
func freeName(rel string, dir bool) string {
	word := " (ripristinato)"
	if dir {
		word = " (ripristinata)"
	}
	d, name := path.Split(rel)
	ext := path.Ext(name)
	if dir || ext == name {
		ext = ""
	}
	return d + strings.TrimSuffix(name, ext) + word + ext
}

// keptFor looks up the kept resource id for an action, method as the
// access log names it: one of kind, and in the bin of comune for an entry
// of the bin. It answers the browser itself otherwise: an id unknown, or
// of what the person may not see, is not found.
func (h *Handler) keptFor(w http.ResponseWriter, r *http.Request, sess state.Session, op *archive.Op, id string, kind state.KeptKind, comune, method string) (state.Kept, bool) {
	k, err := op.KeptEntry(id)
	if err == nil && (k.Kind != kind || (comune != "" && !strings.HasPrefix(k.Path, comune+"/"))) {
		err = fmt.Errorf("kept %s: %w", id, archive.ErrNotFound)
	}
	if err == nil {
		return k, true
	}
	where := comune
	if where == "" {
		where = "/"
	}
	status := archive.Status(err)
	h.cfg.Audit(r, sess.Person, method, where, status)
	switch {
	case errors.Is(err, archive.ErrNotFound):
		if kind == state.KindVersion {
			h.message(w, r, http.StatusNotFound, "Versione non trovata", "La versione non esiste più o non è accessibile.")
		} else {
			h.message(w, r, http.StatusNotFound, "Elemento non trovato", "L'elemento non è nel cestino: forse è già stato ripristinato o eliminato definitivamente.")
		}
	case errors.Is(err, archive.ErrForbidden):
		h.message(w, r, http.StatusForbidden, "Operazione non consentita", "Non puoi fare questa operazione qui.")
	default:
		h.unavailable(w, r, "kept entry", err)
	}
	return k, false
}

// trashChange serves the forms of the recycle bin: restore an entry, at
// its place or at another, and, for managers, let it go for good.
func (h *Handler) trashChange(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	ch := h.changes(r, sess)
	if ch.err != nil {
		h.unavailable(w, r, "authorize", ch.err)
		return
	}
	comune, ok := h.trashComune(w, r, ch.op)
	if !ok {
		return
	}
	action := r.PostFormValue("azione")
	method := "RESTORE"
	if action == "elimina" {
		method = "PURGE"
	}
	k, ok := h.keptFor(w, r, sess, ch.op, r.PostFormValue("id"), state.KindDeleted, comune, method)
	if !ok {
		return
	}
	query, pageText := r.PostFormValue("cerca"), r.PostFormValue("pagina")
	back := url.Values{}
	if strings.TrimSpace(query) != "" {
		back.Set("cerca", strings.TrimSpace(query))
	}
	if n, err := strconv.Atoi(pageText); err == nil && n > 1 {
		back.Set("pagina", strconv.Itoa(n))
	}
	// again shows the page once more, the entry's field filled with as and
	// opened, and says why.
	again := func(status int, as, msg string) {
		pg, err := h.trashList(r, sess, ch.op, comune, query, pageText)
		if err != nil {
			h.unavailable(w, r, "list the recycle bin", err)
			return
		}
		pg.Error = msg
		for i := range pg.Rows {
			if pg.Rows[i].ID == k.ID {
				pg.Rows[i].As, pg.Rows[i].Taken = as, true
			}
		}
		h.render(w, status, "cestino.html", pg)
	}
	var as string
	switch action {
	case "ripristina":
	case "ripristina-come":
		typed := r.PostFormValue("come")
		if as, ok = restoreTarget(comune, k.Path, typed); !ok {
			again(http.StatusBadRequest, strings.TrimSpace(typed), "Il nuovo nome o percorso non è valido: usa nomi senza caratteri come \\ separati da /, per esempio 2019/PC-2019-0042/domanda.pdf.")
			return
		}
	case "elimina":
		err := ch.run("PURGE", k.Path, func(op *archive.Op) (int, error) {
			_, err := op.Purge(k.ID)
			return http.StatusNoContent, err
		})
		if err != nil {
			h.failure(w, r, err)
			return
		}
		h.cfg.Log.Info("purged from the recycle bin", "person", sess.Person, "id", k.ID, "path", k.Path)
		http.Redirect(w, r, pageURL("/_/cestino"+escapedPath(comune)+"/", back), http.StatusSeeOther)
		return
	default:
		h.message(w, r, http.StatusBadRequest, "Richiesta non valida", "Azione sconosciuta.")
		return
	}
	dst := k.Path
	if as != "" {
		dst = as
	}
	err := ch.run("RESTORE", dst, func(op *archive.Op) (int, error) {
		_, err := op.Restore(k.ID, as)
		return http.StatusCreated, err
	})
	if errors.Is(err, archive.ErrDestinationExists) {
		taken := strings.TrimPrefix(dst, comune+"/")
		again(http.StatusConflict, freeName(taken, k.IsDir),
			"Al posto di «"+taken+"» c'è ora un altro elemento, che non è stato toccato: scegli un nuovo nome o percorso e premi «Ripristina con questo nome».")
		return
	}
	if err != nil {
		h.failure(w, r, err)
		return
	}
	h.cfg.Log.Info("restored from the recycle bin", "person", sess.Person, "id", k.ID, "from", k.Path, "to", dst)
	back.Set("ripristinato", dst)
	http.Redirect(w, r, pageURL("/_/cestino"+escapedPath(comune)+"/", back), http.StatusSeeOther)
}

// pageURL is base with the query v, if any.
func pageURL(base string, v url.Values) string {
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// versionRow is an earlier version of a file as its page shows it.
type versionRow struct {
	ID, At, Size, By, Download, Action string
	As                                 string // the value of its "Ripristina come…" field
	Failed                             bool   // the last restore of it did not happen
}

// versions are the rows of the earlier versions of the file p, newest first.
func (h *Handler) versions(r *http.Request, op *archive.Op, p string) ([]versionRow, error) {
	vs, err := op.Versions(p)
	if err != nil {
		return nil, err
	}
	name := path.Base(p)
	ext := path.Ext(name)
	names := map[string]string{}
	rows := make([]versionRow, 0, len(vs))
	for _, v := range vs {
		by, ok := names[v.By]
		if !ok {
			by = h.displayName(r.Context(), v.By)
			names[v.By] = by
		}
		at := dateText(v.At, h.cfg.Location)
		// A name to restore it as: the date it was replaced on, before the extension.
		as := strings.TrimSuffix(name, ext) + " (versione del " + v.At.In(h.cfg.Location).Format("02-01-2006 15.04") + ")" + ext
		rows = append(rows, versionRow{ID: v.ID, At: at, Size: sizeText(v.Size), By: by,
			Download: "/_/versione/" + url.PathEscape(v.ID), Action: "/_/versione/" + url.PathEscape(v.ID), As: as})
	}
	return rows, nil
}

// version sends an earlier version of a file, or a part of it, as a
// download with the file's name.
func (h *Handler) version(w http.ResponseWriter, r *http.Request) {
	sess, op, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	rng := dav.ParseRange(r.Header.Get("Range"))
	obj, it, err := op.OpenVersion(id, rng)
	if err != nil {
		status := archive.Status(err)
		switch {
		case errors.Is(err, backends.ErrRange):
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(it.Size, 10))
			status = http.StatusRequestedRangeNotSatisfiable
			h.message(w, r, status, "Intervallo non valido", "La parte richiesta è oltre la fine del file.")
		case errors.Is(err, archive.ErrNotFound), errors.Is(err, backends.ErrIsDir), errors.Is(err, backends.ErrNotFound):
			status = http.StatusNotFound
			h.message(w, r, status, "Versione non trovata", "La versione non esiste più o non è accessibile.")
		case errors.Is(err, archive.ErrForbidden):
			h.message(w, r, http.StatusForbidden, "Accesso non consentito", "Non puoi scaricare questa versione.")
		default:
			h.unavailable(w, r, "open a version", err)
		}
		h.cfg.Audit(r, sess.Person, "VERSION", "/", status)
		return
	}
	defer obj.Body.Close()
	p := "/" + obj.Path
	hd := w.Header()
	hd.Set("Content-Disposition", attachment(path.Base(p)))
	hd.Set("Accept-Ranges", "bytes")
	status := dav.ContentHeaders(hd, obj, rng != nil)
	w.WriteHeader(status)
	if _, err := io.Copy(w, io.LimitReader(obj.Body, obj.Length)); err != nil {
		// The status is sent: all that is left is to log the broken stream.
		h.cfg.Log.Warn("version download interrupted", "path", p, "id", id, "person", sess.Person, "err", err)
	}
	h.cfg.Audit(r, sess.Person, "VERSION", p, status)
}

// versionChange serves the forms of a file's versions: one made the
// file's content again (the current content becomes a version in turn),
// or written beside it with another name.
func (h *Handler) versionChange(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	ch := h.changes(r, sess)
	if ch.err != nil {
		h.unavailable(w, r, "authorize", ch.err)
		return
	}
	k, ok := h.keptFor(w, r, sess, ch.op, r.PathValue("id"), state.KindVersion, "", "RESTORE")
	if !ok {
		return
	}
	var as string
	switch r.PostFormValue("azione") {
	case "ripristina":
	case "ripristina-come":
		name := strings.TrimSpace(r.PostFormValue("nome"))
		if !validName(name) {
			h.message(w, r, http.StatusBadRequest, "Nome non valido", "Scegli un nome senza barre.")
			return
		}
		as = path.Join(path.Dir(k.Path), name)
	default:
		h.message(w, r, http.StatusBadRequest, "Richiesta non valida", "Azione sconosciuta.")
		return
	}
	dst := k.Path
	if as != "" {
		dst = as
	}
	err := ch.run("RESTORE", dst, func(op *archive.Op) (int, error) {
		_, err := op.Restore(k.ID, as)
		if as == "" {
			return http.StatusNoContent, err // over the file's content, as a PUT over it
		}
		return http.StatusCreated, err
	})
	if errors.Is(err, archive.ErrDestinationExists) {
		pg, ok := h.detailsOf(w, r, sess, ch.op, k.Path)
		if !ok {
			return
		}
		pg.VersionError = "Nella cartella c'è già un elemento chiamato «" + path.Base(dst) + "», che non è stato toccato: scegli un altro nome."
		for i := range pg.Versions {
			if pg.Versions[i].ID == k.ID {
				pg.Versions[i].As, pg.Versions[i].Failed = path.Base(dst), true
			}
		}
		h.render(w, http.StatusConflict, "scheda.html", pg)
		return
	}
	if err != nil {
		h.failure(w, r, err)
		return
	}
	h.cfg.Log.Info("version restored", "person", sess.Person, "id", k.ID, "file", k.Path, "to", dst)
	http.Redirect(w, r, "/_/scheda"+escapedPath(dst), http.StatusSeeOther)
}
