// Package web serves the pages people see in a browser: sign-in with SPID
// (or a local account), and the personal page where they manage the app
// passwords that their network drives use. Pages are in Italian, rendered
// on the server from embedded templates.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/state"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is the URL space of the pages; it cannot clash with a Comune,
// whose ids start with a letter or digit.
const Prefix = "/_/"

// FolderPages is where the pages show the archive's folders.
const FolderPages = Prefix + "archivio"

// Comune is a Comune as the pages show it.
type Comune struct{ ID, Name string }

// Config is what the pages need. RP is nil when no OpenID Provider is
// configured; Password is nil when there are no local accounts.
type Config struct {
	Sessions *auth.Sessions
	Apps     *auth.AppPasswords
	RP       *oidc.RP
	Flows    oidc.FlowStore
	// Password checks a local account from the sign-in form.
	Password      func(r *http.Request, user, pass string) (auth.Identity, error)
	Comuni        []Comune
	DefaultExpiry time.Duration
	// People records who signed in, with their provider groups, and tells
	// the pages people's names.
	People interface {
		UpsertPerson(ctx context.Context, p state.Person) error
		Person(ctx context.Context, key string) (state.Person, error)
	}
	// CanWrite reports whether a sign-in at a level of assurance may write,
	// and so make read-write app passwords.
	CanWrite func(acr string) bool
	// Grants keeps the accesso agli atti grants.
	Grants interface {
		CreateGrant(ctx context.Context, g state.Grant) error
		Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error)
		DeleteGrant(ctx context.Context, id string) error
	}
	// Manages lists the Comuni where the person manages grants (all of them
	// for an administrator).
	Manages func(ctx context.Context, person string) ([]string, error)
	// Audit records the changes to grants, and the archive pages, in the
	// access log.
	Audit func(r *http.Request, person, method, path string, status int)
	// FS is the archive; Policy is the authorization of a session's person,
	// the same that decides WebDAV requests.
	FS     backends.Backend
	Policy func(ctx context.Context, s state.Session) (Decider, error)
	// Drive is the WebDAV handler, without authentication: the pages send
	// it the requests that change the archive, as the session's person.
	Drive http.Handler
	// Locks, when set, tells who holds the WebDAV locks on the archive.
	Locks Locks
	// SearchLimit bounds the entries a search looks at (default 50,000).
	SearchLimit int
	Log         *slog.Logger
}

// Handler serves the pages.
type Handler struct {
	cfg  Config
	tmpl *template.Template
	mux  *http.ServeMux
}

// New returns the pages' handler.
func New(cfg Config) (*Handler, error) {
	static, _ := fs.Sub(staticFS, "static")
	version, err := contentVersion(static)
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		// static names a file of the pages by its content, so browsers may
		// keep it until the next release changes it.
		"static": func(name string) string { return "/_/static/" + name + "?v=" + version },
		"date":   dateText,
		"until":  untilText,
		"join":   func(s []string) string { return strings.Join(s, ", ") },
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, tmpl: tmpl, mux: http.NewServeMux()}
	h.mux.Handle("GET /_/static/", http.StripPrefix("/_/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /_/accedi", h.signInPage)
	h.mux.HandleFunc("POST /_/accedi/locale", h.signInLocal)
	h.mux.HandleFunc("GET /_/accedi/spid", h.signInSPID)
	h.mux.HandleFunc("GET /_/accedi/ritorno", h.callback)
	h.mux.HandleFunc("POST /_/esci", h.signOut)
	h.mux.HandleFunc("GET /_/profilo", h.profile)
	h.mux.HandleFunc("POST /_/password", h.createPassword)
	h.mux.HandleFunc("POST /_/password/revoca", h.revokePassword)
	h.mux.HandleFunc("GET /_/archivio/", h.archive)
	h.mux.HandleFunc("GET /_/zip/", h.zipFolder)
	h.mux.HandleFunc("GET /_/scheda/", h.details)
	h.mux.HandleFunc("POST /_/carica/", h.upload)
	h.mux.HandleFunc("POST /_/modifica/", h.change)
	h.mux.HandleFunc("GET /_/accessi", h.grantsPage)
	h.mux.HandleFunc("POST /_/accessi", h.createGrant)
	h.mux.HandleFunc("POST /_/accessi/revoca", h.revokeGrant)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' https: http:")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/_/static/") {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-store")
	}
	// Forms are small; uploads stream to the storage, bounded by its quota.
	if !strings.HasPrefix(r.URL.Path, "/_/carica/") {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	}
	h.mux.ServeHTTP(w, r)
}

