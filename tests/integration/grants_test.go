package integration

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// The dossier of the grant tests, spelled as Windows and Linux do (NFC,
// "à" one letter) and as macOS Finder does (NFD, "a" and a combining grave).
const (
	dossierNFC = "/guastalla/2019/PC-2019-Universit\u00e0"
	dossierNFD = "/guastalla/2019/PC-2019-Universita\u0300"
)

// grantsWorld starts faldone with a manager of Guastalla and two
// technicians, and the dossier with a document in it.
func grantsWorld(t *testing.T) (*harness.Gateway, map[string]*harness.Gateway) {
	t.Helper()
	g := harness.StartServe(t, `access:
  admins: [operatore]
  assignments:
    - {person: responsabile, comune: guastalla, role: manager}
`)
	who := map[string]*harness.Gateway{}
	for _, name := range []string{"responsabile", grantAttivo, grantScrittura} {
		if out, err := faldone(t, pw(name)+"\n", "user", "add", name, "--data", g.DataDir); err != nil {
			t.Fatalf("user add %s: %v\n%s", name, err, out)
		}
		who[name] = g.As(name, pw(name))
	}
	mustStatus(t, g, "MKCOL", "/guastalla/2019", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", escapedURLPath(dossierNFC), nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", escapedURLPath(dossierNFC+"/domanda.pdf"), nil, "domanda", http.StatusCreated)
	return g, who
}

// escapedURLPath escapes each segment of a path for a request line.
func escapedURLPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func grantArgs(g *harness.Gateway, person, p string) []string {
	return []string{"grant", "add", "--person", person, "--path", p, "--until", time.Now().AddDate(0, 0, 7).Format("2006-01-02"),
		"--reason", "Prot. 12/2026", "--config", g.DataDir + "/faldone.yaml", "--data", g.DataDir}
}

// TestGrantWithDecomposedPath: a dossier's path pasted from macOS Finder
// (NFD) makes, from the command line and from the managers' page, a grant
// on the dossier that requests name in NFC; the command line's filters
// read such paths alike.
func TestGrantWithDecomposedPath(t *testing.T) {
	g, who := grantsWorld(t)
	doc := dossierNFC + "/domanda.pdf"
	for _, person := range []string{grantAttivo, grantScrittura} {
		mustStatus(t, who[person], "GET", escapedURLPath(doc), nil, "", http.StatusNotFound)
	}

	// From the command line.
	if out, err := faldone(t, "", grantArgs(g, grantAttivo, dossierNFD)...); err != nil {
		t.Fatalf("grant add with an NFD path: %v\n%s", err, out)
	}
	// From the page.
	web := harness.NewBrowser(t, g)
	web.SignIn("responsabile", pw("responsabile"))
	web.Get("/_/accessi")
	code, body := web.Post("/_/accessi", url.Values{"persona": {grantScrittura}, "percorso": {dossierNFD}, "permessi": {"lettura"},
		"scadenza": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}, "motivo": {"Prot. 13/2026"}})
	if code != http.StatusOK || !strings.Contains(body, dossierNFC) {
		t.Fatalf("grant through the page with an NFD path: %d\n%.600s", code, body)
	}

	for _, person := range []string{grantAttivo, grantScrittura} {
		for _, spelling := range []string{dossierNFC, dossierNFD} {
			if code, body, _ := who[person].Status("GET", escapedURLPath(spelling+"/domanda.pdf"), nil, ""); code != 200 || body != "domanda" {
				t.Errorf("%s GET %+q after the grant: %d", person, spelling, code)
			}
		}
	}
	out, err := faldone(t, "", "grant", "list", "--data", g.DataDir)
	if err != nil || strings.Count(out, dossierNFC) != 2 || strings.Contains(out, dossierNFD) {
		t.Errorf("grant list does not show the composed path twice: %v\n%s", err, out)
	}

	// The filters of the commands read a pasted path as requests do.
	mustStatus(t, g, "LOCK", escapedURLPath(doc), map[string]string{"Timeout": "Second-60"},
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, http.StatusOK)
	if out, err := faldone(t, "", "locks", "list", "--path", dossierNFD, "--data", g.DataDir); err != nil || !strings.Contains(out, doc) {
		t.Errorf("locks list --path NFD: %v\n%s", err, out)
	}
	// The auditor writes every 500 ms.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := faldone(t, "", "audit", "--path", dossierNFD, "--person", grantAttivo, "--data", g.DataDir)
		if err == nil && strings.Contains(out, doc) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit --path NFD: %v\n%s", err, out)
		}
	}
}

