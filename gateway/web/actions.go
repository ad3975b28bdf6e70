package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// The pages change the archive through the archive service, as the
// session's person: the same authorization, locks, quota and hooks as a
// drive's request, and an error whose kind the page puts in words.

// changes are one page request's changes to the archive, as the
// session's person: its policy is read once for all of them (an upload of
// a folder makes one change a file and a folder).
type changes struct {
	h    *Handler
	r    *http.Request
	sess state.Session
	op   *archive.Op
	err  error // the policy's, answered by every change
}

func (h *Handler) changes(r *http.Request, sess state.Session) *changes {
	c := &changes{h: h, r: r, sess: sess}
	c.op, c.err = h.begin(r, sess)
	return c
}

// begin opens the archive for one page request, as the session's person,
// with the same policy as their WebDAV requests.
func (h *Handler) begin(r *http.Request, sess state.Session) (*archive.Op, error) {
	pol, err := h.cfg.Policy(r.Context(), sess)
	if err != nil {
		return nil, err
	}
	return h.cfg.Archive.Begin(r.Context(), archive.Caller{Principal: sess.Person, From: archive.From("pagine", r.RemoteAddr), Policy: pol}), nil
}

// run runs one change and records it in the access log, with the status a
// drive would have got. fn returns the status of its success.
func (c *changes) run(method, p string, fn func(*archive.Op) (int, error)) error {
	status, err := 0, c.err
	if err == nil {
		status, err = fn(c.op)
	}
	if err != nil {
		status = archive.Status(err)
		if status >= 500 {
			c.h.cfg.Log.Error("page action failed", "method", method, "path", p, "person", c.sess.Person, "err", err)
		}
	}
	c.h.cfg.Audit(c.r, c.sess.Person, method, p, status)
	return err
}

// mkdir makes a folder; put stores a file; both as run does.
func (c *changes) mkdir(p string) error {
	return c.run("MKCOL", p, func(op *archive.Op) (int, error) {
		return http.StatusCreated, op.Mkdir(p)
	})
}

func (c *changes) put(p string, body io.Reader) error {
	return c.run(http.MethodPut, p, func(op *archive.Op) (int, error) {
		_, created, err := op.Put(p, body, -1) // a streamed part: its length is known at its end
		if created {
			return http.StatusCreated, err
		}
		return http.StatusNoContent, err
	})
}

// failure says in words why a change failed, from the kind of its error.
func (h *Handler) failure(w http.ResponseWriter, r *http.Request, err error) {
	var (
		locked  *archive.LockedError
		partial *archive.PartialError
		closed  *archive.ClosedError
	)
	switch {
	case errors.As(err, &closed):
		h.message(w, r, http.StatusForbidden, "Fascicolo chiuso",
			"Fascicolo chiuso il "+dateText(closed.Closed, h.cfg.Location)+" da "+h.displayName(r.Context(), closed.By)+
				": non si può modificare nulla al suo interno.")
	case errors.As(err, &locked):
		h.message(w, r, http.StatusLocked, "File in uso",
			"È bloccato da "+h.displayName(r.Context(), locked.Owner)+", che lo sta modificando: riprova più tardi.")
	case errors.Is(err, archive.ErrNotFound), errors.Is(err, archive.ErrForbidden):
		// A path the person may not see answers as one they may not change.
		h.message(w, r, http.StatusForbidden, "Operazione non consentita", "Non puoi fare questa operazione qui.")
	case errors.Is(err, archive.ErrExists):
		h.message(w, r, http.StatusConflict, "Nome già usato", "Esiste già un elemento con questo nome.")
	case errors.Is(err, archive.ErrConflict):
		h.message(w, r, http.StatusConflict, "Cartella non trovata", "La cartella di destinazione non esiste più.")
	case errors.Is(err, archive.ErrTooLarge):
		h.message(w, r, http.StatusInsufficientStorage, "Spazio del Comune esaurito", "Lo spazio dell'archivio del Comune è esaurito: nulla è stato salvato.")
	case errors.Is(err, backends.ErrInvalidPath):
		h.message(w, r, http.StatusBadRequest, "Nome non valido", "Il nome è troppo lungo o contiene caratteri non ammessi.")
	case errors.As(err, &partial):
		h.message(w, r, http.StatusConflict, "Operazione incompleta", "Alcuni elementi non sono stati modificati: riprova.")
	case archive.IsUnavailable(err):
		w.Header().Set("Retry-After", "5")
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "L'archivio non è al momento raggiungibile: riprova tra qualche istante.")
	default:
		h.message(w, r, http.StatusInternalServerError, "Operazione non riuscita", "L'operazione non è riuscita.")
	}
}

