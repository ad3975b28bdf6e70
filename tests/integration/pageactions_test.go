package integration

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pageSession is a browser's session on the pages, without a browser.
type pageSession struct {
	t    *testing.T
	base string
	c    *http.Client
}

// signInPages signs user in through the local-account form.
func signInPages(t *testing.T, g *harness.Gateway, user, pass string) *pageSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &pageSession{t: t, base: g.URL, c: &http.Client{Jar: jar}}
	_, page := s.get("/_/accedi")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	if code, body := s.post("/_/accedi/locale", url.Values{"csrf": {m[1]}, "utente": {user}, "parola": {pass}}); code != http.StatusOK {
		t.Fatalf("sign-in of %s: %d\n%.300s", user, code, body)
	}
	return s
}

func (s *pageSession) get(p string) (int, string) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + p)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func (s *pageSession) post(p string, form url.Values) (int, string) {
	s.t.Helper()
	resp, err := s.c.PostForm(s.base+p, form)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// change sends one of the folder page's forms for the resource p.
func (s *pageSession) change(folder, p string, form url.Values) (int, string) {
	s.t.Helper()
	_, page := s.get("/_/archivio" + folder + "/")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no CSRF token on the page of %s", folder)
	}
	form.Set("csrf", m[1])
	return s.post("/_/modifica"+p, form)
}

// TestPageActionFailures: a page action that fails says why in Italian,
// from the kind of error the archive service gave: a name in use, a lock
// and who holds it, no right, storage that does not answer.
func TestPageActionFailures(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, s3Yaml(srv, `s3:
  request_timeout: 2s
  stall_timeout: 2s
access:
  admins: [operatore, tecnico]
  assignments:
    - {person: lettore, comune: guastalla, role: reader}
`))
	g.AddUser("tecnico", "tecnico-Pw-42")
	g.AddUser("lettore", "lettore-Pw-42")
	mustStatus(t, g, "MKCOL", "/guastalla/pratica", nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/pratica/domanda.pdf", nil, "domanda", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/pratica/relazione.pdf", nil, "relazione", http.StatusCreated)
	tecnico := g.As("tecnico", "tecnico-Pw-42")
	mustStatus(t, tecnico, "LOCK", "/guastalla/pratica/domanda.pdf", nil,
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, http.StatusOK)

	op := signInPages(t, g, g.User, g.Pass)
	for _, tc := range []struct {
		name       string
		s          *pageSession
		folder, p  string
		form       url.Values
		code       int
		title, why string
	}{
		{"name in use", op, "/guastalla", "/guastalla", url.Values{"azione": {"cartella"}, "nome": {"pratica"}},
			http.StatusConflict, "Nome già usato", "Esiste già"},
		{"rename onto a name in use", op, "/guastalla/pratica", "/guastalla/pratica/relazione.pdf", url.Values{"azione": {"rinomina"}, "nome": {"domanda.pdf"}},
			http.StatusConflict, "Nome già usato", "Esiste già"},
		{"locked by another person", op, "/guastalla/pratica", "/guastalla/pratica/domanda.pdf", url.Values{"azione": {"elimina"}},
			http.StatusLocked, "File in uso", "bloccato da tecnico"},
		{"no right", signInPages(t, g, "lettore", "lettore-Pw-42"), "/guastalla/pratica", "/guastalla/pratica/domanda.pdf", url.Values{"azione": {"elimina"}},
			http.StatusForbidden, "Operazione non consentita", "Non puoi"},
	} {
		code, body := tc.s.change(tc.folder, tc.p, tc.form)
		if code != tc.code || !strings.Contains(body, tc.title) || !strings.Contains(body, tc.why) {
			t.Errorf("%s: %d, want %d saying %q and %q:\n%.600s", tc.name, code, tc.code, tc.title, tc.why, body)
		}
	}

	// The storage does not answer: the page says so, and to try again.
	_, page := op.get("/_/archivio/guastalla/")
	m := csrfField.FindStringSubmatch(page)
	srv.Freeze(t)
	code, body := op.post("/_/modifica/guastalla", url.Values{"csrf": {m[1]}, "azione": {"cartella"}, "nome": {"nuova"}})
	srv.Thaw(t)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Servizio non disponibile") || !strings.Contains(body, "riprova") {
		t.Errorf("new folder with the storage frozen: %d:\n%.600s", code, body)
	}
	if strings.Contains(body, "context") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("the page shows the error: %.300s", body)
	}
	// Every action is in the access log with the status a drive would get,
	// once the records are shipped to the store (in the background).
	wants := []string{"MKCOL,/guastalla/pratica,,guastalla,405", "DELETE,/guastalla/pratica/domanda.pdf,,guastalla,423", "MKCOL,/guastalla/nuova,,guastalla,503"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := faldone(t, "", "audit", "--csv", "--config", g.ConfigFile(), "--data", g.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		missing := slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(out, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the access log has no %q:\n%s", missing, out)
		}
	}
}