// dateText writes a moment as the pages do: "25/11/2026 14:05".
func dateText(t time.Time) string { return t.Local().Format("02/01/2006 15:04") }

// untilText writes the last day of something valid up to a midnight.
func untilText(t time.Time) string { return t.Add(-time.Second).Local().Format("02/01/2006") }

// contentVersion is a short hash of every file under fsys.
func contentVersion(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

// page is the data every template gets.
type page struct {
	Title   string
	Session *state.Session
	CSRF    string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.tmpl.ExecuteTemplate(w, name, data); err != nil {
		h.cfg.Log.Error("render page", "page", name, "err", err)
	}
}

func (h *Handler) message(w http.ResponseWriter, status int, title, msg string) {
	h.render(w, status, "messaggio.html", struct {
		page
		Message string
	}{page{Title: title}, msg})
}

// session returns the request's session, or sends the browser to sign in.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (state.Session, bool) {
	sess, err := h.cfg.Sessions.Load(r)
	if err == nil {
		return sess, true
	}
	if !errors.Is(err, auth.ErrNoSession) {
		h.cfg.Log.Error("load session", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile. Riprova tra qualche minuto.")
		return state.Session{}, false
	}
	http.Redirect(w, r, "/_/accedi", http.StatusSeeOther)
	return state.Session{}, false
}

// sessionForm is session for a form post: it also checks the CSRF token.
func (h *Handler) sessionForm(w http.ResponseWriter, r *http.Request) (state.Session, bool) {
	sess, ok := h.session(w, r)
	if !ok {
		return sess, false
	}
	if !auth.ValidCSRF(sess, r.PostFormValue("csrf")) {
		h.cfg.Log.Warn("form with a bad CSRF token", "path", r.URL.Path, "person", sess.Person)
		h.message(w, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
		return sess, false
	}
	return sess, true
}

const preCSRFCookie = "faldone_modulo"

// preSessionCSRF sets a double-submit token for the sign-in form, which is
// posted before any session exists.
func preSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	var b [24]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/_/accedi", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.cfg.Sessions.Load(r); err == nil {
		http.Redirect(w, r, "/_/profilo", http.StatusSeeOther)
		return
	}
	h.signInForm(w, r, http.StatusOK, "")
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, status, "accedi.html", struct {
		page
		SPID, Local bool
		Error       string
	}{page{Title: "Accedi", CSRF: preSessionCSRF(w, r)}, h.cfg.RP != nil, h.cfg.Password != nil, msg})
}