// validName checks a file or folder name typed or uploaded in a page.
func validName(n string) bool {
	return n != "" && n != "." && n != ".." && len(n) <= 255 && utf8.ValidString(n) && !strings.ContainsAny(n, "/\\\x00")
}

// maxRelPath bounds the relative path of an uploaded file.
const maxRelPath = 4096

// relativePath checks the path of an uploaded file or folder below the
// folder it is uploaded to: names joined by slashes, none empty or "..".
func relativePath(s string) (string, bool) {
	if s == "" || len(s) > maxRelPath {
		return "", false
	}
	segs := strings.Split(s, "/")
	if len(segs) > 32 {
		return "", false
	}
	for _, seg := range segs {
		if !validName(seg) {
			return "", false
		}
	}
	return s, true
}

// rawFileName is the file name a browser sent for a part, with the folders
// of a folder upload: Part.FileName keeps only the last name.
func rawFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// makeFolders creates the folders of rel below dir that this upload has
// not made yet; a folder that exists already is fine.
func (c *changes) makeFolders(dir, rel string, made map[string]bool) error {
	if rel == "." {
		return nil
	}
	p := dir
	for _, seg := range strings.Split(rel, "/") {
		p = path.Join(p, seg)
		if made[p] {
			continue
		}
		if err := c.mkdir(p); err != nil && !errors.Is(err, archive.ErrExists) {
			return err
		}
		made[p] = true
	}
	return nil
}

// upload stores the files of a multipart form in a folder, each streamed
// to the storage as it arrives: nothing is held in memory or on disk.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r)
	if !ok {
		return
	}
	dir, ok := archivePath(r, "/_/carica")
	if !ok {
		h.message(w, r, http.StatusBadRequest, "Percorso non valido", "Il percorso richiesto non è valido.")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		h.message(w, r, http.StatusBadRequest, "Caricamento non valido", "Il modulo di caricamento non è valido.")
		return
	}
	// The CSRF token comes first in the form, before any file is read.
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		h.message(w, r, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
		return
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 200))
	if !auth.ValidCSRF(sess, string(tok)) {
		h.message(w, r, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
		return
	}
	// Folders dropped or chosen in the page come as relative paths: in
	// "cartella" fields, and as the names of their files.
	ch := h.changes(r, sess)
	made := map[string]bool{dir: true}
	stored, failed := 0, 0
	var lastErr error
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.message(w, r, http.StatusBadRequest, "Caricamento interrotto", "Il caricamento si è interrotto: i file non completi non sono stati salvati.")
			return
		}
		err = nil
		switch part.FormName() {
		case "cartella":
			b, _ := io.ReadAll(io.LimitReader(part, maxRelPath+1))
			rel, ok := relativePath(string(b))
			if !ok {
				failed++
				continue
			}
			err = ch.makeFolders(dir, rel, made)
		case "file":
			name := rawFileName(part)
			if name == "" { // an empty file input in a form sent without the script
				part.Close()
				continue
			}
			rel, ok := relativePath(name)
			if !ok {
				part.Close()
				failed++
				continue
			}
			if err = ch.makeFolders(dir, path.Dir(rel), made); err == nil {
				if err = ch.put(path.Join(dir, rel), part); err == nil {
					stored++
				}
			}
		default:
			part.Close()
			continue
		}
		if err != nil {
			failed++
			lastErr = err
			var closed *archive.ClosedError
			if errors.As(err, &closed) {
				h.failure(w, r, err) // says when and by whom
				return
			}
			if errors.Is(err, archive.ErrNotFound) || errors.Is(err, archive.ErrForbidden) {
				h.message(w, r, http.StatusForbidden, "Caricamento non consentito", "Non puoi caricare file in questa cartella.")
				return
			}
			if archive.IsUnavailable(err) || errors.Is(err, archive.ErrTooLarge) {
				// The files after it would fail alike: say why at once.
				h.failure(w, r, err)
				return
			}
		}
	}
	h.cfg.Log.Info("upload from a page", "person", sess.Person, "path", dir, "files", stored, "failed", failed)
	if failed > 0 {
		msg := "Alcuni file non sono stati salvati."
		var locked *archive.LockedError
		switch {
		case errors.As(lastErr, &locked):
			msg += " Un file è bloccato da " + h.displayName(r.Context(), locked.Owner) + ", che lo sta modificando."
		case errors.Is(lastErr, archive.ErrExists):
			msg += " Un nome è già usato da una cartella."
		}
		h.message(w, r, http.StatusConflict, "Caricamento incompleto", msg)
		return
	}
	http.Redirect(w, r, withOutcome("/_/archivio"+escapedPath(dir)+"/", "caricati", strconv.Itoa(stored)), http.StatusSeeOther)
}

