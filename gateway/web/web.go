// Package web serves the pages people see in a browser: sign-in with SPID
// (or a local account), the personal page with the app passwords that
// network drives use, the managers' grants, and the archive itself —
// folders, the dossier catalogue's search, file pages, ZIP downloads,
// uploads, new folders, renames and deletions, the recycle bin and the
// earlier versions of files — which it reads and changes only through the
// archive service, putting the kind of each failure in words. Pages are in
// Italian, rendered on the server from embedded templates.
package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/drawing/dxf"
	"github.com/bassareggiana/faldone/gateway/days"
	"github.com/bassareggiana/faldone/gateway/grants"
	"github.com/bassareggiana/faldone/notify"
	"github.com/bassareggiana/faldone/signature"
	"github.com/bassareggiana/faldone/state"
)

//go:embed templates/*.html
var templateFS embed.FS

// static/bi is Bootstrap Italia and the SPID button's mark, from npm at
// the versions assets/package-lock.json pins.
//
//go:generate bash assets/update.sh
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
	// Once keeps, for a few minutes, what a page shows once after a
	// redirect: a new app password's secret, sealed (see created.go).
	Once interface {
		SaveFlow(ctx context.Context, key string, data []byte, expires time.Time) error
		TakeFlow(ctx context.Context, key string, now time.Time) ([]byte, error)
	}
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
	// WriteLevel is access.min_write_acr: a session it does not let write
	// may not make read-write app passwords either. The zero value sets no
	// minimum.
	WriteLevel access.WriteLevel
	// GrantRules makes and revokes grants, with the rules and the audit
	// the command line's grants have too.
	GrantRules *grants.Service
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
	// IndexStatus says how far the text index is, for the administrators'
	// page; nil: no such page.
	IndexStatus func(ctx context.Context) (state.IndexStatus, error)
	// AuditTarget is Audit with what the action was about (the fields a
	// record's edit changed).
	AuditTarget func(r *http.Request, person, method, path, target string, status int)
	// Policy is the authorization of a session's person, the same that
	// decides WebDAV requests.
	Policy func(ctx context.Context, s state.Session) (Decider, error)
	// Archive runs the pages' reads and changes of the archive, as the
	// session's person, as it runs WebDAV's.
	Archive *archive.Service
	// Previews, when set, renders the pages of scans, PDFs and pictures:
	// the viewer, the first page on a file's page, the folder pages'
	// thumbnails.
	Previews Previews
	// Locks, when set, tells who holds the WebDAV locks on the archive.
	Locks Locks
	// Dossiers, when set, keeps the closed dossiers: a folder's page says
	// that it is closed, and its managers may close it.
	Dossiers Dossiers
	// Catalogue, when set, is the dossier catalogue the search page
	// (/_/cerca) and every page's search box search.
	Catalogue *catalogue.Catalogue
	// Quota, when set, tells the space a Comune with a quota uses and has
	// left, for its page.
	Quota interface {
		Quota(p string) (used, available int64, ok bool)
	}
	// ZipConfirmAbove is the size above which a folder's ZIP is asked for
	// again before it starts; 0: 2 GiB.
	ZipConfirmAbove int64
	// DrawingLimits bound the previews of DXF drawings; zero fields take
	// dxf.DefaultLimits'.
	DrawingLimits dxf.Limits
	// Site is what every page says of the service.
	Site Site
	// Providers are the SPID identity providers listed under the SPID
	// button, and CIEHint the hint of CIE's, when the broker takes hints.
	Providers []Provider
	CIEHint   string
	// Location is the zone in which the pages show times and read the days
	// of the grant form (time_zone).
	Location *time.Location
	Log      *slog.Logger
	// Signatures verifies signed files; nil: against no trust store.
	Signatures *signature.Inspector
}

