package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

func TestRestoreTarget(t *testing.T) {
	const orig = "/guastalla/2019/PC-2019-0042/domanda.pdf"
	for _, tt := range []struct {
		typed, want string
		ok          bool
	}{
		{"domanda-bis.pdf", "/guastalla/2019/PC-2019-0042/domanda-bis.pdf", true},
		{"  domanda-bis.pdf ", "/guastalla/2019/PC-2019-0042/domanda-bis.pdf", true},
		{"2020/altra.pdf", "/guastalla/2020/altra.pdf", true},
		{"/2020/altra.pdf", "/guastalla/2020/altra.pdf", true},
		{"/guastalla/2020/altra.pdf", "/guastalla/2020/altra.pdf", true},
		{"", "", false},
		{"..", "", false},
		{"../luzzara/x.pdf", "", false},
		{"2020//x.pdf", "", false},
		{"a\\b.pdf", "", false},
	} {
		got, ok := restoreTarget("/guastalla", orig, tt.typed)
		if ok != tt.ok || got != tt.want {
			t.Errorf("restoreTarget(%q) = %q, %v; want %q, %v", tt.typed, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFreeName(t *testing.T) {
	for _, tt := range []struct {
		rel  string
		dir  bool
		want string
	}{
		{"2019/PC-2019-0042/domanda.pdf", false, "2019/PC-2019-0042/domanda (ripristinato).pdf"},
		{"2019/PC-2019-0042", true, "2019/PC-2019-0042 (ripristinata)"},
		{"LEGGIMI", false, "LEGGIMI (ripristinato)"},
		{".bozza", false, ".bozza (ripristinato)"},
	} {
		if got := freeName(tt.rel, tt.dir); got != tt.want {
			t.Errorf("freeName(%q, %v) = %q, want %q", tt.rel, tt.dir, got, tt.want)
		}
	}
}

// roles decides as the access rules do for three people of guastalla: an
// editor writes and deletes files, a manager deletes folders whole too, a
// reader only reads.
type roles string

func (p roles) Decide(a access.Action, np string) access.Verdict {
	if np != "/guastalla" && !strings.HasPrefix(np, "/guastalla/") {
		return access.Hide
	}
	switch {
	case a == access.Read:
		return access.Allow
	case p == "lettore":
		return access.Deny
	case a == access.DeleteTree && p != "responsabile":
		return access.Deny
	}
	return access.Allow
}

// pages is a handler of the pages over a local archive with its recycle
// bin, and the access log it writes.
type pages struct {
	t        *testing.T
	store    *sqlite.Store
	h        *Handler
	svc      *archive.Service
	sessions *auth.Sessions
	audit    []string
}

// newPages makes the pages; each of opts may change their configuration
// first.
func newPages(t *testing.T, opts ...func(*pages, *Config)) *pages {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "guastalla", "2019", "PC-2019-0042"), 0o755)
	fs, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	p := &pages{t: t, store: st, svc: archive.New(fs, st, archive.Options{}), sessions: auth.NewSessions(st, time.Hour, 8*time.Hour)}
	cfg := Config{
		Sessions: p.sessions, Archive: p.svc, Location: rome, Log: slog.New(slog.DiscardHandler),
		Policy: func(_ context.Context, s state.Session) (Decider, error) { return roles(s.Person), nil },
		Audit: func(_ *http.Request, person, method, path string, status int) {
			p.audit = append(p.audit, person+" "+method+" "+path+" "+strconv.Itoa(status))
		},
	}
	for _, o := range opts {
		o(p, &cfg)
	}
	p.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// op is the archive as person, for the changes a drive would make.
func (p *pages) op(person string) *archive.Op {
	return p.svc.Begin(p.t.Context(), archive.Caller{Principal: person, From: "WebDAV 10.1.2.3", Policy: roles(person)})
}

func (p *pages) put(person, np, content string) {
	p.t.Helper()
	if _, _, err := p.op(person).Put(np, strings.NewReader(content), int64(len(content))); err != nil {
		p.t.Fatalf("put %s: %v", np, err)
	}
}

func (p *pages) read(np string) (string, bool) {
	obj, err := p.op("responsabile").Open(np, nil)
	if err != nil {
		return "", false
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return string(b), true
}

// person is a signed-in browser.
type person struct {
	p      *pages
	cookie *http.Cookie
	csrf   string
}

func (p *pages) signIn(key string) *person {
	p.t.Helper()
	rec := httptest.NewRecorder()
	sess, err := p.sessions.Start(p.t.Context(), rec, httptest.NewRequest("GET", "/_/accedi", nil), auth.Person{Key: key, Display: key})
	if err != nil {
		p.t.Fatal(err)
	}
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		p.t.Fatal("no session cookie")
	}
	return &person{p: p, cookie: cs[0], csrf: sess.CSRF}
}

func (b *person) do(method, target string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		form.Set("csrf", b.csrf)
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "10.9.8.7:4242"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	r.AddCookie(b.cookie)
	w := httptest.NewRecorder()
	b.p.h.ServeHTTP(w, r)
	return w
}

var keptIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// binIDs are the ids of the entries a page of the recycle bin shows.
func binIDs(body string) []string {
	var ids []string
	for _, m := range keptIDRE.FindAllStringSubmatch(body, -1) {
		if len(ids) == 0 || ids[len(ids)-1] != m[1] {
			ids = append(ids, m[1])
		}
	}
	return ids
}

const bin = "/_/cestino/guastalla/"

func TestTrashPage(t *testing.T) {
	p := newPages(t)
	const file = "/guastalla/2019/PC-2019-0042/domanda.pdf"
	p.put("editore", file, "%PDF domanda")
	if err := p.op("editore").Delete(file); err != nil {
		t.Fatal(err)
	}
	ed := p.signIn("editore")

	w := ed.do("GET", bin, nil, nil)
	body := w.Body.String()
	ids := binIDs(body)
	if w.Code != 200 || len(ids) != 1 || !strings.Contains(body, "domanda.pdf") || !strings.Contains(body, "WebDAV 10.1.2.3") || !strings.Contains(body, "editore") {
		t.Fatalf("the bin: %d, entries %v\n%s", w.Code, ids, body)
	}
	if strings.Contains(body, "Elimina definitivamente") {
		t.Error("an editor is offered to purge")
	}
	id := ids[0]
	// A deleted file downloads from the bin, to look before restoring.
	if !strings.Contains(body, `href="/_/versione/`+id+`"`) {
		t.Error("the bin offers no download of the deleted file")
	}
	if w := ed.do("GET", "/_/versione/"+id, nil, nil); w.Code != http.StatusOK || w.Body.String() != "%PDF domanda" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download from the bin: %d %q %v", w.Code, w.Body.String(), w.Header())
	}

	t.Run("who may see it", func(t *testing.T) {
		for _, tt := range []struct {
			who, target string
			want        int
		}{
			{"lettore", bin, http.StatusForbidden},
			{"editore", "/_/cestino/luzzara/", http.StatusForbidden},
			{"editore", "/_/cestino/guastalla/2019/", http.StatusNotFound},
		} {
			if w := p.signIn(tt.who).do("GET", tt.target, nil, nil); w.Code != tt.want {
				t.Errorf("%s GET %s: %d, want %d", tt.who, tt.target, w.Code, tt.want)
			}
		}
		w := p.signIn("responsabile").do("GET", bin, nil, nil)
		if !strings.Contains(w.Body.String(), "Elimina definitivamente") {
			t.Error("a manager is not offered to purge")
		}
	})

	t.Run("refused actions", func(t *testing.T) {
		for _, tt := range []struct {
			who  string
			form url.Values
			want int
		}{
			{"editore", url.Values{"id": {"NESSUNO"}, "azione": {"ripristina"}}, http.StatusNotFound},
			{"editore", url.Values{"id": {id}, "azione": {"elimina"}}, http.StatusForbidden},
			{"lettore", url.Values{"id": {id}, "azione": {"ripristina"}}, http.StatusForbidden},
			{"editore", url.Values{"id": {id}, "azione": {"ripristina-come"}, "come": {"../luzzara/x.pdf"}}, http.StatusBadRequest},
			{"editore", url.Values{"id": {id}, "azione": {"boh"}}, http.StatusBadRequest},
		} {
			if w := p.signIn(tt.who).do("POST", bin, tt.form, nil); w.Code != tt.want {
				t.Errorf("%s %v: %d, want %d", tt.who, tt.form, w.Code, tt.want)
			}
		}
		ed2 := *ed
		ed2.csrf = "sbagliato"
		if w := ed2.do("POST", bin, url.Values{"id": {id}, "azione": {"ripristina"}}, nil); w.Code != http.StatusForbidden {
			t.Errorf("a bad CSRF token: %d", w.Code)
		}
		if _, ok := p.read(file); ok {
			t.Error("a refused action restored the file")
		}
	})

	// Restored at its place, with its bytes; the access log has it.
	w = ed.do("POST", bin, url.Values{"id": {id}, "azione": {"ripristina"}}, nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), bin+"?") {
		t.Fatalf("restore: %d → %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if got, ok := p.read(file); !ok || got != "%PDF domanda" {
		t.Fatalf("restored: %q, %v", got, ok)
	}
	if last := p.audit[len(p.audit)-1]; last != "editore RESTORE "+file+" 201" {
		t.Errorf("access log: %q", last)
	}
	after := ed.do("GET", w.Header().Get("Location"), nil, nil).Body.String()
	if len(binIDs(after)) != 0 || !strings.Contains(after, `id="ripristinato"`) || !strings.Contains(after, "2019/PC-2019-0042/domanda.pdf") {
		t.Errorf("the bin after the restore:\n%s", after)
	}

	// Deleted again, and its name taken by another file moved there (a
	// file written there at once would be a save, of which the deleted one
	// is a version): a plain restore asks for a new name, and replaces
	// nothing.
	if err := p.op("editore").Delete(file); err != nil {
		t.Fatal(err)
	}
	p.put("editore", "/guastalla/2019/PC-2019-0042/nuova.pdf", "%PDF nuova")
	if _, err := p.op("editore").Move("/guastalla/2019/PC-2019-0042/nuova.pdf", file, false); err != nil {
		t.Fatal(err)
	}
	id = binIDs(ed.do("GET", bin, nil, nil).Body.String())[0]
	w = ed.do("POST", bin, url.Values{"id": {id}, "azione": {"ripristina"}}, nil)
	body = w.Body.String()
	if w.Code != http.StatusConflict || !strings.Contains(body, `id="errore"`) || !strings.Contains(body, "domanda (ripristinato).pdf") || !strings.Contains(body, " open>") {
		t.Fatalf("restore over a new file: %d\n%s", w.Code, body)
	}
	if got, _ := p.read(file); got != "%PDF nuova" {
		t.Fatalf("the new file was replaced: %q", got)
	}
	if last := p.audit[len(p.audit)-1]; last != "editore RESTORE "+file+" 412" {
		t.Errorf("access log: %q", last)
	}
	w = ed.do("POST", bin, url.Values{"id": {id}, "azione": {"ripristina-come"}, "come": {"domanda-prima.pdf"}}, nil)
	if got, ok := p.read("/guastalla/2019/PC-2019-0042/domanda-prima.pdf"); w.Code != http.StatusSeeOther || got != "%PDF domanda" {
		t.Fatalf("restore as another name: %d, %q, %v", w.Code, got, ok)
	}

	// A manager purges; nothing is left to restore.
	if err := p.op("editore").Delete(file); err != nil {
		t.Fatal(err)
	}
	id = binIDs(ed.do("GET", bin, nil, nil).Body.String())[0]
	boss := p.signIn("responsabile")
	if w := boss.do("POST", bin, url.Values{"id": {id}, "azione": {"elimina"}}, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("purge: %d\n%s", w.Code, w.Body)
	}
	if last := p.audit[len(p.audit)-1]; last != "responsabile PURGE "+file+" 204" {
		t.Errorf("access log: %q", last)
	}
	if w := ed.do("POST", bin, url.Values{"id": {id}, "azione": {"ripristina"}}, nil); w.Code != http.StatusNotFound {
		t.Errorf("restore of a purged entry: %d", w.Code)
	}
}

var versionRE = regexp.MustCompile(`href="/_/versione/([^"]+)" download`)

func TestVersionsOnTheFilePage(t *testing.T) {
	p := newPages(t)
	const file = "/guastalla/2019/PC-2019-0042/relazione.txt"
	const scheda = "/_/scheda" + file
	p.put("editore", file, "prima stesura")
	p.put("editore", file, "seconda stesura, più lunga")
	ed := p.signIn("editore")

	body := ed.do("GET", scheda, nil, nil).Body.String()
	ids := versionRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 1 || !strings.Contains(body, "Ripristina come versione corrente") {
		t.Fatalf("the file's page: %d versions\n%s", len(ids), body)
	}
	id := ids[0][1]
	if rd := p.signIn("lettore").do("GET", scheda, nil, nil).Body.String(); !strings.Contains(rd, "/_/versione/"+id) || strings.Contains(rd, "Ripristina come versione corrente") {
		t.Errorf("a reader sees the versions to download, and no restore:\n%s", rd)
	}

	for _, tt := range []struct {
		name, rng string
		code      int
		body      string
	}{
		{"whole", "", 200, "prima stesura"},
		{"a range", "bytes=6-12", 206, "stesura"},
		{"a suffix", "bytes=-4", 206, "sura"},
	} {
		t.Run("download "+tt.name, func(t *testing.T) {
			w := ed.do("GET", "/_/versione/"+id, nil, map[string]string{"Range": tt.rng})
			if w.Code != tt.code || w.Body.String() != tt.body {
				t.Errorf("%d %q, want %d %q", w.Code, w.Body, tt.code, tt.body)
			}
			if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="relazione.txt"`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if w := ed.do("GET", "/_/versione/"+id, nil, map[string]string{"Range": "bytes=100-"}); w.Code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("a range past the end: %d", w.Code)
	}
	if w := ed.do("GET", "/_/versione/NESSUNA", nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("an unknown version: %d", w.Code)
	}

	// Restored beside it under a name taken: asked again, nothing replaced.
	p.put("editore", "/guastalla/2019/PC-2019-0042/altra.txt", "altro")
	w := ed.do("POST", "/_/versione/"+id, url.Values{"azione": {"ripristina-come"}, "nome": {"altra.txt"}}, nil)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `id="errore-versione"`) {
		t.Errorf("restore as a name taken: %d\n%s", w.Code, w.Body)
	}
	if got, _ := p.read("/guastalla/2019/PC-2019-0042/altra.txt"); got != "altro" {
		t.Errorf("the file there was replaced: %q", got)
	}
	if w := p.signIn("lettore").do("POST", "/_/versione/"+id, url.Values{"azione": {"ripristina"}}, nil); w.Code != http.StatusForbidden {
		t.Errorf("a reader's restore: %d", w.Code)
	}

	// Restored as the current content: the current one is a version now.
	w = ed.do("POST", "/_/versione/"+id, url.Values{"azione": {"ripristina"}}, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != scheda {
		t.Fatalf("restore: %d → %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if got, _ := p.read(file); got != "prima stesura" {
		t.Errorf("after the restore the file holds %q", got)
	}
	if last := p.audit[len(p.audit)-1]; last != "editore RESTORE "+file+" 204" {
		t.Errorf("access log: %q", last)
	}
	ids = versionRE.FindAllStringSubmatch(ed.do("GET", scheda, nil, nil).Body.String(), -1)
	if len(ids) != 1 {
		t.Fatalf("versions after the restore: %d", len(ids))
	}
	if got := ed.do("GET", "/_/versione/"+ids[0][1], nil, nil).Body.String(); got != "seconda stesura, più lunga" {
		t.Errorf("the version after the restore holds %q", got)
	}

	// In a closed dossier nothing is restored, and the page says why.
	if _, err := p.svc.CloseDossier(t.Context(), p.store, "/guastalla/2019/PC-2019-0042", "responsabile", "Fine lavori"); err != nil {
		t.Fatal(err)
	}
	w = ed.do("POST", "/_/versione/"+ids[0][1], url.Values{"azione": {"ripristina"}}, nil)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Fascicolo chiuso il") {
		t.Errorf("restore in a closed dossier: %d\n%s", w.Code, w.Body)
	}
	if got, _ := p.read(file); got != "prima stesura" {
		t.Errorf("the closed dossier's file changed: %q", got)
	}
}
