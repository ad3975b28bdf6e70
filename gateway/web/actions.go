package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/backends/state"
)

// The pages change the archive by sending the WebDAV handler the request a
// drive would send, under the person's identity: one authorization, one
// set of rules for locks and properties, one audit record per change.

// drive runs one WebDAV request as the session's person and returns its status.
func (h *Handler) drive(ctx context.Context, r *http.Request, sess state.Session, method, p string, header http.Header, body io.Reader) int {
	req, err := http.NewRequestWithContext(auth.WithIdentity(ctx, auth.SessionIdentity(sess)),
		method, escapedPath(p), body)
	if err != nil {
		return http.StatusBadRequest
	}
	if body != nil {
		req.ContentLength = -1 // a streamed part: its length is known at its end
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	for k, v := range header {
		req.Header[k] = v
	}
	rec := &statusOnly{header: http.Header{}}
	h.cfg.Drive.ServeHTTP(rec, req)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	h.cfg.Audit(r, sess.Person, method, p, status)
	return status
}

// statusOnly keeps the status of a response and drops its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }
func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
func (s *statusOnly) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
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
func (h *Handler) makeFolders(r *http.Request, sess state.Session, dir, rel string, made map[string]bool) int {
	if rel == "." {
		return http.StatusOK
	}
	p := dir
	for _, seg := range strings.Split(rel, "/") {
		p = path.Join(p, seg)
		if made[p] {
			continue
		}
		code := h.drive(r.Context(), r, sess, "MKCOL", p, nil, nil)
		if code >= 300 && code != http.StatusMethodNotAllowed {
			return code
		}
		made[p] = true
	}
	return http.StatusOK
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
		h.message(w, http.StatusBadRequest, "Percorso non valido", "Il percorso richiesto non è valido.")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		h.message(w, http.StatusBadRequest, "Caricamento non valido", "Il modulo di caricamento non è valido.")
		return
	}
	// The CSRF token comes first in the form, before any file is read.
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		h.message(w, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
		return
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 200))
	if !auth.ValidCSRF(sess, string(tok)) {
		h.message(w, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
		return
	}
	// Folders dropped or chosen in the page come as relative paths: in
	// "cartella" fields, and as the names of their files.
	made := map[string]bool{dir: true}
	stored, failed := 0, 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.message(w, http.StatusBadRequest, "Caricamento interrotto", "Il caricamento si è interrotto: i file non completi non sono stati salvati.")
			return
		}
		var code int
		switch part.FormName() {
		case "cartella":
			b, _ := io.ReadAll(io.LimitReader(part, maxRelPath+1))
			rel, ok := relativePath(string(b))
			if !ok {
				failed++
				continue
			}
			code = h.makeFolders(r, sess, dir, rel, made)
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
			if code = h.makeFolders(r, sess, dir, path.Dir(rel), made); code < 300 {
				if code = h.drive(r.Context(), r, sess, http.MethodPut, path.Join(dir, rel), nil, part); code < 300 {
					stored++
				}
			}
		default:
			part.Close()
			continue
		}
		if code >= 300 {
			failed++
			if code == http.StatusForbidden || code == http.StatusNotFound {
				h.message(w, code, "Caricamento non consentito", "Non puoi caricare file in questa cartella.")
				return
			}
		}
	}
	h.cfg.Log.Info("upload from a page", "person", sess.Person, "path", dir, "files", stored, "failed", failed)
	if failed > 0 {
		h.message(w, http.StatusConflict, "Caricamento incompleto", "Alcuni file non sono stati salvati.")
		return
	}
	http.Redirect(w, r, "/_/archivio"+escapedPath(dir)+"/", http.StatusSeeOther)
}

// change serves the forms that make a folder, rename and delete.
func (h *Handler) change(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	p, ok := archivePath(r, "/_/modifica")
	if !ok || p == "/" {
		h.message(w, http.StatusBadRequest, "Percorso non valido", "Il percorso richiesto non è valido.")
		return
	}
	back := "/_/archivio" + escapedPath(path.Dir(p)) + "/"
	var code int
	switch r.PostFormValue("azione") {
	case "cartella":
		name := strings.TrimSpace(r.PostFormValue("nome"))
		if !validName(name) {
			h.message(w, http.StatusBadRequest, "Nome non valido", "Scegli un nome senza barre.")
			return
		}
		code = h.drive(r.Context(), r, sess, "MKCOL", path.Join(p, name), nil, nil)
		back = "/_/archivio" + escapedPath(p) + "/"
	case "rinomina":
		name := strings.TrimSpace(r.PostFormValue("nome"))
		if !validName(name) {
			h.message(w, http.StatusBadRequest, "Nome non valido", "Scegli un nome senza barre.")
			return
		}
		code = h.drive(r.Context(), r, sess, "MOVE", p, http.Header{"Destination": {escapedPath(path.Join(path.Dir(p), name))}, "Overwrite": {"F"}}, nil)
	case "elimina":
		code = h.drive(r.Context(), r, sess, http.MethodDelete, p, nil, nil)
	default:
		h.message(w, http.StatusBadRequest, "Richiesta non valida", "Azione sconosciuta.")
		return
	}
	switch {
	case code < 300:
		http.Redirect(w, r, back, http.StatusSeeOther)
	case code == http.StatusForbidden || code == http.StatusNotFound:
		h.message(w, code, "Operazione non consentita", "Non puoi fare questa operazione qui.")
	case code == http.StatusLocked:
		h.message(w, code, "File in uso", "Il file è aperto da un'altra persona: riprova più tardi.")
	case code == http.StatusPreconditionFailed || code == http.StatusMethodNotAllowed:
		h.message(w, http.StatusConflict, "Nome già usato", "Esiste già un elemento con questo nome.")
	default:
		h.message(w, code, "Operazione non riuscita", "L'operazione non è riuscita.")
	}
}
