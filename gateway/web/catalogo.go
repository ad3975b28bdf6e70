package web

import (
	"net/http"

	"github.com/bassareggiana/faldone/state"
)

// indexStatus shows the administrators how far the index of the words
// inside the documents is: what `faldone catalogue status` says.
func (h *Handler) indexStatus(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r)
	if !ok {
		return
	}
	if h.cfg.IndexStatus == nil {
		h.fileNotFound(w, r)
		return
	}
	// The administrators are those who manage every Comune.
	manages, err := h.cfg.Manages(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, r, "roles", err)
		return
	}
	if len(manages) < len(h.cfg.Comuni) {
		h.message(w, r, http.StatusForbidden, "Accesso non consentito", "Lo stato dell'indice è riservato agli amministratori dell'archivio.")
		return
	}
	st, err := h.cfg.IndexStatus(r.Context())
	if err != nil {
		h.unavailable(w, r, "index status", err)
		return
	}
	h.render(w, http.StatusOK, "catalogo.html", struct {
		page
		S state.IndexStatus
	}{page{Title: "Indice dei documenti", Session: &sess, CSRF: sess.CSRF}, st})
}