func (h *Handler) signInLocal(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Password == nil {
		http.NotFound(w, r)
		return
	}
	c, err := r.Cookie(preCSRFCookie)
	if err != nil || c.Value == "" || c.Value != r.PostFormValue("csrf") {
		h.signInForm(w, r, http.StatusForbidden, "La pagina è scaduta: riprova.")
		return
	}
	id, err := h.cfg.Password(r, r.PostFormValue("utente"), r.PostFormValue("parola"))
	if err != nil || id.Method != "local" {
		status := http.StatusUnauthorized
		msg := "Nome utente o password non corretti."
		if errors.Is(err, auth.ErrThrottled) {
			status, msg = http.StatusTooManyRequests, "Troppi tentativi non riusciti: riprova più tardi."
		}
		h.signInForm(w, r, status, msg)
		return
	}
	if _, err := h.cfg.Sessions.Start(r.Context(), w, r, auth.Person{Key: id.Name, Display: id.Display}); err != nil {
		h.cfg.Log.Error("start session", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("signed in", "person", id.Name, "method", "local")
	http.Redirect(w, r, "/_/profilo", http.StatusSeeOther)
}

func (h *Handler) signInSPID(w http.ResponseWriter, r *http.Request) {
	if h.cfg.RP == nil {
		http.NotFound(w, r)
		return
	}
	authURL, f, err := h.cfg.RP.Begin(r.Context())
	if err == nil {
		err = h.cfg.Flows.SaveFlow(r.Context(), f.State, f)
	}
	if err != nil {
		h.cfg.Log.Error("begin sign-in", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "L'accesso con SPID non è al momento disponibile.")
		return
	}
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	if h.cfg.RP == nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		h.cfg.Log.Info("sign-in ended by the provider", "error", e)
		// The flow is used up either way.
		h.cfg.Flows.TakeFlow(r.Context(), q.Get("state"))
		h.message(w, http.StatusUnauthorized, "Accesso non completato", "L'accesso è stato annullato o rifiutato.")
		return
	}
	p, toks, err := h.cfg.RP.Finish(r.Context(), h.cfg.Flows, q.Get("state"), q.Get("code"), q.Get("iss"))
	if err != nil {
		h.cfg.Log.Warn("sign-in refused", "reason", err)
		switch {
		case errors.Is(err, oidc.ErrACRTooLow):
			h.message(w, http.StatusForbidden, "Livello di sicurezza insufficiente", "Per accedere all'archivio serve un livello SPID più alto di quello usato.")
		case errors.Is(err, oidc.ErrNoFiscalNumber), errors.Is(err, oidc.ErrBadFiscalNumber):
			h.message(w, http.StatusForbidden, "Accesso non consentito", "L'identità digitale non ha fornito un codice fiscale valido.")
		default:
			h.message(w, http.StatusUnauthorized, "Accesso non completato", "L'accesso non è andato a buon fine: riprova dalla pagina di accesso.")
		}
		return
	}
	display := strings.TrimSpace(p.GivenName + " " + p.FamilyName)
	if display == "" {
		display = p.FiscalNumber
	}
	if err := h.cfg.People.UpsertPerson(r.Context(), state.Person{Key: p.FiscalNumber, Display: display, Groups: p.Groups, LastSignIn: time.Now().UTC()}); err != nil {
		h.cfg.Log.Error("record sign-in", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	if _, err := h.cfg.Sessions.Start(r.Context(), w, r, auth.Person{Key: p.FiscalNumber, Display: display, ACR: p.ACR, IDToken: toks.IDToken}); err != nil {
		h.cfg.Log.Error("start session", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("signed in", "person", p.FiscalNumber, "method", "spid", "acr", p.ACR)
	http.Redirect(w, r, "/_/profilo", http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	if err := h.cfg.Sessions.End(w, r); err != nil {
		h.cfg.Log.Error("end session", "err", err)
	}
	h.cfg.Log.Info("signed out", "person", sess.Person)
	if h.cfg.RP != nil && sess.IDToken != "" {
		if u, ok := h.cfg.RP.EndSessionURL(sess.IDToken, absoluteURL(r, "/_/accedi")); ok {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/_/accedi", http.StatusSeeOther)
}

func (h *Handler) profile(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r)
	if !ok {
		return
	}
	list, err := h.cfg.Apps.List(r.Context(), sess.Person)
	if err != nil {
		h.cfg.Log.Error("list app passwords", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	level := ""
	if i := strings.LastIndex(sess.ACR, "/"); i >= 0 {
		level = sess.ACR[i+1:]
	}
	grants, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Person: sess.Person, Live: true, Now: time.Now()})
	if err != nil {
		h.unavailable(w, "list grants", err)
		return
	}
	manages, err := h.cfg.Manages(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, "roles", err)
		return
	}
	h.render(w, http.StatusOK, "profilo.html", struct {
		page
		Level       string
		Passwords   []state.AppPassword
		Grants      []state.Grant
		Manager     bool
		Comuni      []Comune
		DefaultDays int
	}{page{Title: "Area personale", Session: &sess, CSRF: sess.CSRF}, level, list, grants, len(manages) > 0, h.cfg.Comuni, int(h.cfg.DefaultExpiry / (24 * time.Hour))})
}

func (h *Handler) createPassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("giorni"))
	if err != nil || days < 1 || days > 730 {
		h.message(w, http.StatusBadRequest, "Dati non validi", "La scadenza deve essere tra 1 e 730 giorni.")
		return
	}
	write := r.PostFormValue("permessi") == "scrittura"
	if write && h.cfg.CanWrite != nil && sess.Person != "" && sess.ACR != "" && !h.cfg.CanWrite(sess.ACR) {
		h.message(w, http.StatusForbidden, "Livello di sicurezza insufficiente", "Per creare una password che possa scrivere serve un accesso SPID di livello più alto.")
		return
	}
	var comuni []string
	for _, c := range r.PostForm["comune"] {
		if !h.knownComune(c) {
			h.message(w, http.StatusBadRequest, "Dati non validi", "Comune sconosciuto.")
			return
		}
		comuni = append(comuni, c)
	}
	secret, p, err := h.cfg.Apps.Create(r.Context(), auth.NewAppPassword{
		Owner: sess.Person, Name: r.PostFormValue("nome"), ReadOnly: !write,
		Comuni: comuni, Expires: time.Now().Add(time.Duration(days) * 24 * time.Hour).UTC(),
	})
	if err != nil {
		h.cfg.Log.Warn("create app password", "person", sess.Person, "err", err)
		h.message(w, http.StatusBadRequest, "Password non creata", "Indica un nome per il dispositivo (al massimo 100 caratteri).")
		return
	}
	h.cfg.Log.Info("app password created", "person", sess.Person, "id", p.ID, "read_only", p.ReadOnly)
	h.render(w, http.StatusOK, "creata.html", struct {
		page
		Name, Secret, User, URL string
	}{page{Title: "Password creata", Session: &sess, CSRF: sess.CSRF}, p.Name, secret, sess.Person, absoluteURL(r, "/")})
}

func (h *Handler) revokePassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	id := r.PostFormValue("id")
	if err := h.cfg.Apps.Revoke(r.Context(), sess.Person, id); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			h.message(w, http.StatusNotFound, "Password non trovata", "La password è già stata revocata.")
			return
		}
		h.cfg.Log.Error("revoke app password", "err", err)
		h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("app password revoked", "person", sess.Person, "id", id)
	http.Redirect(w, r, "/_/profilo", http.StatusSeeOther)
}

func (h *Handler) unavailable(w http.ResponseWriter, what string, err error) {
	h.cfg.Log.Error(what, "err", err)
	w.Header().Set("Retry-After", "5")
	h.message(w, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile. Riprova tra qualche minuto.")
}

// manager returns the session and the Comuni it manages, or answers 403.
func (h *Handler) manager(w http.ResponseWriter, r *http.Request, form bool) (state.Session, []string, bool) {
	var (
		sess state.Session
		ok   bool
	)
	if form {
		sess, ok = h.sessionForm(w, r)
	} else {
		sess, ok = h.session(w, r)
	}
	if !ok {
		return sess, nil, false
	}
	comuni, err := h.cfg.Manages(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, "roles", err)
		return sess, nil, false
	}
	if len(comuni) == 0 {
		h.message(w, http.StatusForbidden, "Accesso non consentito", "Solo i responsabili di un Comune possono gestire gli accessi agli atti.")
		return sess, nil, false
	}
	return sess, comuni, true
}

func (h *Handler) grantsPage(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, false)
	if !ok {
		return
	}
	h.renderGrants(w, r, sess, comuni, http.StatusOK, "")
}

func (h *Handler) renderGrants(w http.ResponseWriter, r *http.Request, sess state.Session, comuni []string, status int, msg string) {
	var all []state.Grant
	for _, c := range comuni {
		gs, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Comune: c, Live: true, Now: time.Now()})
		if err != nil {
			h.unavailable(w, "list grants", err)
			return
		}
		all = append(all, gs...)
	}
	h.render(w, status, "accessi.html", struct {
		page
		Grants []state.Grant
		Error  string
	}{page{Title: "Accessi agli atti", Session: &sess, CSRF: sess.CSRF}, all, msg})
}

