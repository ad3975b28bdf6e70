package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestUploadFailuresInWords: an upload the server refuses says why on the
// page, in the server's words — the Comune's space used up, a file locked
// by the person editing it — and nothing is stored.
func TestUploadFailuresInWords(t *testing.T) {
	g := harness.StartServe(t, `comuni:
  - {id: guastalla, name: Guastalla, quota: 1KiB}
`)
	const d = "/guastalla/2019/PC-2019-0042"
	for _, p := range []string{"/guastalla/2019", d} {
		if code, _, _ := g.Status("MKCOL", p, nil, ""); code != 201 {
			t.Fatalf("MKCOL %s: %d", p, code)
		}
	}
	if code, _, _ := g.Status("PUT", d+"/tavola.dwg", nil, "AC1032 tavola"); code != 201 {
		t.Fatalf("PUT: %d", code)
	}
	if code, _, _ := g.Status("LOCK", d+"/tavola.dwg", map[string]string{"Timeout": "Second-600"},
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>geom. Rossi</D:owner></D:lockinfo>`); code != 200 {
		t.Fatalf("LOCK: %d", code)
	}
	dir := t.TempDir()
	big, locked := filepath.Join(dir, "rilievo.pdf"), filepath.Join(dir, "tavola.dwg")
	os.WriteFile(big, []byte(strings.Repeat("x", 4096)), 0o644)
	os.WriteFile(locked, []byte("AC1032 nuova"), 0o644)

	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h), harness.SignIn(g.URL, g.User, g.Pass)); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ file, want, name string }{
				{big, "Lo spazio dell'archivio del Comune è esaurito", "rilievo.pdf"},
				{locked, "bloccato da operatore, che lo sta modificando", "tavola.dwg"},
			} {
				var status string
				// The space is counted in the background at the start.
				time.Sleep(300 * time.Millisecond)
				if err := chromedp.Run(ctx,
					chromedp.Navigate(g.URL+"/_/archivio"+d+"/"),
					openUpload,
					chromedp.WaitVisible(`#modulo-carica`, chromedp.ByID),
					chromedp.SetUploadFiles(`#file`, []string{c.file}, chromedp.ByID),
					chromedp.Click(`#carica`, chromedp.ByID),
					chromedp.Poll(`(function () { var t = document.getElementById("avanzamento-testo").textContent; return /non riuscito/.test(t) ? t : false; })()`,
						&status, chromedp.WithPollingTimeout(15*time.Second)),
				); err != nil {
					t.Fatalf("%s: upload %s: %v", size.name, c.name, err)
				}
				if !strings.Contains(status, c.want) {
					t.Errorf("%s: upload %s: the page says %q, want %q", size.name, c.name, status, c.want)
				}
			}
		})
	}
	if code, _, _ := g.Status("GET", d+"/rilievo.pdf", nil, ""); code != 404 {
		t.Errorf("the upload beyond the space: %d, want 404", code)
	}
	if _, body, _ := g.Status("GET", d+"/tavola.dwg", nil, ""); body != "AC1032 tavola" {
		t.Errorf("the locked file: %q", body)
	}
}
