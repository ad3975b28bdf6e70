package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestAppPasswordReload: a new app password's page shows the secret once.
// Reloaded (as a person does, or the browser on its own), it says the
// password was shown already, shows no secret and makes no second one; nor
// does going back to it.
func TestAppPasswordReload(t *testing.T) {
	g := harness.StartDemo(t, "")
	ctx := newBrowser(t)
	var secret, at string
	if err := chromedp.Run(ctx,
		harness.SignIn(g.URL, "demo", g.Pass),
		chromedp.Navigate(g.URL+"/_/profilo"),
		chromedp.WaitVisible(`#nome`, chromedp.ByID),
		chromedp.SendKeys(`#nome`, "Portatile del geometra", chromedp.ByID),
		chromedp.Click(`#crea`, chromedp.ByID),
		chromedp.WaitVisible(`#segreto`, chromedp.ByID),
		chromedp.Value(`#segreto`, &secret, chromedp.ByID),
		chromedp.Location(&at),
	); err != nil {
		t.Fatalf("create an app password: %v\n%s", err, g.Log())
	}
	if !strings.HasPrefix(secret, "fld_") {
		t.Fatalf("secret %q", secret)
	}
	if !strings.HasPrefix(at, g.URL+"/_/password/creata?") {
		t.Errorf("the secret is shown at %s, not on the page the post redirected to", at)
	}
	if code, _, _ := g.As("demo", secret).Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, ""); code != 207 {
		t.Errorf("PROPFIND with the new password: %d", code)
	}

	shownAlready := func(how string, step chromedp.Action) {
		t.Helper()
		var h1, msg, html, at2 string
		if err := chromedp.Run(ctx, step,
			chromedp.WaitVisible(`#messaggio`, chromedp.ByID),
			chromedp.Text(`h1`, &h1, chromedp.ByQuery),
			chromedp.Text(`#messaggio`, &msg, chromedp.ByID),
			chromedp.OuterHTML(`html`, &html, chromedp.ByQuery),
			chromedp.Location(&at2),
		); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		screenshot(t, ctx, "password-gia-mostrata")
		if h1 != "Password già mostrata" || !strings.Contains(msg, "già stata mostrata") {
			t.Errorf("%s: %q, %q", how, h1, msg)
		}
		if strings.Contains(html, secret) || strings.Contains(html, "fld_") {
			t.Errorf("%s: the secret is shown again", how)
		}
		if at2 != at {
			t.Errorf("%s: at %s, want %s", how, at2, at)
		}
		if !strings.Contains(html, `id="esci"`) {
			t.Errorf("%s: the page lacks the session's header", how)
		}
	}
	shownAlready("reload", chromedp.Reload())
	shownAlready("second reload", chromedp.Reload())

	var listed int
	if err := chromedp.Run(ctx,
		chromedp.Click(`#torna`, chromedp.ByID),
		chromedp.WaitVisible(`#password`, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('#password tbody tr').length`, &listed),
	); err != nil {
		t.Fatal(err)
	}
	if listed != 1 {
		t.Errorf("the personal page lists %d app passwords after the reloads, want 1", listed)
	}
	// history.back(), not NavigateBack, which waits for a load event that a
	// page restored from the back-forward cache does not fire.
	shownAlready("back", chromedp.Evaluate(`history.back()`, nil))
}

// TestErrorPagesInBrowser: an unknown page and a missing path of the drive,
// opened in the browser, are pages in Italian with the person's header and
// the way back to the nearest folder there is.
func TestErrorPagesInBrowser(t *testing.T) {
	g := harness.StartDemo(t, "")
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx, harness.SignIn(g.URL, "demo", g.Pass)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, h1, back, heading string
		there                         string // an element of the page back there
	}{
		{"pagina-inesistente", "/_/qualsiasi-cosa", "Pagina non trovata", "/_/profilo", "La tua area personale", "#sfoglia"},
		{"file-mancante", dossier + "/manca.pdf", "File o cartella non trovati", "/_/archivio" + dossier + "/", "PC-2019-0042", "#elenco"},
		{"cartella-mancante", "/guastalla/2019/PC-2019-9999/tavole/", "File o cartella non trovati", "/_/archivio/guastalla/2019/", "2019", "#elenco"},
		{"cartella-mancante-pagine", "/_/archivio/guastalla/2031/", "Cartella non trovata", "/_/archivio/guastalla/", "Guastalla", "#elenco"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h1, who, href, heading, at string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+tt.path),
				chromedp.WaitVisible(`#messaggio`, chromedp.ByID),
				chromedp.Text(`h1`, &h1, chromedp.ByQuery),
				chromedp.Text(`.persona`, &who, chromedp.ByQuery),
				chromedp.WaitVisible(`#esci`, chromedp.ByID),
				chromedp.AttributeValue(`#torna`, "href", &href, nil, chromedp.ByID),
			); err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			screenshot(t, ctx, "errore-"+tt.name)
			if h1 != tt.h1 || who != "demo" || href != tt.back {
				t.Errorf("%s: heading %q, person %q, back to %q; want %q, demo, %q", tt.path, h1, who, href, tt.h1, tt.back)
			}
			// Once the click's page is there.
			if err := chromedp.Run(ctx,
				chromedp.Click(`#torna`, chromedp.ByID),
				chromedp.WaitVisible(tt.there, chromedp.ByQuery),
				chromedp.Text(`h1`, &heading, chromedp.ByQuery),
				chromedp.Location(&at),
			); err != nil {
				t.Fatalf("%s: back: %v", tt.path, err)
			}
			if heading != tt.heading || at != g.URL+tt.back {
				t.Errorf("%s: back at %s %q, want %s %q", tt.path, at, heading, tt.back, tt.heading)
			}
		})
	}
}
