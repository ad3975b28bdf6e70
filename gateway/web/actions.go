package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/backends/state"
)

// The pages change the archive by sending the WebDAV handler the request a
// drive would send, under the person's identity: one authorization, one
// set of rules for locks and properties, one audit record per change.

// drive runs one WebDAV request as the session's person and returns its status.
func (h *Handler) drive(ctx context.Context, r *http.Request, sess state.Session, method, p string, header http.Header, body io.Reader) int {
	req, err := http.NewRequestWithContext(auth.WithIdentity(ctx, auth.Identity{Name: sess.Person, Display: sess.Display, Method: "session", Credential: "session", ACR: sess.ACR}),
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
	return n != "" && n != "." && n != ".." && len(n) <= 255 && !strings.ContainsAny(n, "/\\\x00")
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
		name := path.Base(part.FileName())
		if part.FormName() != "file" || !validName(name) {
			part.Close()
			continue
		}
		switch code := h.drive(r.Context(), r, sess, http.MethodPut, path.Join(dir, name), nil, part); code {
		case http.StatusCreated, http.StatusNoContent:
			stored++
		default:
			failed++
			if code == http.StatusForbidden || code == http.StatusNotFound {
				h.message(w, code, "Caricamento non consentito", "Non puoi caricare file in questa cartella.")
				return
			}
		}
	}
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