// withOutcome is the page to go back to after an action, with what was
// done, for the page to confirm (outcomeText): a code and a name.
func withOutcome(back, code, name string) string {
	return back + "?" + url.Values{"esito": {code}, "nome": {name}}.Encode()
}

// outcomeText is the confirmation of an action the page was sent back
// with: only the pages' own codes; the name is shown as text.
func outcomeText(q url.Values) string {
	name := q.Get("nome")
	if len(name) > 255 {
		return ""
	}
	switch q.Get("esito") {
	case "caricati":
		if name == "1" {
			return "1 file caricato."
		}
		if n, err := strconv.Atoi(name); err == nil && n > 0 {
			return name + " file caricati."
		}
	case "cartella":
		return "Cartella «" + name + "» creata."
	case "rinominato":
		return "Rinominato in «" + name + "»."
	case "eliminato":
		return "«" + name + "» eliminato."
	case "concesso":
		return "Accesso concesso: " + name + "."
	case "revocato":
		return "Accesso revocato: " + name + "."
	case "chiuso":
		return "Fascicolo chiuso: non si può più modificare."
	}
	return ""
}

// change serves the forms that make a folder, rename and delete.
func (h *Handler) change(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	p, ok := archivePath(r, "/_/modifica")
	if !ok || p == "/" {
		h.message(w, r, http.StatusBadRequest, "Percorso non valido", "Il percorso richiesto non è valido.")
		return
	}
	back := "/_/archivio" + escapedPath(path.Dir(p)) + "/"
	var outcome, outName string
	var err error
	switch r.PostFormValue("azione") {
	case "cartella":
		name := strings.TrimSpace(r.PostFormValue("nome"))
		if !validName(name) {
			h.message(w, r, http.StatusBadRequest, "Nome non valido", "Scegli un nome senza barre.")
			return
		}
		err = h.changes(r, sess).mkdir(path.Join(p, name))
		back = "/_/archivio" + escapedPath(p) + "/"
		outcome, outName = "cartella", name
	case "rinomina":
		name := strings.TrimSpace(r.PostFormValue("nome"))
		if !validName(name) {
			h.message(w, r, http.StatusBadRequest, "Nome non valido", "Scegli un nome senza barre.")
			return
		}
		err = h.changes(r, sess).run("MOVE", p, func(op *archive.Op) (int, error) {
			_, err := op.Move(p, path.Join(path.Dir(p), name), false)
			return http.StatusCreated, err
		})
		outcome, outName = "rinominato", name
	case "elimina":
		err = h.changes(r, sess).run(http.MethodDelete, p, func(op *archive.Op) (int, error) {
			return http.StatusNoContent, op.Delete(p)
		})
		outcome, outName = "eliminato", path.Base(p)
	case "chiudi":
		reason := strings.TrimSpace(r.PostFormValue("motivo"))
		if reason == "" || len(reason) > 200 || !utf8.ValidString(reason) {
			h.message(w, r, http.StatusBadRequest, "Motivo mancante", "Scrivi il motivo della chiusura (al massimo 200 caratteri).")
			return
		}
		if h.cfg.Dossiers == nil {
			h.message(w, r, http.StatusBadRequest, "Richiesta non valida", "Azione sconosciuta.")
			return
		}
		// Closing is a manager's: who may delete the folder whole.
		err = h.changes(r, sess).run("CLOSE", p, func(op *archive.Op) (int, error) {
			if !op.MayDelete(p, true) {
				return 0, fmt.Errorf("close %s: %w", p, archive.ErrForbidden)
			}
			_, err := h.cfg.Archive.CloseDossier(r.Context(), h.cfg.Dossiers, p, sess.Person, reason)
			return http.StatusOK, err
		})
		back = "/_/archivio" + escapedPath(p) + "/"
		outcome = "chiuso"
	default:
		h.message(w, r, http.StatusBadRequest, "Richiesta non valida", "Azione sconosciuta.")
		return
	}
	if err != nil {
		h.failure(w, r, err)
		return
	}
	http.Redirect(w, r, withOutcome(back, outcome, outName), http.StatusSeeOther)
}