// TestGrantNeedsAnExistingDossier: a grant on a path where no folder is —
// nothing, a file, a Comune itself, a Comune the granter does not manage —
// is refused with a clear message, from the command line (exit status not
// zero) and from the page (400, in Italian), and nothing is granted. The
// folder page of a dossier links its managers to the form, filled in.
func TestGrantNeedsAnExistingDossier(t *testing.T) {
	g, who := grantsWorld(t)
	mustStatus(t, g, "MKCOL", "/luzzara/2020", nil, "", http.StatusCreated)
	web := harness.NewBrowser(t, g)
	web.SignIn("responsabile", pw("responsabile"))
	const (
		notThere = "non esiste nell'archivio"
		notMine  = "Il percorso deve essere una pratica di un Comune che gestisci"
	)
	for _, tc := range []struct {
		name, path string
		cli, page  string // what the command line and the page say
	}{
		{"missing", "/guastalla/2019/PC-2019-9999", "no such folder in the archive", notThere},
		{"missing, NFD", "/guastalla/2019/PC-2019-Citta\u0300", "no such folder in the archive", notThere},
		{"below a file", dossierNFC + "/domanda.pdf/allegati", "no such folder in the archive", notThere},
		{"a file", dossierNFC + "/domanda.pdf", "is a file: a grant gives a dossier, a folder", "Il percorso indica un file, non una pratica"},
		{"a Comune", "/guastalla", "must be a folder inside a Comune", notMine},
		{"no Comune", "/reggio/2019", "must be a folder inside a Comune", notMine},
		{"dot segments", "/guastalla/2019/../2019", "must be a folder inside a Comune", notMine},
		{"empty", "", "must be a folder inside a Comune", notMine},
	} {
		out, err := faldone(t, "", grantArgs(g, grantAttivo, tc.path)...)
		if err == nil || !strings.Contains(out, tc.cli) {
			t.Errorf("%s: grant add --path %q: %v\n%s", tc.name, tc.path, err, out)
		}
		web.Get("/_/accessi")
		code, body := web.Post("/_/accessi", url.Values{"persona": {grantAttivo}, "percorso": {tc.path}, "permessi": {"lettura"},
			"scadenza": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}, "motivo": {"Prot. 14/2026"}})
		if code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tc.page) || !strings.Contains(body, `id="nessun-accesso"`) {
			t.Errorf("%s: the page's grant on %q: %d\n%.2000s", tc.name, tc.path, code, body)
		}
	}
	// The page tells nothing of a Comune the granter does not manage: an
	// existing folder there is refused as a missing one is.
	answers := map[string]answer{}
	for _, p := range []string{"/luzzara/2020", "/luzzara/2099"} {
		web.Get("/_/accessi")
		code, body := web.Post("/_/accessi", url.Values{"persona": {grantAttivo}, "percorso": {p}, "permessi": {"lettura"},
			"scadenza": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}, "motivo": {"Prot. 14/2026"}})
		answers[p] = answer{code, strings.ReplaceAll(body, p, "")}
	}
	sameAnswers(t, "another Comune", http.StatusBadRequest, answers)
	if out, err := faldone(t, "", "grant", "list", "--all", "--data", g.DataDir); err != nil || strings.Contains(out, "g-") {
		t.Errorf("a refused grant was made: %v\n%s", err, out)
	}
	mustStatus(t, who[grantAttivo], "GET", escapedURLPath(dossierNFC+"/domanda.pdf"), nil, "", http.StatusNotFound)

	// The dossier's folder page links its manager to the form, filled in.
	code, body := web.Get("/_/archivio" + escapedURLPath(dossierNFC) + "/")
	link := regexp.MustCompile(`id="concedi-accesso" href="([^"]+)"`).FindStringSubmatch(body)
	if code != 200 || link == nil {
		t.Fatalf("the dossier's page has no link to grant access: %d\n%.2000s", code, body)
	}
	code, body = web.Get(html.UnescapeString(link[1]))
	if code != 200 || !strings.Contains(body, `value="`+dossierNFC+`"`) {
		t.Fatalf("the form is not filled in with the dossier: %d\n%.3000s", code, body)
	}
	code, body = web.Post("/_/accessi", url.Values{"persona": {grantAttivo}, "percorso": {dossierNFC}, "permessi": {"lettura"},
		"scadenza": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}, "motivo": {"Prot. 15/2026"}})
	if code != 200 || !strings.Contains(body, "Prot. 15/2026") {
		t.Fatalf("grant from the filled-in form: %d", code)
	}
	mustStatus(t, who[grantAttivo], "GET", escapedURLPath(dossierNFC+"/domanda.pdf"), nil, "", http.StatusOK)
	// A grantee reads the dossier but is offered no such link.
	tec := harness.NewBrowser(t, g)
	tec.SignIn(grantAttivo, pw(grantAttivo))
	if code, body := tec.Get("/_/archivio" + escapedURLPath(dossierNFC) + "/"); code != 200 || strings.Contains(body, "concedi-accesso") {
		t.Errorf("the grantee's folder page: %d, link shown: %v", code, strings.Contains(body, "concedi-accesso"))
	}
}