func (h *Handler) createGrant(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, true)
	if !ok {
		return
	}
	bad := func(msg string) { h.renderGrants(w, r, sess, comuni, http.StatusBadRequest, msg) }
	cf, err := oidc.NormalizeFiscalNumber(r.PostFormValue("persona"))
	if err != nil {
		bad("Il codice fiscale non è valido.")
		return
	}
	p := path.Clean("/" + strings.Trim(r.PostFormValue("percorso"), "/ "))
	c, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if rest == "" || !slices.Contains(comuni, c) || strings.ContainsAny(p, "\\\x00") {
		bad("Il percorso deve essere una pratica di un Comune che gestisci, per esempio /" + comuni[0] + "/2019/PC-2019-0042.")
		return
	}
	day, err := time.ParseInLocation("2006-01-02", r.PostFormValue("scadenza"), time.Local)
	if err != nil || !day.AddDate(0, 0, 1).After(time.Now()) || day.After(time.Now().AddDate(2, 0, 0)) {
		bad("La scadenza deve essere una data nei prossimi due anni.")
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("motivo"))
	if reason == "" || len(reason) > 200 {
		bad("Indica il protocollo della richiesta.")
		return
	}
	var b [8]byte
	rand.Read(b[:])
	g := state.Grant{ID: "g-" + hex.EncodeToString(b[:]), Person: cf, Path: p, Comune: c, Write: r.PostFormValue("permessi") == "scrittura",
		Reason: reason, GrantedBy: sess.Person, Created: time.Now().UTC(), Expires: day.AddDate(0, 0, 1).UTC()}
	if err := h.cfg.Grants.CreateGrant(r.Context(), g); err != nil {
		h.unavailable(w, "create grant", err)
		return
	}
	h.cfg.Log.Info("grant created", "by", sess.Person, "id", g.ID, "person", g.Person, "path", g.Path, "write", g.Write)
	h.cfg.Audit(r, sess.Person, "GRANT", g.Path, http.StatusCreated)
	http.Redirect(w, r, "/_/accessi", http.StatusSeeOther)
}

