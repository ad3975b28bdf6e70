package browser

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestGuideScreenshots walks the pages a technician and the Comune's staff
// use, at a tablet's and a PC's size, and saves each under tests/out/guida
// for the guide (docs/guida) to show; each page must have its heading.
func TestGuideScreenshots(t *testing.T) {
	// Every image the guide shows is committed, and made by these tests.
	made := []string{"accedi-pc", "accedi-tablet"} // TestSignInPage's
	g := harness.StartDemo(t, "")
	pages := []struct{ name, path, heading string }{
		{"archivio", "/_/archivio/", "Archivio"},
		{"cartella", "/_/archivio" + dossier + "/", ""},
		{"ricerca", "/_/cerca?q=0042", "Cerca pratiche"},
		{"scheda", "/_/scheda" + dossier + "/domanda.pdf", "domanda.pdf"},
		{"profilo", "/_/profilo", "La tua area personale"},
		{"accessi", "/_/accessi", "Accessi agli atti"},
		{"accessibilita", "/_/accessibilita", "Dichiarazione di accessibilità"},
		{"privacy", "/_/privacy", "Informativa privacy"},
	}
	for _, size := range screens {
		ctx := newBrowser(t)
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Run(ctx, harness.SignIn(g.URL, "demo", g.Pass)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			var h1 string
			if err := chromedp.Run(ctx, chromedp.Navigate(g.URL+p.path), chromedp.Text(`h1`, &h1, chromedp.ByQuery)); err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			if p.heading != "" && h1 != p.heading {
				t.Errorf("%s at %s: heading %q, want %q", p.name, size.name, h1, p.heading)
			}
			// No column heading breaks inside a word, nor does the page
			// scroll sideways; on a folder's page the list comes before
			// the forms.
			var broken []string
			var fits, listFirst bool
			if err := chromedp.Run(ctx,
				chromedp.Evaluate(`[...document.querySelectorAll("th")].filter(th => [...th.innerText.trim().split(/\s+/)].some(w => { const r = document.createRange(); const n = [...th.querySelectorAll("*")].concat([th]).flatMap(e => [...e.childNodes]).find(c => c.nodeType === 3 && c.textContent.includes(w)); if (!n) return false; const i = n.textContent.indexOf(w); r.setStart(n, i); r.setEnd(n, i + w.length); return r.getClientRects().length > 1; })).map(th => th.innerText)`, &broken),
				chromedp.Evaluate(`document.documentElement.scrollWidth <= window.innerWidth`, &fits),
				chromedp.Evaluate(`(() => { const l = document.getElementById("elenco"), f = document.getElementById("sezione-carica"); return !l || !f || !!(l.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING); })()`, &listFirst),
			); err != nil {
				t.Fatal(err)
			}
			if len(broken) > 0 || !fits || !listFirst {
				t.Errorf("%s at %s: headings broken inside a word %q, fits the width %v, list before the forms %v", p.name, size.name, broken, fits, listFirst)
			}
			guideShot(t, ctx, p.name+"-"+size.name)
			made = append(made, p.name+"-"+size.name)
		}
		// Upload, rename and delete on the dossier's pages, each confirmed.
		src := filepath.Join(t.TempDir(), "verbale-"+size.name+".pdf")
		if err := os.WriteFile(src, []byte("%PDF verbale"), 0o644); err != nil {
			t.Fatal(err)
		}
		asked := listenDialogs(ctx)
		var uploaded, renamed, deleted string
		renamedName := "verbale-firmato-" + size.name + ".pdf"
		if err := chromedp.Run(ctx,
			chromedp.Navigate(g.URL+"/_/archivio"+dossier+"/"),
			openUpload,
			chromedp.WaitVisible(`#modulo-carica`, chromedp.ByID),
			chromedp.SetUploadFiles(`#file`, []string{src}, chromedp.ByID),
			chromedp.Click(`#carica`, chromedp.ByID),
			chromedp.WaitVisible(`#esito`, chromedp.ByID),
			chromedp.Text(`#esito`, &uploaded, chromedp.ByID),
			chromedp.Click(`//tr[.//a[@class="file" and text()="verbale-`+size.name+`.pdf"]]//summary`, chromedp.BySearch),
			chromedp.SetValue(`//tr[.//a[@class="file" and text()="verbale-`+size.name+`.pdf"]]//input[@name="nome"]`, renamedName, chromedp.BySearch),
			chromedp.Click(`//tr[.//a[@class="file" and text()="verbale-`+size.name+`.pdf"]]//button[contains(@class,"rinomina")]`, chromedp.BySearch),
			chromedp.WaitVisible(`//a[@class="file" and text()="`+renamedName+`"]`, chromedp.BySearch),
			chromedp.Text(`#esito`, &renamed, chromedp.ByID),
			chromedp.Navigate(g.URL+"/_/scheda"+dossier+"/"+renamedName),
			chromedp.WaitVisible(`#elimina`, chromedp.ByID),
			chromedp.Click(`#elimina`, chromedp.ByID),
			chromedp.WaitVisible(`#esito`, chromedp.ByID),
			chromedp.Text(`#esito`, &deleted, chromedp.ByID),
		); err != nil {
			t.Fatalf("%s: upload, rename, delete: %v", size.name, err)
		}
		if uploaded != "1 file caricato." || renamed != "Rinominato in «"+renamedName+"»." || deleted != "«"+renamedName+"» eliminato." || len(asked) != 1 {
			t.Errorf("%s: confirmations %q, %q, %q; %d questions before the delete", size.name, uploaded, renamed, deleted, len(asked))
		}
		// A new app password, as an administrator sees it.
		var registry bool
		if err := chromedp.Run(ctx,
			chromedp.Navigate(g.URL+"/_/profilo"),
			chromedp.SendKeys(`#nome`, "PC ufficio tecnico "+size.name, chromedp.ByID),
			chromedp.Click(`#crea`, chromedp.ByID),
			chromedp.WaitVisible(`#segreto`, chromedp.ByID),
			chromedp.Evaluate(`document.getElementById("consiglio-registro") !== null`, &registry),
		); err != nil {
			t.Fatalf("a new app password: %v", err)
		}
		if !registry {
			t.Errorf("%s: an administrator's new password page has no advice on the registry", size.name)
		}
		guideShot(t, ctx, "password-creata-"+size.name)
		made = append(made, "password-creata-"+size.name)
	}
	for _, name := range guideImages(t) {
		if _, err := os.Stat(filepath.Join(harness.Root(), "docs", "guida", "img", name+".jpg")); err != nil || !slices.Contains(made, name) {
			t.Errorf("the guide shows img/%s.jpg: committed %v, made by the tests %v", name, err == nil, slices.Contains(made, name))
		}
	}
}
