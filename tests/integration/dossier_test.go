package integration

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestClosedDossier: a dossier closed from the command line refuses every
// change through WebDAV, the pages and the importer, on S3 and on disk,
// and takes them again once reopened; both are in the access log.
func TestClosedDossier(t *testing.T) {
	g, _, _ := s3Gateway(t)
	bin := harness.Binary(t)
	cli := func(args ...string) (int, string) {
		t.Helper()
		code, out, errOut := runCLI(t, bin, t.TempDir(), "", append(args, "--config", g.ConfigFile(), "--data", g.DataDir)...)
		return code, out + errOut
	}
	for _, dir := range []string{"/guastalla/2019", "/guastalla/2019/PC-2019-0042", "/luzzara/2020", "/luzzara/2020/PC-2020-0007"} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	mustStatus(t, g, "PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "domanda", http.StatusCreated)
	mustStatus(t, g, "PUT", "/luzzara/2020/PC-2020-0007/domanda.pdf", nil, "domanda", http.StatusCreated)

	for _, d := range []string{"/guastalla/2019/PC-2019-0042", "/luzzara/2020/PC-2020-0007"} {
		if code, out := cli("dossier", "close", d, "--reason", "Fine lavori, prot. 42/2026", "--by", "RSSMRA80A01H501U"); code != 0 || !strings.Contains(out, "closed") {
			t.Fatalf("dossier close %s: exit %d\n%s", d, code, out)
		}
	}
	if code, out := cli("dossier", "close", "/guastalla/2019/PC-2019-0042", "--reason", "di nuovo"); code == 0 || !strings.Contains(out, "closed already") {
		t.Errorf("closing twice: exit %d\n%s", code, out)
	}
	if code, out := cli("dossier", "close", "/guastalla/2019/PC-2019-0042/domanda.pdf", "--reason", "x"); code == 0 {
		t.Errorf("closing a file: exit 0\n%s", out)
	}
	if code, out := cli("dossier", "list"); code != 0 || !strings.Contains(out, "/luzzara/2020/PC-2020-0007") || !strings.Contains(out, "Fine lavori") {
		t.Errorf("dossier list: exit %d\n%s", code, out)
	}

	for _, d := range []string{"/guastalla/2019/PC-2019-0042", "/luzzara/2020/PC-2020-0007"} {
		code, body, _ := g.Status("PUT", d+"/domanda.pdf", nil, "altro")
		if code != http.StatusForbidden || !strings.Contains(body, "dossier-closed") {
			t.Errorf("PUT into %s: %d\n%s", d, code, body)
		}
		for _, m := range []struct{ method, p string }{{"DELETE", d + "/domanda.pdf"}, {"MKCOL", d + "/nuova"}, {"DELETE", d}} {
			if code, _, _ := g.Status(m.method, m.p, nil, ""); code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", m.method, m.p, code)
			}
		}
		if code, body, _ := g.Status("GET", d+"/domanda.pdf", nil, ""); code != http.StatusOK || body != "domanda" {
			t.Errorf("GET in a closed dossier: %d %q", code, body)
		}
	}
	// The pages say why.
	page := harness.NewBrowser(t, g)
	page.SignIn(g.User, g.Pass)
	code, body := page.Upload("/_/carica/guastalla/2019/PC-2019-0042", map[string][]byte{"nuova.pdf": []byte("x")})
	if code != http.StatusForbidden || !strings.Contains(body, "Fascicolo chiuso il") {
		t.Errorf("page upload into a closed dossier: %d\n%.800s", code, body)
	}
	// A closed dossier's page says so, and shows no form to change it.
	ps := signInPages(t, g, g.User, g.Pass)
	if _, body := ps.get("/_/archivio/luzzara/2020/PC-2020-0007/"); !strings.Contains(body, "Fascicolo chiuso il") ||
		!strings.Contains(body, "Fine lavori, prot. 42/2026") || strings.Contains(body, `id="modulo-carica"`) {
		t.Errorf("the closed dossier's page:\n%.1500s", body)
	}
	// A manager closes one from its page, with a reason.
	mustStatus(t, g, "MKCOL", "/guastalla/2019/PC-2019-0050", nil, "", http.StatusCreated)
	if _, body := ps.get("/_/archivio/guastalla/2019/PC-2019-0050/"); !strings.Contains(body, `id="modulo-chiudi"`) {
		t.Fatalf("no close form for a manager:\n%.1500s", body)
	}
	if code, body := ps.change("/guastalla/2019/PC-2019-0050", "/guastalla/2019/PC-2019-0050", url.Values{"azione": {"chiudi"}}); code != http.StatusBadRequest {
		t.Errorf("closing without a reason: %d\n%.300s", code, body)
	}
	if code, body := ps.change("/guastalla/2019/PC-2019-0050", "/guastalla/2019/PC-2019-0050", url.Values{"azione": {"chiudi"}, "motivo": {"Archiviazione"}}); code != http.StatusOK || !strings.Contains(body, "Fascicolo chiuso il") {
		t.Errorf("closing from the page: %d\n%.800s", code, body)
	}
	if code, _, _ := g.Status("PUT", "/guastalla/2019/PC-2019-0050/x.pdf", nil, "x"); code != http.StatusForbidden {
		t.Errorf("PUT into the dossier closed from its page: %d", code)
	}

	// The importer too.
	delivery := t.TempDir()
	os.WriteFile(filepath.Join(delivery, "tavola.dwg"), []byte("tavola"), 0o644)
	report := filepath.Join(t.TempDir(), "esito.csv")
	if code, out := cli("import", "--comune", "guastalla", "--from", delivery, "--to", "/2019/PC-2019-0042", "--report", report); code == 0 {
		t.Errorf("import into a closed dossier: exit 0\n%s", out)
	}
	if b, _ := os.ReadFile(report); !strings.Contains(string(b), "chiuso") {
		t.Errorf("the import's report: %s", b)
	}

	// Reopened, it takes changes again.
	if code, out := cli("dossier", "reopen", "/guastalla/2019/PC-2019-0042", "--reason", "Variante in corso d'opera"); code != 0 {
		t.Fatalf("dossier reopen: exit %d\n%s", code, out)
	}
	mustStatus(t, g, "PUT", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, "variante", http.StatusNoContent)
	if code, _, _ := g.Status("PUT", "/luzzara/2020/PC-2020-0007/domanda.pdf", nil, "x"); code != http.StatusForbidden {
		t.Errorf("the other dossier was reopened too: %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, log := cli("audit", "--csv")
		if strings.Contains(log, "RSSMRA80A01H501U,cli,cli,CLOSE,/guastalla/2019/PC-2019-0042,") &&
			strings.Contains(log, ",cli,cli,REOPEN,/guastalla/2019/PC-2019-0042,") && strings.Contains(log, "reason=Variante in corso d'opera") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the access log lacks the closure and the reopening:\n%s", log)
		}
	}
}
