package browser

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestManagerGrantsAccess: a manager signs in, picks a dossier in the
// archive and grants a technician read access to it on the managers' page
// (the dossier filled in from the archive's link); the technician then sees
// that dossier, and only it, and loses it when the grant is revoked.
func TestManagerGrantsAccess(t *testing.T) {
	const tecnico = "TCNATV80A01H223A"
	g := harness.StartDemo(t, "")
	tec := g.AddUser(tecnico, "password-del-tecnico")
	if code, _, _ := tec.Status("GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, ""); code != http.StatusNotFound {
		t.Fatalf("before the grant: %d, want 404", code)
	}

	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
				t.Fatal(err)
			}
			until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
			var rows int
			var picked, heading string
			// The manager picks the dossier in the archive, whose folder page
			// links to the form with the dossier filled in.
			if err := chromedp.Run(ctx,
				harness.SignIn(g.URL, "demo", g.Pass),
				chromedp.Navigate(g.URL+"/_/archivio/guastalla/2019/PC-2019-0042/"),
				chromedp.WaitVisible(`#concedi-accesso`, chromedp.ByID),
				chromedp.Click(`#concedi-accesso`, chromedp.ByID),
				chromedp.WaitVisible(`#nuovo-accesso`, chromedp.ByID),
				chromedp.Value(`#percorso`, &picked, chromedp.ByID),
				chromedp.Text(`h1`, &heading, chromedp.ByQuery),
			); err != nil {
				t.Fatalf("pick the dossier: %v\n%s", err, g.Log())
			}
			if picked != "/guastalla/2019/PC-2019-0042" || heading != "Concedi accesso a PC-2019-0042 (Guastalla)" {
				t.Fatalf("the form's dossier is %q, its heading %q", picked, heading)
			}
			if err := chromedp.Run(ctx,
				chromedp.SendKeys(`#persona`, "tinit-"+strings.ToLower(tecnico), chromedp.ByID),
				chromedp.SetValue(`#scadenza`, until, chromedp.ByID),
				chromedp.SendKeys(`#motivo`, "Prot. 1234/2026", chromedp.ByID),
				chromedp.Click(`#concedi`, chromedp.ByID),
				chromedp.WaitVisible(`#accessi`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#accessi tbody tr').length`, &rows),
			); err != nil {
				t.Fatalf("grant through the page: %v\n%s", err, g.Log())
			}
			screenshot(t, ctx, "accessi-"+size.name)
			if rows != 1 {
				t.Fatalf("%d grants listed, want 1", rows)
			}
			// Confirmed; the list filtered by grantee and by how soon it ends.
			var done string
			var other, soon, mine int
			if err := chromedp.Run(ctx,
				chromedp.Text(`#esito`, &done, chromedp.ByID),
				chromedp.Navigate(g.URL+"/_/accessi?persona=BNCLRA"),
				chromedp.WaitVisible(`#filtra-accessi`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#accessi tbody tr').length`, &other),
				chromedp.Navigate(g.URL+"/_/accessi?scade=7"),
				chromedp.WaitVisible(`#filtra-accessi`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#accessi tbody tr').length`, &soon),
				chromedp.Navigate(g.URL+"/_/accessi?comune=guastalla&persona="+tecnico[:6]),
				chromedp.WaitVisible(`#filtra-accessi`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#accessi tbody tr').length`, &mine),
			); err != nil {
				t.Fatalf("the grants' list filtered: %v", err)
			}
			if !strings.HasPrefix(done, "Accesso concesso: "+tecnico+" a PC-2019-0042 fino al ") || other != 0 || soon != 0 || mine != 1 {
				t.Errorf("confirmation %q; filtered by another person %d, ending within 7 days %d, by Comune and part of the fiscal number %d", done, other, soon, mine)
			}
			if code, body, _ := tec.Status("GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, ""); code != 200 || !strings.HasPrefix(body, "%PDF") {
				t.Fatalf("after the grant: %d", code)
			}
			if code, body, _ := tec.Status("PROPFIND", "/guastalla/2019/", map[string]string{"Depth": "1"}, ""); code != 207 || strings.Contains(body, "SCIA-2019-0107") || !strings.Contains(body, "PC-2019-0042") {
				t.Fatalf("grantee listing of the parent: %d\n%s", code, body)
			}
			if code, _, _ := tec.Status("PUT", "/guastalla/2019/PC-2019-0042/nuovo.pdf", nil, "x"); code != http.StatusForbidden {
				t.Errorf("grantee wrote under a read grant: %d", code)
			}
			// Revoke on the page: the next request is refused.
			if err := chromedp.Run(ctx,
				chromedp.Click(`button.revoca`),
				chromedp.WaitVisible(`#nessun-accesso`, chromedp.ByID),
			); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if code, _, _ := tec.Status("GET", "/guastalla/2019/PC-2019-0042/domanda.pdf", nil, ""); code != http.StatusNotFound {
				t.Fatalf("after revocation: %d, want 404", code)
			}
		})
	}
	// The auditor writes every 500 ms.
	var out []byte
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err = exec.Command(harness.Binary(t), "audit", "--person", "demo", "--data", g.DataDir).CombinedOutput()
		if err == nil && strings.Contains(string(out), "GRANT") && strings.Contains(string(out), "REVOKE") {
			return
		}
	}
	t.Errorf("grant changes not in the audit log: %v\n%s", err, out)
}