func (h *Handler) revokeGrant(w http.ResponseWriter, r *http.Request) {
	sess, comuni, ok := h.manager(w, r, true)
	if !ok {
		return
	}
	id := r.PostFormValue("id")
	var target *state.Grant
	for _, c := range comuni {
		gs, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Comune: c})
		if err != nil {
			h.unavailable(w, "list grants", err)
			return
		}
		for i := range gs {
			if gs[i].ID == id {
				target = &gs[i]
			}
		}
	}
	if target == nil {
		h.message(w, http.StatusNotFound, "Accesso non trovato", "L'accesso non esiste o non riguarda un Comune che gestisci.")
		return
	}
	if err := h.cfg.Grants.DeleteGrant(r.Context(), id); err != nil && !errors.Is(err, state.ErrNotFound) {
		h.unavailable(w, "revoke grant", err)
		return
	}
	h.cfg.Log.Info("grant revoked", "by", sess.Person, "id", id, "person", target.Person, "path", target.Path)
	h.cfg.Audit(r, sess.Person, "REVOKE", target.Path, http.StatusNoContent)
	http.Redirect(w, r, "/_/accessi", http.StatusSeeOther)
}

func (h *Handler) knownComune(id string) bool {
	for _, c := range h.cfg.Comuni {
		if c.ID == id {
			return true
		}
	}
	return false
}

// absoluteURL is the URL of path on the server the browser reached.
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// FlowStore keeps sign-in flows in the state store, so that the provider's
// answer may reach any replica.
type FlowStore struct {
	Store interface {
		SaveFlow(ctx context.Context, state string, data []byte, expires time.Time) error
		TakeFlow(ctx context.Context, state string, now time.Time) ([]byte, error)
	}
	TTL time.Duration
}

// SaveFlow implements oidc.FlowStore.
func (s FlowStore) SaveFlow(ctx context.Context, st string, f oidc.Flow) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return s.Store.SaveFlow(ctx, st, b, time.Now().Add(s.TTL))
}

// TakeFlow implements oidc.FlowStore.
func (s FlowStore) TakeFlow(ctx context.Context, st string) (oidc.Flow, error) {
	b, err := s.Store.TakeFlow(ctx, st, time.Now())
	if errors.Is(err, state.ErrNotFound) {
		return oidc.Flow{}, oidc.ErrBadState
	}
	if err != nil {
		return oidc.Flow{}, err
	}
	var f oidc.Flow
	if err := json.Unmarshal(b, &f); err != nil {
		return oidc.Flow{}, err
	}
	return f, nil
}
