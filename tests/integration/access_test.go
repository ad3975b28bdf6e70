package integration

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
	"github.com/bassareggiana/faldone/tests/harness"
)

// The people of the access tests: local accounts, so that no provider is
// needed. Grantees are named by fiscal numbers, as people who sign in with
// SPID are.
const (
	grantAttivo    = "TCNATV80A01H223A" // read grant, active
	grantScaduto   = "TCNSCD80A01H223B" // read grant, expired
	grantRevocato  = "TCNRVC80A01H223C" // read grant, revoked
	grantScrittura = "TCNSCR80A01H223D" // write grant, active
	luzzarese      = "LZZRSE80A01E253E" // editor in Luzzara with a read grant in Guastalla
)

const (
	ownDir   = "/guastalla/2020"
	otherDir = "/luzzara/2020"
	grantDir = "/guastalla/2019/PC-2019-0001"
)

type world struct {
	g     *harness.Gateway
	admin *harness.Gateway
	who   map[string]*harness.Gateway
}

func pw(name string) string { return "password-" + strings.ToLower(name) + "-42" }

// accessWorld starts a gateway with readers, editors, a manager, a person
// with no role, and grantees whose grants are active, expired, revoked or
// give writing, over a small archive.
func accessWorld(t *testing.T) *world {
	t.Helper()
	yaml := fmt.Sprintf(`access:
  admins: [operatore]
  assignments:
    - {person: lettore, comune: guastalla, role: reader}
    - {person: editore, comune: guastalla, role: editor}
    - {person: responsabile, comune: guastalla, role: manager}
    - {person: %s, comune: luzzara, role: editor}
`, luzzarese)
	g := harness.StartServe(t, yaml)
	w := &world{g: g, admin: g, who: map[string]*harness.Gateway{}}
	for _, name := range []string{"lettore", "editore", "responsabile", "ospite", grantAttivo, grantScaduto, grantRevocato, grantScrittura, luzzarese} {
		if out, err := faldone(t, pw(name)+"\n", "user", "add", name, "--data", g.DataDir); err != nil {
			t.Fatalf("user add %s: %v\n%s", name, err, out)
		}
		w.who[name] = g.As(name, pw(name))
	}
	for _, d := range []string{"/guastalla/2019", grantDir, "/guastalla/2019/PC-2019-0002", ownDir, otherDir} {
		mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	}
	for _, f := range []string{grantDir + "/tavola.pdf", "/guastalla/2019/PC-2019-0002/riservato.pdf", ownDir + "/a.pdf", otherDir + "/b.pdf"} {
		mustStatus(t, g, "PUT", f, nil, "contenuto di "+f, http.StatusCreated)
	}
	until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	for _, gr := range []struct {
		person string
		write  bool
	}{{grantAttivo, false}, {grantRevocato, false}, {grantScrittura, true}, {luzzarese, false}} {
		args := []string{"grant", "add", "--person", gr.person, "--path", grantDir, "--until", until, "--reason", "Prot. 4242/2026", "--data", g.DataDir}
		if gr.write {
			args = append(args, "--write")
		}
		out, err := faldone(t, "", args...)
		if err != nil {
			t.Fatalf("grant add: %v\n%s", err, out)
		}
		if gr.person == grantRevocato {
			id := strings.TrimSuffix(strings.Fields(out)[1], ":")
			if out, err := faldone(t, "", "grant", "revoke", id, "--data", g.DataDir); err != nil {
				t.Fatalf("grant revoke: %v\n%s", err, out)
			}
		}
	}
	// Grants made and revoked on the command line are in the access log.
	if out, err := faldone(t, "", "audit", "--person", "cli", "--data", g.DataDir); err != nil || strings.Count(out, "GRANT") != 4 || strings.Count(out, "REVOKE") != 1 {
		t.Fatalf("the command line's grants in the audit log: %v\n%s", err, out)
	}
	// An expired grant cannot be made from the command line: write it to
	// the store as if it had been made a month ago.
	st, err := sqlite.Open(context.Background(), filepath.Join(g.DataDir, "faldone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	past := time.Now().Add(-24 * time.Hour).UTC()
	if err := st.CreateGrant(context.Background(), state.Grant{ID: "g-scaduta", Person: grantScaduto, Path: grantDir, Comune: "guastalla",
		Reason: "Prot. 1/2026", GrantedBy: "test", Created: past.AddDate(0, -1, 0), Expires: past}); err != nil {
		t.Fatal(err)
	}
	return w
}

func mustStatus(t *testing.T, g *harness.Gateway, method, path string, h map[string]string, body string, want int) {
	t.Helper()
	if code, resp, _ := g.Status(method, path, h, body); code != want {
		t.Fatalf("%s %s = %d, want %d\n%s", method, path, code, want, resp)
	}
}

// capability is what a person may do in one place.
type capability int

const (
	capNone capability = iota
	capReader
	capGrantRO
	capEditor
	capGrantRW
	capManager
)

// op is one request of the matrix, run in a folder where a fresh file and
// a fresh subfolder were made for it.
type op struct {
	name string
	// do sends the request as g; dir is the place, tag makes names unique.
	do func(g *harness.Gateway, dir, tag string) (int, http.Header)
	// ok is the status on success; need is the least capability needed.
	ok    int
	need  func(capability) bool
	write bool
}

func TestPermissionMatrix(t *testing.T) {
	w := accessWorld(t)
	lockBody := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
	reads := func(c capability) bool { return c != capNone }
	edits := func(c capability) bool { return c == capEditor || c == capGrantRW || c == capManager }
	copies := func(c capability) bool { return c == capReader || edits(c) }
	manages := func(c capability) bool { return c == capManager }
	send := func(g *harness.Gateway, method, path string, h map[string]string, body string) (int, http.Header) {
		code, _, hd := g.Status(method, path, h, body)
		return code, hd
	}
	ops := []op{
		{"GET", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "GET", d+"/f-"+tag+".pdf", nil, "")
		}, 200, reads, false},
		{"PROPFIND", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "PROPFIND", d+"/", map[string]string{"Depth": "1"}, "")
		}, 207, reads, false},
		{"PUT overwrite", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "PUT", d+"/f-"+tag+".pdf", nil, "nuovo")
		}, 204, edits, true},
		{"PUT new", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "PUT", d+"/nuovo-"+tag+".pdf", nil, "nuovo")
		}, 201, edits, true},
		{"MKCOL", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "MKCOL", d+"/cartella-"+tag, nil, "")
		}, 201, edits, true},
		{"PROPPATCH", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "PROPPATCH", d+"/f-"+tag+".pdf", nil, win32Props)
		}, 207, edits, true},
		{"LOCK", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "LOCK", d+"/f-"+tag+".pdf", map[string]string{"Timeout": "Second-60"}, lockBody)
		}, 200, edits, true},
		{"COPY", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "COPY", d+"/f-"+tag+".pdf", map[string]string{"Destination": d + "/copia-" + tag + ".pdf"}, "")
		}, 201, func(c capability) bool { return copies(c) && edits(c) }, true},
		{"MOVE", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "MOVE", d+"/f-"+tag+".pdf", map[string]string{"Destination": d + "/spostato-" + tag + ".pdf"}, "")
		}, 201, edits, true},
		{"DELETE file", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "DELETE", d+"/f-"+tag+".pdf", nil, "")
		}, 204, edits, true},
		{"DELETE folder", func(g *harness.Gateway, d, tag string) (int, http.Header) {
			return send(g, "DELETE", d+"/c-"+tag, nil, "")
		}, 204, manages, true},
	}
	// Where each person stands in each place.
	caps := map[string]map[string]capability{
		"lettore":      {ownDir: capReader, grantDir: capReader},
		"editore":      {ownDir: capEditor, grantDir: capEditor},
		"responsabile": {ownDir: capManager, grantDir: capManager},
		"operatore":    {ownDir: capManager, grantDir: capManager, otherDir: capManager},
		"ospite":       {},
		grantAttivo:    {grantDir: capGrantRO},
		grantScaduto:   {},
		grantRevocato:  {},
		grantScrittura: {grantDir: capGrantRW},
	}
	people := []string{"lettore", "editore", "responsabile", "operatore", "ospite", grantAttivo, grantScaduto, grantRevocato, grantScrittura}
	type sent struct {
		id, person string
		status     int
	}
	var log []sent
	start := time.Now().Add(-time.Second)
	n := 0
	for _, person := range people {
		g := w.who[person]
		if person == "operatore" {
			g = w.admin
		}
		for _, dir := range []string{ownDir, otherDir, grantDir} {
			c := caps[person][dir]
			for _, o := range ops {
				n++
				tag := strconv.Itoa(n)
				// A fresh file and folder for this cell, made by the administrator.
				mustStatus(t, w.admin, "PUT", dir+"/f-"+tag+".pdf", nil, "file "+tag, http.StatusCreated)
				mustStatus(t, w.admin, "MKCOL", dir+"/c-"+tag, nil, "", http.StatusCreated)
				mustStatus(t, w.admin, "PUT", dir+"/c-"+tag+"/dentro.pdf", nil, "dentro", http.StatusCreated)
				before := treeDigest(t, filepath.Join(w.g.DataDir, "archivio"))
				code, hd := o.do(g, dir, tag)
				want := o.ok
				if !o.need(c) {
					want = http.StatusForbidden
					if c == capNone {
						want = http.StatusNotFound
					}
				}
				if code != want {
					t.Errorf("%s %s in %s (%v): %d, want %d", person, o.name, dir, c, code, want)
				}
				if o.write && want >= 400 {
					if after := treeDigest(t, filepath.Join(w.g.DataDir, "archivio")); after != before {
						t.Errorf("%s %s in %s was refused but changed storage", person, o.name, dir)
					}
				}
				who := person
				log = append(log, sent{hd.Get("X-Request-Id"), who, code})
			}
		}
	}
	// Every request of the matrix is in the audit log once, with its person
	// and status.
	time.Sleep(1500 * time.Millisecond) // the auditor writes in batches every 500 ms
	out, err := faldone(t, "", "audit", "--since", start.UTC().Format(time.RFC3339), "--csv", "--data", w.g.DataDir)
	if err != nil {
		t.Fatalf("faldone audit: %v\n%s", err, out)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][1] != "request_id" {
		t.Fatalf("audit CSV: %v\n%.500s", err, out)
	}
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		if _, dup := byID[r[1]]; dup {
			t.Errorf("request %s recorded twice", r[1])
		}
		byID[r[1]] = r
	}
	for _, s := range log {
		r, ok := byID[s.id]
		if !ok {
			t.Errorf("request %s (%s, %d) not in the audit log", s.id, s.person, s.status)
			continue
		}
		if r[2] != s.person || r[9] != strconv.Itoa(s.status) {
			t.Errorf("audit of %s: person %q status %s, want %q %d", s.id, r[2], r[9], s.person, s.status)
		}
	}
	// The --comune filter keeps Luzzara's records out of Guastalla's.
	out, err = faldone(t, "", "audit", "--comune", "guastalla", "--since", start.UTC().Format("2006-01-02"), "--data", w.g.DataDir)
	if err != nil || !strings.Contains(out, grantDir) || strings.Contains(out, otherDir) {
		t.Errorf("audit --comune guastalla: %v\n%.300s", err, out)
	}
}