// Handler serves the pages.
type Handler struct {
	cfg   Config
	names map[string]string // the Comuni's names by their ids
	guide *guide
	tmpl  *template.Template
	mux   *http.ServeMux
	csp   string
	// static holds the pages' own files (styles, scripts, icons).
	static fs.FS
	// verdicts are the signed files' complete verdicts, kept a while.
	verdicts *reports
	// drawingSlots bounds the drawing previews drawn at once to one: each
	// holds a drawing in memory, up to its limits' worth (some 40 MiB at
	// the default limits), and the gateway's budget is 128 MiB under any
	// load. Another waits its turn, a second or so.
	drawingSlots chan struct{}
}

// New returns the pages' handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Location == nil {
		return nil, errors.New("web: no time zone")
	}
	if cfg.AuditTarget == nil && cfg.Audit != nil {
		audit := cfg.Audit
		cfg.AuditTarget = func(r *http.Request, person, method, p, _ string, status int) { audit(r, person, method, p, status) }
	}
	if cfg.Signatures == nil {
		cfg.Signatures = &signature.Inspector{}
	}
	if cfg.ZipConfirmAbove <= 0 {
		cfg.ZipConfirmAbove = 2 << 30
	}
	static, _ := fs.Sub(staticFS, "static")
	version, err := contentVersion(static)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // the Comuni's names by their ids
	for _, c := range cfg.Comuni {
		names[c.ID] = c.Name
	}
	funcs := template.FuncMap{
		// static names a file of the pages by its content, so browsers may
		// keep it until the next release changes it.
		"static": func(name string) string { return "/_/static/" + name + "?v=" + version },
		"date":   func(t time.Time) string { return dateText(t, cfg.Location) },
		"until":  func(t time.Time) string { return untilText(t, cfg.Location) },
		"join":   func(s []string) string { return strings.Join(s, ", ") },
		// dateIT writes an ISO date of a record as people write it: 05/03/2019.
		"dateIT": func(iso string) string {
			if t, err := time.Parse(time.DateOnly, iso); err == nil {
				return t.Format("02/01/2006")
			}
			return iso
		},
		"site": func() Site { return cfg.Site },
		// comuniNames writes Comuni's ids as their names: "Guastalla, Luzzara".
		"comuniNames": func(ids []string) string {
			shown := make([]string, len(ids))
			for i, id := range ids {
				shown[i] = cmp.Or(names[id], id)
			}
			return strings.Join(shown, ", ")
		},
		// searchable: the pages have the catalogue's search to offer.
		"searchable": func() bool { return cfg.Catalogue != nil },
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, tmpl: tmpl, mux: http.NewServeMux(), csp: contentPolicy(cfg.RP), names: names, static: static,
		verdicts: newReports(512), drawingSlots: make(chan struct{}, 1)}
	if h.guide, err = newGuide(); err != nil {
		return nil, err
	}
	gz, err := compressStatic(static)
	if err != nil {
		return nil, fmt.Errorf("web: compress the static files: %w", err)
	}
	h.mux.Handle("GET /_/static/", h.staticFiles(static, gz))
	h.mux.HandleFunc("GET /_/accessibilita", h.accessibility)
	h.mux.HandleFunc("GET /_/privacy", h.privacy)
	h.mux.HandleFunc("GET /_/guida/{$}", h.guidePage)
	h.mux.Handle("GET /_/guida/img/", h.guide.images)
	h.mux.HandleFunc("GET /_/accedi", h.signInPage)
	h.mux.HandleFunc("POST /_/accedi/locale", h.signInLocal)
	h.mux.HandleFunc("GET /_/accedi/spid", h.signInSPID)
	h.mux.HandleFunc("GET /_/accedi/ritorno", h.callback)
	h.mux.HandleFunc("POST /_/esci", h.signOut)
	h.mux.HandleFunc("GET /_/profilo", h.profile)
	h.mux.HandleFunc("POST /_/password", h.createPassword)
	h.mux.HandleFunc("GET "+createdPage, h.createdPassword)
	h.mux.HandleFunc("POST /_/password/revoca", h.revokePassword)
	h.mux.HandleFunc("GET /_/archivio/", h.archive)
	h.mux.HandleFunc("GET /_/cerca", h.searchPage)
	h.mux.HandleFunc("GET /_/zip/", h.zipFolder)
	h.mux.HandleFunc("GET /_/scheda/", h.details)
	h.mux.HandleFunc("GET /_/vista/", h.viewer)
	h.mux.HandleFunc("GET /_/pagina/", h.pageImage)
	h.mux.HandleFunc("GET /_/miniatura/", h.thumbnail)
	h.mux.HandleFunc("GET /_/originale/", h.original)
	h.mux.HandleFunc("GET /_/disegno/", h.drawingSVG)
	h.mux.HandleFunc("GET /_/fascicolo/", h.record)
	h.mux.HandleFunc("GET /_/indice", h.indexStatus)
	h.mux.HandleFunc("POST /_/fascicolo/", h.saveRecord)
	h.mux.HandleFunc("POST /_/carica/", h.upload)
	h.mux.HandleFunc("POST /_/modifica/", h.change)
	h.mux.HandleFunc("GET /_/cestino/", h.trash)
	h.mux.HandleFunc("POST /_/cestino/", h.trashChange)
	h.mux.HandleFunc("GET /_/versione/{id}", h.version)
	h.mux.HandleFunc("POST /_/versione/{id}", h.versionChange)
	h.mux.HandleFunc("GET /_/accessi", h.grantsPage)
	h.mux.HandleFunc("POST /_/accessi", h.createGrant)
	h.mux.HandleFunc("POST /_/accessi/revoca", h.revokeGrant)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.securityHeaders(w.Header())
	// Static files say how long they may be kept, once found.
	w.Header().Set("Cache-Control", "no-store")
	// Forms are small; uploads stream to the storage, bounded by its quota.
	if !strings.HasPrefix(r.URL.Path, "/_/carica/") {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	}
	r = withState(r)
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.unrouted(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// securityHeaders are the headers of every page.
func (h *Handler) securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
}

