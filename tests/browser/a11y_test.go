package browser

import (
	"context"
	"encoding/json"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// axeResult is what axe-core reports of one page: its rule violations.
type axeResult struct {
	Passes     int
	Violations []struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
}

// TestPagesAccessible runs axe-core (the WCAG 2.1 A and AA rules) on every
// page people see, at a phone's, a tablet's and a desktop's width: labels,
// contrast, landmarks, names of links and buttons, language.
func TestPagesAccessible(t *testing.T) {
	dir := filepath.Join(harness.Root(), "tests", "a11y")
	if err := harness.NpmCI(dir); err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	g := harness.StartDemo(t, "")
	g.Status("LOCK", dossier+"/domanda.pdf", map[string]string{"Timeout": "Second-600"},
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>geom. Rossi</D:owner></D:lockinfo>`)
	pages := []struct{ name, path string }{
		{"accedi", "/_/accedi"},
		{"profilo", "/_/profilo"},
		{"archivio", "/_/archivio/"},
		{"cartella", "/_/archivio" + dossier + "/"},
		{"ricerca", "/_/cerca?q=0042"},
		{"ricerca-errata", "/_/cerca?anno=duemila"},
		{"scheda", "/_/scheda" + dossier + "/domanda.pdf"},
		{"scheda-dwg", "/_/scheda" + dossier + "/tavola-01-pianta.dxf"},
		{"vista", "/_/vista" + dossier + "/domanda.pdf"},
		{"accessi", "/_/accessi"},
		{"accessi-pratica", "/_/accessi?percorso=" + dossier},
		{"messaggio", "/_/archivio/nessuno/"},
		{"fascicolo", "/_/fascicolo" + dossier},
		{"cestino", "/_/cestino/guastalla/"},
		{"indice", "/_/indice"},
		{"comune", "/_/archivio/guastalla/"},
		{"accessibilita", "/_/accessibilita"},
		{"privacy", "/_/privacy"},
		{"guida", "/_/guida/"},
		{"pagina-inesistente", "/_/qualsiasi-cosa"},
		{"percorso-mancante", dossier + "/manca.pdf"},
	}
	for _, width := range []int64{375, 768, 1366} {
		ctx := newBrowser(t)
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900), harness.SignIn(g.URL, "demo", g.Pass)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if p.name == "accedi" {
				continue // signed in: it sends to the personal page; checked below
			}
			checkAxe(t, ctx, g.URL+p.path, p.name, width, string(axe))
		}
		checkAxe(t, newBrowser(t), g.URL+"/_/accedi", "accedi", width, string(axe))
	}

	// A ZIP large enough to be asked for again.
	z := harness.StartServe(t, "pages:\n  zip_confirm_above: 1B\n")
	z.Status("MKCOL", "/guastalla/2019", nil, "")
	z.Status("PUT", "/guastalla/2019/tavola.pdf", nil, "%PDF tavola")
	for _, width := range []int64{375, 768, 1366} {
		ctx := newBrowser(t)
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900), harness.SignIn(z.URL, z.User, z.Pass)); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, ctx, z.URL+"/_/zip/guastalla/2019", "zip", width, string(axe))
	}
}

func checkAxe(t *testing.T, ctx context.Context, url, name string, width int64, axe string) {
	t.Helper()
	var raw string
	// Every request the page makes, to check that none leaves this host.
	var mu sync.Mutex
	var requested []string
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	chromedp.ListenTarget(lctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	})
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		base, _ := neturl.Parse(url)
		for _, r := range requested {
			u, err := neturl.Parse(r)
			// data: images of the sheet, and the browser's own viewer of a
			// PDF, are not requests to a host.
			if err != nil || (u.Scheme != "data" && u.Scheme != "chrome-extension" && u.Host != base.Host) {
				t.Errorf("%s at %d px requested %q, of another host", name, width, r)
			}
		}
		if len(requested) < 3 {
			t.Errorf("%s at %d px: only %d requests seen (%q): the page, its sheets and scripts at least", name, width, len(requested), requested)
		}
	}()
	err := chromedp.Run(ctx,
		network.Enable(),
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(url),
		chromedp.WaitReady("main", chromedp.ByQuery),
		chromedp.Evaluate(axe, nil),
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => JSON.stringify({Violations: r.violations, Passes: r.passes.length}))`, &raw, awaitPromise),
	)
	if err != nil {
		t.Fatalf("%s at %d px: %v", name, width, err)
	}
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	// axe ran its rules: even a short page passes several.
	if res.Passes < 5 {
		t.Errorf("%s at %d px: axe passed only %d rules", name, width, res.Passes)
	}
	t.Logf("%s %d: %d passes", name, width, res.Passes)
	for _, v := range res.Violations {
		var where []string
		for _, n := range v.Nodes {
			b, _ := json.Marshal(n.Target)
			where = append(where, string(b))
		}
		t.Errorf("%s at %d px: %s (%s): %s — %s", name, width, v.ID, v.Impact, v.Help, strings.Join(where, " "))
	}
}