// TestAccessAttacks: each attempt is refused and changes nothing.
func TestAccessAttacks(t *testing.T) {
	w := accessWorld(t)
	archive := filepath.Join(w.g.DataDir, "archivio")
	ed, tecnico, luz := w.who["editore"], w.who[grantAttivo], w.who[luzzarese]
	tests := []struct {
		name   string
		g      *harness.Gateway
		method string
		target string
		header map[string]string
		want   int
	}{
		{"Comune in upper case", ed, "PUT", "/GUASTALLA/2020/x.pdf", nil, 404},
		{"Comune in mixed case", ed, "GET", "/Guastalla/2020/a.pdf", nil, 404},
		{"dot-dot out of the own Comune", ed, "PUT", "/guastalla/../luzzara/2020/x.pdf", nil, 400},
		{"encoded dot-dot", ed, "DELETE", "/guastalla/%2e%2e/luzzara/2020/b.pdf", nil, 400},
		{"encoded slash", ed, "PUT", "/guastalla%2f..%2fluzzara/2020/x.pdf", nil, 400},
		{"double slash", ed, "DELETE", "/luzzara//2020/b.pdf", nil, 400},
		{"COPY into a Comune without rights", ed, "COPY", "/guastalla/2020/a.pdf", map[string]string{"Destination": "/luzzara/2020/a.pdf"}, 404},
		{"MOVE into a Comune without rights", ed, "MOVE", "/guastalla/2020/a.pdf", map[string]string{"Destination": "/luzzara/2020/a.pdf"}, 404},
		{"Destination on a foreign host", ed, "COPY", "/guastalla/2020/a.pdf", map[string]string{"Destination": "http://altro.example/guastalla/2020/z.pdf"}, 502},
		{"COPY out of a read-only grant into the own Comune", luz, "COPY", grantDir + "/tavola.pdf", map[string]string{"Destination": "/luzzara/2020/tavola.pdf"}, 403},
		{"grantee writes beside the grant", tecnico, "PUT", "/guastalla/2019/PC-2019-0002/x.pdf", nil, 404},
		{"grantee deletes the parent on the way", tecnico, "DELETE", "/guastalla/2019", nil, 403},
		{"grantee moves the granted dossier out", w.who[grantScrittura], "MOVE", grantDir, map[string]string{"Destination": "/guastalla/2019/altrove"}, 404},
		{"grantee deletes the granted dossier", w.who[grantScrittura], "DELETE", grantDir, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := treeDigest(t, archive)
			if got := rawRequest(t, tt.g, tt.method, tt.target, tt.header, "x"); got != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.target, got, tt.want)
			}
			if after := treeDigest(t, archive); after != before {
				t.Errorf("storage changed")
			}
		})
	}

	// Listings leak no names beyond the allowed ones.
	leaks := []struct {
		path      string
		want, not []string
	}{
		{"/", []string{"/guastalla/"}, []string{"/luzzara/", "/boretto/"}},
		{"/guastalla/", []string{"/guastalla/2019/"}, []string{"/guastalla/2020/"}},
		{"/guastalla/2019/", []string{grantDir + "/"}, []string{"PC-2019-0002"}},
	}
	web := harness.NewBrowser(t, w.g)
	web.SignIn(grantAttivo, pw(grantAttivo))
	for _, l := range leaks {
		code, body, _ := tecnico.Status("PROPFIND", l.path, map[string]string{"Depth": "1"}, "")
		if code != 207 {
			t.Errorf("grantee PROPFIND %s: %d", l.path, code)
		}
		_, page := web.Get("/_/archivio" + l.path)
		for _, s := range l.want {
			if !strings.Contains(body, "<href>"+s+"</href>") || !strings.Contains(page, strings.Trim(s, "/")+"/") {
				t.Errorf("grantee PROPFIND or archive page of %s misses %s", l.path, s)
			}
		}
		for _, s := range l.not {
			if strings.Contains(body, s) || strings.Contains(page, strings.Trim(s, "/")) {
				t.Errorf("grantee listing of %s shows %s", l.path, s)
			}
		}
	}
	if code, body, _ := w.who["ospite"].Status("PROPFIND", "/", map[string]string{"Depth": "1"}, ""); code != 207 || strings.Count(body, "<response>") != 1 {
		t.Errorf("a person without rights sees more than the root: %d\n%s", code, body)
	}
}

