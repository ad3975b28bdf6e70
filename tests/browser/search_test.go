package browser

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSearch: the catalogue's search in the browser, at a tablet's and a
// desktop's size. Dossiers made through WebDAV are found from the box in
// the header; a facet narrows to a Comune; a result leads to its folder;
// a bad year is told in Italian with the form kept; the dossier's record
// is edited on its page and found by what was typed; the pages fit the
// tablet's width and pass axe.
func TestSearch(t *testing.T) {
	dir := filepath.Join(harness.Root(), "tests", "a11y")
	if err := harness.NpmCI(dir); err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	g := harness.StartServe(t, "access:\n  admins: [operatore]\n")
	for _, d := range []string{
		"/guastalla/2019", "/guastalla/2019/PC-2019-0042", "/guastalla/2019/SCIA-2019-0107",
		"/luzzara/2020", "/luzzara/2020/SCIA-2020-0007",
	} {
		if code, body, _ := g.Status("MKCOL", d, nil, ""); code != 201 {
			t.Fatalf("MKCOL %s: %d %s", d, code, body)
		}
	}
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			var count, href, loc string
			var fits bool
			fitsJS := `document.documentElement.scrollWidth <= window.innerWidth`
			// From the header's box, on the personal page.
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, g.User, g.Pass),
				chromedp.WaitVisible(`#cerca-testata`, chromedp.ByID),
				chromedp.SendKeys(`#cerca-testata`, "SCIA", chromedp.ByID),
				chromedp.Click(`#cerca-testata-vai`, chromedp.ByID),
				chromedp.WaitVisible(`#conteggio`, chromedp.ByID),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				chromedp.Evaluate(fitsJS, &fits),
			); err != nil {
				t.Fatalf("search from the header: %v", err)
			}
			screenshot(t, ctx, "cerca-"+size.name)
			if !strings.Contains(count, "2 pratiche trovate") || !fits {
				t.Errorf("search for SCIA: %q, fits the width %v", count, fits)
			}
			// The Comune's facet narrows the search, and the result leads to
			// the dossier's folder.
			if err := chromedp.Run(ctx,
				chromedp.Click(`//ul[@id="faccette-comune"]//a[starts-with(., "Luzzara")]`, chromedp.BySearch),
				chromedp.WaitVisible(`//ul[@id="faccette-comune"]//strong[@aria-current="true"]`, chromedp.BySearch),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				chromedp.Location(&loc),
				chromedp.AttributeValue(`#risultati li:first-child a.pratica`, "href", &href, nil),
			); err != nil {
				t.Fatalf("the facet: %v", err)
			}
			u, _ := url.Parse(loc)
			if !strings.Contains(count, "1 pratica trovata") || href != "/_/archivio/luzzara/2020/SCIA-2020-0007/" ||
				u.Query().Get("comune") != "luzzara" || u.Query().Get("q") != "SCIA" {
				t.Errorf("narrowed to luzzara: %q, %s, at %s", count, href, loc)
			}
			if err := chromedp.Run(ctx,
				chromedp.Click(`#risultati li:first-child a.pratica`, chromedp.ByQuery),
				chromedp.WaitVisible(`//h1[text()="SCIA-2020-0007"]`, chromedp.BySearch),
			); err != nil {
				t.Fatalf("to the dossier: %v", err)
			}
			// Its record, edited on its page, and found by what was typed.
			subject := "Ampliamento con veranda " + size.name
			var saved string
			if err := chromedp.Run(ctx,
				chromedp.Click(`#apri-scheda-fascicolo`, chromedp.ByID),
				chromedp.WaitVisible(`#modulo-scheda`, chromedp.ByID),
				chromedp.SetValue(`#oggetto`, subject, chromedp.ByID),
				chromedp.SetValue(`#catasto-foglio-0`, "21", chromedp.ByID),
				chromedp.SetValue(`#catasto-mappale-0`, "345", chromedp.ByID),
				// A second parcel, in a row the form adds.
				chromedp.Click(`fieldset[data-voce="riferimento catastale"] .aggiungi-riga`, chromedp.ByQuery),
				chromedp.SetValue(`#catasto-foglio-1`, "22", chromedp.ByID),
				chromedp.SetValue(`#catasto-mappale-1`, "7", chromedp.ByID),
				chromedp.SetValue(`#data_protocollo`, "05/03/2020", chromedp.ByID),
				chromedp.Evaluate(fitsJS, &fits),
				chromedp.Click(`#salva-scheda`, chromedp.ByID),
				chromedp.WaitVisible(`#scheda-salvata`, chromedp.ByID),
				chromedp.Text(`#scheda-salvata`, &saved, chromedp.ByID),
			); err != nil {
				t.Fatalf("the dossier's record: %v", err)
			}
			screenshot(t, ctx, "scheda-"+size.name)
			if saved != "Scheda salvata." || !fits {
				t.Errorf("the record: %q, fits the width %v", saved, fits)
			}
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/cerca?"+url.Values{"q": {"veranda " + size.name}, "foglio": {"21"}}.Encode()),
				chromedp.WaitVisible(`#conteggio`, chromedp.ByID),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
			); err != nil {
				t.Fatalf("search for the record: %v", err)
			}
			if !strings.Contains(count, "1 pratica trovata") {
				t.Errorf("the edited record's search: %q", count)
			}
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/cerca?"+url.Values{"foglio": {"22"}, "mappale": {"7"}, "comune": {"luzzara"}}.Encode()),
				chromedp.WaitVisible(`#conteggio`, chromedp.ByID),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
			); err != nil {
				t.Fatalf("search for the added parcel: %v", err)
			}
			if !strings.Contains(count, "1 pratica trovata") {
				t.Errorf("the added parcel's search: %q", count)
			}
			checkAxe(t, ctx, g.URL+"/_/fascicolo/luzzara/2020/SCIA-2020-0007", "fascicolo", size.w, string(axe))
			// A bad year: said in Italian, the form kept.
			var msg, kept string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/cerca?q=tetto&anno=duemila"),
				chromedp.WaitVisible(`#errore-ricerca`, chromedp.ByID),
				chromedp.Text(`#errore-ricerca`, &msg, chromedp.ByID),
				chromedp.Value(`#f-anno`, &kept, chromedp.ByID),
			); err != nil {
				t.Fatalf("a bad year: %v", err)
			}
			if !strings.HasPrefix(msg, "Anno non valido") || kept != "duemila" {
				t.Errorf("a bad year: %q, kept %q", msg, kept)
			}
			for name, p := range map[string]string{"cerca": "/_/cerca?q=SCIA", "cerca-comune": "/_/cerca?q=SCIA&comune=luzzara", "cerca-errore": "/_/cerca?anno=duemila", "cerca-vuota": "/_/cerca"} {
				checkAxe(t, ctx, g.URL+p, name, size.w, string(axe))
			}
		})
	}
}
