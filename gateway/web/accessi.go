package web

import (
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/gateway/grants"
	"github.com/bassareggiana/faldone/state"
)

// grantsPage lists the accesso agli atti grants of the Comuni the person
// manages, with the form that gives one; the rules and the audit of giving
// and revoking are grants.Service's.
func (h *Handler) grantsPage(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, false)
	if !ok {
		return
	}
	h.renderGrants(w, r, sess, comuni, http.StatusOK, "")
}

func (h *Handler) renderGrants(w http.ResponseWriter, r *http.Request, sess state.Session, comuni []string, status int, msg string) {
	q := r.URL.Query()
	// The list, narrowed by Comune, grantee and how soon they end.
	f := grantFilter{Comune: q.Get("comune"), Person: strings.ToUpper(strings.TrimSpace(q.Get("persona"))), Within: q.Get("scade")}
	if !slices.Contains(comuni, f.Comune) {
		f.Comune = ""
	}
	if len(f.Person) > 22 {
		f.Person = ""
	}
	days := map[string]int{"7": 7, "30": 30}[f.Within]
	if days == 0 {
		f.Within = ""
	}
	now := time.Now()
	var all []grantRow
	for _, c := range comuni {
		if f.Comune != "" && c != f.Comune {
			continue
		}
		gs, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Comune: c, Live: true, Now: now})
		if err != nil {
			h.unavailable(w, r, "list grants", err)
			return
		}
		for _, g := range gs {
			if f.Person != "" && !strings.Contains(g.Person, f.Person) {
				continue
			}
			if days > 0 && g.Expires.After(now.AddDate(0, 0, days)) {
				continue
			}
			all = append(all, grantRow{Grant: g, ComuneName: h.shownName("/" + g.Comune), Href: FolderPages + escapedPath(g.Path) + "/"})
		}
	}
	var choices []Comune
	for _, c := range comuni {
		choices = append(choices, Comune{ID: c, Name: h.shownName("/" + c)})
	}
	// The dossier comes from the archive's "Concedi accesso" link, or back
	// from a refused form: chosen, it is named rather than typed.
	dossier := strings.TrimSpace(r.FormValue("percorso"))
	chosen := ""
	if p, err := archive.Path(dossier); err == nil && p != "/" {
		if c, _ := access.SplitComune(p); slices.Contains(comuni, c) {
			chosen = path.Base(p) + " (" + h.shownName("/"+c) + ")"
		}
	}
	title := "Accessi agli atti"
	if chosen != "" {
		title = "Concedi accesso a " + chosen
	}
	h.render(w, status, "accessi.html", struct {
		page
		Grants          []grantRow
		Error, Outcome  string
		Dossier, Chosen string
		Filter          grantFilter
		Comuni          []Comune
	}{page{Title: title, Session: &sess, CSRF: sess.CSRF}, all, msg, outcomeText(q), dossier, chosen, f, choices})
}

// grantRow is a grant as the list shows it.
type grantRow struct {
	state.Grant
	ComuneName, Href string
}

// grantFilter narrows the grants' list: a Comune, part of a fiscal number,
// ending within 7 or 30 days.
type grantFilter struct{ Comune, Person, Within string }

func (h *Handler) createGrant(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, true)
	if !ok {
		return
	}
	bad := func(msg string) { h.renderGrants(w, r, sess, comuni, http.StatusBadRequest, msg) }
	g, err := h.cfg.GrantRules.Grant(r.Context(), grants.Request{
		Person: r.PostFormValue("persona"), Path: r.PostFormValue("percorso"), Until: r.PostFormValue("scadenza"),
		Reason: r.PostFormValue("motivo"), Write: r.PostFormValue("permessi") == "scrittura", Email: r.PostFormValue("email"),
	}, h.actor(r, sess), func(c string) bool { return slices.Contains(comuni, c) })
	if err != nil && !errors.Is(err, grants.ErrNotAudited) {
		h.cfg.Log.Info("grant refused", "by", sess.Person, "err", err)
	}
	switch {
	case errors.Is(err, grants.ErrBadPerson):
		bad("Il codice fiscale non è valido.")
	case errors.Is(err, grants.ErrBadPath):
		bad("Il percorso deve essere una pratica di un Comune che gestisci, per esempio /" + comuni[0] + "/2019/PC-2019-0042.")
	case errors.Is(err, grants.ErrNoFolder):
		bad("La pratica " + strings.TrimSpace(r.PostFormValue("percorso")) + " non esiste nell'archivio. Per scegliere una pratica esistente, aprila nell'archivio e usa «Concedi accesso».")
	case errors.Is(err, grants.ErrNotFolder):
		bad("Il percorso indica un file, non una pratica: scegli la cartella della pratica.")
	case errors.Is(err, grants.ErrBadUntil):
		bad("La scadenza deve essere una data nei prossimi due anni.")
	case errors.Is(err, grants.ErrBadReason):
		bad("Indica il protocollo della richiesta (al massimo 200 caratteri).")
	case errors.Is(err, grants.ErrBadEmail):
		bad("L'e-mail del tecnico non è un indirizzo valido (per esempio studio.rossi@example.it): correggila, o lasciala vuota.")
	case err != nil && !errors.Is(err, grants.ErrNotAudited):
		h.unavailable(w, r, "create grant", err)
	default:
		if err != nil {
			h.cfg.Log.Error("grant created without its audit record", "id", g.ID, "err", err)
		}
		h.cfg.Log.Info("grant created", "by", sess.Person, "id", g.ID, "person", g.Person, "path", g.Path, "write", g.Write)
		http.Redirect(w, r, withOutcome("/_/accessi", "concesso", g.Person+" a "+path.Base(g.Path)+" fino al "+untilText(g.Expires, h.cfg.Location)), http.StatusSeeOther)
	}
}

func (h *Handler) revokeGrant(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, true)
	if !ok {
		return
	}
	g, err := h.cfg.GrantRules.Revoke(r.Context(), r.PostFormValue("id"), h.actor(r, sess), func(c string) bool { return slices.Contains(comuni, c) })
	switch {
	case errors.Is(err, grants.ErrNoGrant):
		h.message(w, r, http.StatusNotFound, "Accesso non trovato", "L'accesso non esiste o non riguarda un Comune che gestisci.")
		return
	case err != nil && !errors.Is(err, grants.ErrNotAudited):
		h.unavailable(w, r, "revoke grant", err)
		return
	case err != nil:
		h.cfg.Log.Error("grant revoked without its audit record", "id", g.ID, "err", err)
	}
	h.cfg.Log.Info("grant revoked", "by", sess.Person, "id", g.ID, "person", g.Person, "path", g.Path)
	http.Redirect(w, r, withOutcome("/_/accessi", "revocato", g.Person+" a "+path.Base(g.Path)), http.StatusSeeOther)
}