// TestCredentialScope: an app password's scope narrows the person's rights
// and never widens them.
func TestCredentialScope(t *testing.T) {
	w := accessWorld(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(w.g.DataDir, "faldone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keyHex, err := os.ReadFile(filepath.Join(w.g.DataDir, "faldone.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(keyHex)))
	if err != nil {
		t.Fatal(err)
	}
	apps, err := auth.NewAppPasswords(st, key, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(owner string, n auth.NewAppPassword) *harness.Gateway {
		n.Owner, n.Name, n.Expires = owner, "test", time.Now().Add(time.Hour)
		secret, _, err := apps.Create(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		return w.g.As(owner, secret)
	}
	readOnly := mk("editore", auth.NewAppPassword{ReadOnly: true})
	archive := filepath.Join(w.g.DataDir, "archivio")
	before := treeDigest(t, archive)
	if code, _, _ := readOnly.Status("GET", ownDir+"/a.pdf", nil, ""); code != 200 {
		t.Errorf("read-only app password GET: %d", code)
	}
	for _, m := range []struct{ method, path, body string }{
		{"PUT", ownDir + "/a.pdf", "x"}, {"PUT", ownDir + "/nuovo.pdf", "x"}, {"MKCOL", ownDir + "/nuova", ""}, {"DELETE", ownDir + "/a.pdf", ""},
	} {
		if code, _, _ := readOnly.Status(m.method, m.path, nil, m.body); code != http.StatusForbidden {
			t.Errorf("read-only app password of an editor: %s %s = %d, want 403", m.method, m.path, code)
		}
	}
	if after := treeDigest(t, archive); after != before {
		t.Errorf("a read-only app password changed storage")
	}
	scoped := mk("operatore", auth.NewAppPassword{Comuni: []string{"luzzara"}})
	code, body, _ := scoped.Status("PROPFIND", "/", map[string]string{"Depth": "1"}, "")
	if code != 207 || !strings.Contains(body, "/luzzara/") || strings.Contains(body, "/guastalla/") {
		t.Errorf("Comune-scoped app password lists other Comuni: %d\n%s", code, body)
	}
	if code, _, _ := scoped.Status("GET", ownDir+"/a.pdf", nil, ""); code != http.StatusNotFound {
		t.Errorf("Comune-scoped app password reads another Comune: %d", code)
	}
	if code, _, _ := scoped.Status("PUT", otherDir+"/nuovo.pdf", nil, "x"); code != http.StatusCreated {
		t.Errorf("Comune-scoped app password in its Comune: %d", code)
	}
	// A scope never widens: a reader's read-write app password still reads only.
	wide := mk("lettore", auth.NewAppPassword{})
	if code, _, _ := wide.Status("PUT", ownDir+"/x.pdf", nil, "x"); code != http.StatusForbidden {
		t.Errorf("reader's read-write app password wrote: %d", code)
	}
}

// TestLockBlocksAnotherClient: a drawing locked by one person cannot be
// saved by another (423) until the lock is released or a manager breaks it.
func TestLockBlocksAnotherClient(t *testing.T) {
	w := accessWorld(t)
	a, b := w.who["editore"], w.who["responsabile"]
	f := ownDir + "/a.pdf"
	lock := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>PC-UFFICIO\editore</D:href></D:owner></D:lockinfo>`
	code, _, h := a.Status("LOCK", f, map[string]string{"Timeout": "Second-3600"}, lock)
	if code != 200 {
		t.Fatalf("LOCK: %d", code)
	}
	token := strings.Trim(h.Get("Lock-Token"), "<>")
	if code, _, _ := b.Status("PUT", f, nil, "salvataggio di un altro"); code != http.StatusLocked {
		t.Fatalf("another person's save: %d, want 423", code)
	}
	// Another person cannot use the token either.
	if code, _, _ := b.Status("PUT", f, map[string]string{"If": "(<" + token + ">)"}, "con il gettone altrui"); code != http.StatusLocked {
		t.Fatalf("save with someone else's token: %d, want 423", code)
	}
	_, body, _ := b.Status("PROPFIND", f, map[string]string{"Depth": "0"}, lockdiscoveryBody)
	if !strings.Contains(body, `PC-UFFICIO\editore`) {
		t.Errorf("lockdiscovery does not show the owner:\n%s", body)
	}
	out, err := faldone(t, "", "locks", "list", "--path", ownDir, "--data", w.g.DataDir)
	if err != nil || !strings.Contains(out, token) || !strings.Contains(out, "editore") {
		t.Fatalf("locks list: %v\n%s", err, out)
	}
	if out, err := faldone(t, "", "locks", "break", token, "--data", w.g.DataDir); err != nil {
		t.Fatalf("locks break: %v\n%s", err, out)
	}
	if code, _, _ := b.Status("PUT", f, nil, "salvataggio di un altro"); code != http.StatusNoContent {
		t.Fatalf("save after the lock was broken: %d", code)
	}
	if code, _, _ := a.Status("UNLOCK", f, map[string]string{"Lock-Token": "<" + token + ">"}, ""); code != http.StatusConflict {
		t.Errorf("UNLOCK of a broken lock: %d, want 409", code)
	}
	// A released lock frees the file too.
	_, _, h = a.Status("LOCK", f, map[string]string{"Timeout": "Second-3600"}, lock)
	token = strings.Trim(h.Get("Lock-Token"), "<>")
	if code, _, _ := b.Status("PUT", f, nil, "x"); code != http.StatusLocked {
		t.Fatalf("while locked again: %d", code)
	}
	mustStatus(t, a, "UNLOCK", f, map[string]string{"Lock-Token": "<" + token + ">"}, "", http.StatusNoContent)
	mustStatus(t, b, "PUT", f, nil, "x", http.StatusNoContent)
}