// contentPolicy is the pages' Content-Security-Policy. Forms post to the
// pages only; browsers apply form-action to the redirects that follow a
// post too, and signing out (a post) ends at the provider's end-session
// endpoint, whose origin is therefore allowed, and nothing else.
func contentPolicy(rp *oidc.RP) string {
	action := "'self'"
	if rp != nil {
		if o := rp.EndSessionOrigin(); o != "" {
			action += " " + o
		}
	}
	// Bootstrap Italia's sheet draws its small icons as data: images, and
	// carries one font as data: too.
	return "default-src 'self'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; form-action " + action
}

// dateText writes a moment as the pages do, in the zone of the people who
// read them: "25/11/2026 14:05".
func dateText(t time.Time, loc *time.Location) string { return t.In(loc).Format("02/01/2006 15:04") }

// untilText writes the last day of something valid up to a midnight in loc.
func untilText(t time.Time, loc *time.Location) string {
	return days.Last(t, loc).Format("02/01/2006")
}

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

// session returns the request's session, or sends the browser to sign in.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (state.Session, bool) {
	sess, err := h.cfg.Sessions.Load(r)
	if err == nil {
		remember(r, &sess)
		return sess, true
	}
	remember(r, nil)
	if !errors.Is(err, auth.ErrNoSession) {
		h.cfg.Log.Error("load session", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile. Riprova tra qualche minuto.")
		return state.Session{}, false
	}
	if scriptRequest(r) {
		// A script would follow a redirect to the sign-in page, see 200 and
		// take it for success: it gets the real answer. No Basic challenge,
		// which would make the browser ask for a password.
		w.Header().Set("WWW-Authenticate", `Session realm="Faldone"`)
		h.message(w, r, http.StatusUnauthorized, "Sessione scaduta", "La sessione è scaduta: accedi di nuovo.")
		return state.Session{}, false
	}
	signIn := "/_/accedi"
	if r.Method == http.MethodGet {
		signIn += "?dopo=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, signIn, http.StatusSeeOther)
	return state.Session{}, false
}

// scriptRequest reports whether a page's script, not a navigation, made the
// request: the pages' scripts say so, and browsers name the mode of every
// request they make.
func scriptRequest(r *http.Request) bool {
	mode := r.Header.Get("Sec-Fetch-Mode")
	return r.Header.Get("X-Requested-With") == "XMLHttpRequest" || (mode != "" && mode != "navigate")
}

// afterSignIn is where a sign-in that was asked to return to dopo ends: dopo
// when it is a path of this site, the personal page otherwise. Never
// another host, so that no link to the sign-in can send a person elsewhere
// once signed in (an open redirect): "//host", "/\host", schemes and
// control characters are refused.
func afterSignIn(dopo string) string {
	if p, ok := localPath(dopo); ok {
		return p
	}
	return "/_/profilo"
}

// localPath reports whether s is an absolute path of this site, with its
// query, that a signed-in person may be sent to.
func localPath(s string) (string, bool) {
	if len(s) < 1 || len(s) > 4096 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return "", false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// Back to the sign-in, or to signing out, would undo it. The server's
	// bare address, where people start, leads to the personal page as a
	// sign-in from nowhere does.
	if strings.HasPrefix(u.Path, "/_/accedi") || u.Path == "/_/esci" || s == "/" {
		return "", false
	}
	return s, true
}

// sessionForm is session for a form post: it also checks the CSRF token.
func (h *Handler) sessionForm(w http.ResponseWriter, r *http.Request) (state.Session, bool) {
	sess, ok := h.session(w, r)
	if !ok {
		return sess, false
	}
	if !auth.ValidCSRF(sess, r.PostFormValue("csrf")) {
		h.cfg.Log.Warn("form with a bad CSRF token", "path", r.URL.Path, "person", sess.Person)
		h.message(w, r, http.StatusForbidden, "Richiesta non valida", "La pagina è scaduta: ricaricala e riprova.")
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
	dopo := r.URL.Query().Get("dopo")
	_, err := h.cfg.Sessions.Load(r)
	if err == nil {
		http.Redirect(w, r, afterSignIn(dopo), http.StatusSeeOther)
		return
	}
	h.signInForm(w, r, http.StatusOK, "", errors.Is(err, auth.ErrSessionExpired))
}

// justSignedOut reports, once, whether the browser signed out a moment ago.
func justSignedOut(w http.ResponseWriter, r *http.Request) bool {
	if _, err := r.Cookie(signedOutCookie); err != nil {
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: signedOutCookie, Path: "/_/accedi", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return true
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request, status int, msg string, expired bool) {
	dopo := r.FormValue("dopo")
	if _, ok := localPath(dopo); !ok {
		dopo = ""
	}
	// Each button starts the sign-in at /_/accedi/spid, with the provider
	// chosen, if any, and the page to return to.
	start := func(hint string) string {
		q := url.Values{}
		if hint != "" {
			q.Set("idp", hint)
		}
		if dopo != "" {
			q.Set("dopo", dopo)
		}
		if len(q) == 0 {
			return "/_/accedi/spid"
		}
		return "/_/accedi/spid?" + q.Encode()
	}
	type choice struct{ Name, Href string }
	var spid, cie string
	var providers []choice
	if h.cfg.RP != nil {
		spid = start("")
		for _, p := range h.cfg.Providers {
			providers = append(providers, choice{p.Name, start(p.Hint)})
		}
		if h.cfg.CIEHint != "" {
			cie = start(h.cfg.CIEHint)
		}
	}
	// A failed local sign-in keeps its name, and its form open.
	user := ""
	if r.Method == http.MethodPost {
		user = strings.TrimSpace(r.PostFormValue("utente"))
		if len(user) > 200 {
			user = ""
		}
	}
	h.render(w, status, "accedi.html", struct {
		page
		SPID, CIE   string
		Providers   []choice
		Local       bool
		LocalTried  bool
		User        string
		Error, Dopo string
		Expired     bool
		SignedOut   bool
	}{page{Title: "Accedi", CSRF: preSessionCSRF(w, r)}, spid, cie, providers, h.cfg.Password != nil, r.Method == http.MethodPost, user, msg, dopo, expired,
		r.Method == http.MethodGet && justSignedOut(w, r)})
}

func (h *Handler) signInLocal(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Password == nil {
		h.notFound(w, r)
		return
	}
	c, err := r.Cookie(preCSRFCookie)
	// The double-submit token is checked as a session's is: present, and
	// equal in constant time.
	if err != nil || !auth.ValidCSRF(state.Session{CSRF: c.Value}, r.PostFormValue("csrf")) {
		h.signInForm(w, r, http.StatusForbidden, "La pagina è scaduta: riprova.", false)
		return
	}
	id, err := h.cfg.Password(r, r.PostFormValue("utente"), r.PostFormValue("parola"))
	switch {
	case errors.Is(err, auth.ErrThrottled):
		if retry, ok := auth.RetryAfter(err); ok {
			w.Header().Set("Retry-After", retry)
		}
		h.signInForm(w, r, http.StatusTooManyRequests, "Troppi tentativi non riusciti: riprova più tardi.", false)
		return
	case err != nil && !errors.Is(err, auth.ErrBadCredentials):
		// The state store did not answer: not the person's mistake.
		h.cfg.Log.Error("sign-in form: check the password", "err", err)
		w.Header().Set("Retry-After", "5")
		h.signInForm(w, r, http.StatusServiceUnavailable, "Il servizio non è al momento disponibile: riprova tra qualche istante.", false)
		return
	case err != nil || id.Method != "local":
		h.signInForm(w, r, http.StatusUnauthorized, "Nome utente o password non corretti.", false)
		return
	}
	if _, err := h.cfg.Sessions.Start(r.Context(), w, r, auth.Person{Key: id.Name, Display: id.Display}); err != nil {
		h.cfg.Log.Error("start session", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("signed in", "person", id.Name, "method", "local")
	http.Redirect(w, r, afterSignIn(r.PostFormValue("dopo")), http.StatusSeeOther)
}

func (h *Handler) signInSPID(w http.ResponseWriter, r *http.Request) {
	if h.cfg.RP == nil {
		h.notFound(w, r)
		return
	}
	hint, ok := h.hint(r.URL.Query().Get("idp"))
	if !ok {
		h.message(w, r, http.StatusBadRequest, "Gestore non disponibile", "Il gestore dell'identità scelto non è tra quelli di questo servizio: torna alla pagina di accesso e scegline un altro.")
		return
	}
	authURL, f, err := h.cfg.RP.Begin(r.Context(), hint)
	if err == nil {
		err = h.cfg.Flows.SaveFlow(r.Context(), f.State, f)
	}
	if err != nil {
		h.cfg.Log.Error("begin sign-in", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "L'accesso con SPID non è al momento disponibile.")
		return
	}
	// The page to return to travels with the state, in the browser that
	// will come back with it; it is checked again when used.
	value := f.State
	if dopo, ok := localPath(r.URL.Query().Get("dopo")); ok {
		value += "." + base64.RawURLEncoding.EncodeToString([]byte(dopo))
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: value, Path: "/_/accedi", MaxAge: int(FlowTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// hint returns the broker's hint of the provider a sign-in asked for: ""
// when none, and only one the pages offer.
func (h *Handler) hint(idp string) (string, bool) {
	if idp == "" {
		return "", true
	}
	if idp == h.cfg.CIEHint {
		return idp, true
	}
	for _, p := range h.cfg.Providers {
		if p.Hint == idp {
			return idp, true
		}
	}
	return "", false
}

// signedOutCookie tells the sign-in page that the browser has just signed
// out, for it to say so once.
const signedOutCookie = "faldone_uscito"

// signInCookie ties a sign-in to the browser that started it: it carries
// the flow's state, and the provider's answer is taken only from a browser
// that holds it. Without it, anyone could start a sign-in, finish it at the
// provider as himself, and send the answer's URL to someone else, whose
// browser would be signed in to his account (login CSRF). Lax, because the
// answer comes back as a top-level navigation from the provider's site.
const signInCookie = "faldone_accesso"

// FlowTTL bounds a sign-in at the provider, cookie and stored flow alike.
const FlowTTL = 10 * time.Minute

// startedHere reports whether the browser that brings the provider's
// answer is the one that started the sign-in with that state, and returns
// the page the sign-in should return to.
func startedHere(r *http.Request, st string) (dopo string, ok bool) {
	c, err := r.Cookie(signInCookie)
	if err != nil || st == "" {
		return "", false
	}
	cst, enc, _ := strings.Cut(c.Value, ".")
	if subtle.ConstantTimeCompare([]byte(cst), []byte(st)) != 1 {
		return "", false
	}
	b, _ := base64.RawURLEncoding.DecodeString(enc)
	return string(b), true
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	if h.cfg.RP == nil {
		h.notFound(w, r)
		return
	}
	q := r.URL.Query()
	dopo, ok := startedHere(r, q.Get("state"))
	if !ok {
		// The flow stays: the browser that started it may still bring it.
		h.cfg.Log.Warn("sign-in refused", "reason", "the answer comes to a browser that did not start the sign-in")
		h.message(w, r, http.StatusBadRequest, "Accesso non completato", "L'accesso non è stato avviato da questo browser, o è scaduto: riprova dalla pagina di accesso.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: "", Path: "/_/accedi", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		h.cfg.Log.Info("sign-in ended by the provider", "error", e)
		// The flow is used up either way.
		h.cfg.Flows.TakeFlow(r.Context(), q.Get("state"))
		h.message(w, r, http.StatusUnauthorized, "Accesso non completato", "L'accesso è stato annullato o rifiutato.")
		return
	}
	p, _, err := h.cfg.RP.Finish(r.Context(), h.cfg.Flows, q.Get("state"), q.Get("code"), q.Get("iss"))
	if err != nil {
		h.cfg.Log.Warn("sign-in refused", "reason", err)
		switch {
		case errors.Is(err, oidc.ErrACRTooLow):
			h.message(w, r, http.StatusForbidden, "Livello di sicurezza insufficiente", "Per accedere all'archivio serve un livello SPID più alto di quello usato.")
		case errors.Is(err, oidc.ErrNoFiscalNumber), errors.Is(err, oidc.ErrBadFiscalNumber):
			h.message(w, r, http.StatusForbidden, "Accesso non consentito", "L'identità digitale non ha fornito un codice fiscale valido.")
		default:
			h.message(w, r, http.StatusUnauthorized, "Accesso non completato", "L'accesso non è andato a buon fine: riprova dalla pagina di accesso.")
		}
		return
	}
	display := strings.TrimSpace(p.GivenName + " " + p.FamilyName)
	if display == "" {
		display = p.FiscalNumber
	}
	// The address is kept for the service's e-mails only when it is one;
	// a sign-in without one keeps the address known.
	email := ""
	if p.Email != "" {
		if email, err = notify.Address(p.Email); err != nil {
			h.cfg.Log.Warn("sign-in: the provider's e-mail claim is not an address, not kept", "person", p.FiscalNumber)
		}
	}
	if err := h.cfg.People.UpsertPerson(r.Context(), state.Person{Key: p.FiscalNumber, Display: display, Groups: p.Groups, LastSignIn: time.Now().UTC(), Email: email}); err != nil {
		h.cfg.Log.Error("record sign-in", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	if _, err := h.cfg.Sessions.Start(r.Context(), w, r, auth.Person{Key: p.FiscalNumber, Display: display, ACR: p.ACR, Issuer: p.Issuer}); err != nil {
		h.cfg.Log.Error("start session", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("signed in", "person", p.FiscalNumber, "method", "spid", "acr", p.ACR)
	http.Redirect(w, r, afterSignIn(dopo), http.StatusSeeOther)
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
	// The sign-in page, reached now or after the provider's logout, says
	// that it is done.
	http.SetCookie(w, &http.Cookie{Name: signedOutCookie, Value: "1", Path: "/_/accedi", MaxAge: int(FlowTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if h.cfg.RP != nil && sess.Issuer != "" {
		if u, ok := h.cfg.RP.EndSessionURL(absoluteURL(r, "/_/accedi")); ok {
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
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	level := ""
	if i := strings.LastIndex(sess.ACR, "/"); i >= 0 {
		level = sess.ACR[i+1:]
	}
	grants, err := h.cfg.Grants.Grants(r.Context(), state.GrantFilter{Person: sess.Person, Live: true, Now: time.Now()})
	if err != nil {
		h.unavailable(w, r, "list grants", err)
		return
	}
	manages, err := h.cfg.Manages(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, r, "roles", err)
		return
	}
	admin, err := h.admin(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, r, "roles", err)
		return
	}
	h.render(w, http.StatusOK, "profilo.html", struct {
		page
		Level       string
		Passwords   []state.AppPassword
		Grants      []state.Grant
		Manager     bool
		Admin       bool // manages every Comune: sees the text index's state
		Comuni      []Comune
		DefaultDays int
	}{page{Title: "Area personale", Session: &sess, CSRF: sess.CSRF}, level, list, grants, len(manages) > 0,
		admin && h.cfg.IndexStatus != nil, h.cfg.Comuni, int(h.cfg.DefaultExpiry / (24 * time.Hour))})
}

// admin reports whether person manages every Comune: an administrator.
func (h *Handler) admin(ctx context.Context, person string) (bool, error) {
	if h.cfg.Manages == nil {
		return false, nil
	}
	manages, err := h.cfg.Manages(ctx, person)
	return len(manages) >= len(h.cfg.Comuni), err
}

func (h *Handler) createPassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("giorni"))
	if err != nil || days < 1 || days > 730 {
		h.message(w, r, http.StatusBadRequest, "Dati non validi", "La scadenza deve essere tra 1 e 730 giorni.")
		return
	}
	write := r.PostFormValue("permessi") == "scrittura"
	// The session's own rule decides: a session that may not write (a level
	// below access.min_write_acr, or none known, as a local account's) may
	// not make a password that writes.
	if write && !h.cfg.WriteLevel.Allows(auth.SessionIdentity(sess)) {
		h.message(w, r, http.StatusForbidden, "Livello di sicurezza insufficiente", "Per creare una password che possa scrivere serve un accesso SPID di livello più alto.")
		return
	}
	var comuni []string
	for _, c := range r.PostForm["comune"] {
		if !h.knownComune(c) {
			h.message(w, r, http.StatusBadRequest, "Dati non validi", "Comune sconosciuto.")
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
		h.message(w, r, http.StatusBadRequest, "Password non creata", "Indica un nome per il dispositivo (al massimo 100 caratteri).")
		return
	}
	h.cfg.Log.Info("app password created", "person", sess.Person, "id", p.ID, "read_only", p.ReadOnly)
	h.showCreated(w, r, sess, created{Name: p.Name, Secret: secret})
}

func (h *Handler) revokePassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	id := r.PostFormValue("id")
	if err := h.cfg.Apps.Revoke(r.Context(), sess.Person, id); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			h.message(w, r, http.StatusNotFound, "Password non trovata", "La password è già stata revocata.")
			return
		}
		h.cfg.Log.Error("revoke app password", "err", err)
		h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile.")
		return
	}
	h.cfg.Log.Info("app password revoked", "person", sess.Person, "id", id)
	http.Redirect(w, r, "/_/profilo", http.StatusSeeOther)
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.cfg.Log.Error(what, "err", err)
	w.Header().Set("Retry-After", "5")
	h.message(w, r, http.StatusServiceUnavailable, "Servizio non disponibile", "Il servizio non è al momento disponibile. Riprova tra qualche minuto.")
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
		h.unavailable(w, r, "roles", err)
		return sess, nil, false
	}
	if len(comuni) == 0 {
		h.message(w, r, http.StatusForbidden, "Accesso non consentito", "Solo i responsabili di un Comune possono gestire gli accessi agli atti.")
		return sess, nil, false
	}
	return sess, comuni, true
}

// actor is the session's person as the access log records a change.
func (h *Handler) actor(r *http.Request, sess state.Session) grants.Actor {
	return grants.Actor{Person: sess.Person, Credential: "session", Client: audit.Client(r), RequestID: audit.RequestID(r.Context())}
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
