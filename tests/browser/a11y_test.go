package browser

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		{"accessi", "/_/accessi"},
		{"accessi-pratica", "/_/accessi?percorso=" + dossier},
		{"messaggio", "/_/archivio/nessuno/"},
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
}

func checkAxe(t *testing.T, ctx context.Context, url, name string, width int64, axe string) {
	t.Helper()
	var raw string
	err := chromedp.Run(ctx,
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
