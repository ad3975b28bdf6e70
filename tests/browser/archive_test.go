package browser

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestArchivePages: the archive in the browser — a folder page with
// breadcrumbs, paging through 2,000 entries, sorting, the Comune's search
// box finding a dossier by its number — at a tablet's and a desktop's
// size; and a 200 MiB upload with its progress shown.
func TestArchivePages(t *testing.T) {
	g := harness.StartDemo(t, "")
	big := filepath.Join(g.Archive("guastalla"), "2018")
	os.MkdirAll(big, 0o755)
	for i := range 2000 {
		os.WriteFile(filepath.Join(big, fmt.Sprintf("PC-2018-%04d.pdf", i)), bytes.Repeat([]byte("x"), i), 0o644)
	}
	// A dossier made through the drive gets its catalogue record (not in
	// 2018, whose 2,000 files the paging counts).
	for _, dir := range []string{"/guastalla/2016", "/guastalla/2016/PC-2016-5000"} {
		if code, _, _ := g.Status("MKCOL", dir, nil, ""); code != 201 {
			t.Fatalf("MKCOL %s: %d", dir, code)
		}
	}
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			var count, first, found, crumbs string
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, "demo", g.Pass),
				chromedp.Click(`#sfoglia`, chromedp.ByID),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
			); err != nil {
				t.Fatalf("open the archive: %v", err)
			}
			screenshot(t, ctx, "archivio-"+size.name)
			// Into a Comune, then its year folder, by their links.
			if err := chromedp.Run(ctx,
				chromedp.Click(`//a[@class="cartella" and text()="Guastalla/"]`, chromedp.BySearch),
				chromedp.WaitVisible(`//h1[text()="Guastalla"]`, chromedp.BySearch),
				chromedp.Click(`//a[@class="cartella" and text()="2018/"]`, chromedp.BySearch),
				chromedp.WaitVisible(`//h1[text()="2018"]`, chromedp.BySearch),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				chromedp.Text(`.briciole`, &crumbs),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "cartella-2000-"+size.name)
			if !strings.Contains(count, "2000 elementi") || !strings.Contains(count, "pagina 1 di 20") || !strings.Contains(crumbs, "Guastalla") {
				t.Fatalf("folder page: %q / %q", count, crumbs)
			}
			// Page 2, then sorted by size, largest first, then a search.
			if err := chromedp.Run(ctx,
				chromedp.Click(`#pagina-successiva`, chromedp.ByID),
				chromedp.WaitVisible(`#pagina-precedente`, chromedp.ByID),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				chromedp.Text(`#elenco tbody tr:first-child td`, &first),
			); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(count, "pagina 2 di 20") || first != "PC-2018-0100.pdf" {
				t.Errorf("page 2: %q, first %q", count, first)
			}
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/archivio/guastalla/2018/?ordina=dimensione&verso=desc"),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Text(`#elenco tbody tr:first-child td`, &first),
			); err != nil {
				t.Fatal(err)
			}
			if first != "PC-2018-1999.pdf" {
				t.Errorf("sorted by size: first %q", first)
			}
			// From the Comune's page, its box searches the catalogue among
			// the Comune's dossiers: one made through WebDAV is found.
			var href string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/archivio/guastalla/"),
				chromedp.WaitVisible(`#cerca`, chromedp.ByID),
				chromedp.SendKeys(`#cerca`, "PC-2016-5000", chromedp.ByID),
				chromedp.Click(`#cerca-vai`, chromedp.ByID),
				chromedp.WaitVisible(`#risultati`, chromedp.ByID), // the folder page has a #conteggio too
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				chromedp.Text(`#risultati li:first-child a.pratica`, &found),
				chromedp.AttributeValue(`#risultati li:first-child a.pratica`, "href", &href, nil),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "ricerca-"+size.name)
			if !strings.Contains(count, "1 pratica trovata") || found != "PC-2016-5000" || href != "/_/archivio/guastalla/2016/PC-2016-5000/" {
				t.Errorf("search from the Comune: %q, first %q → %q", count, found, href)
			}
		})
	}

	// A 200 MiB upload from the page, with its progress shown.
	t.Run("upload with progress", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "scansione-tavole.pdf")
		f, err := os.Create(src)
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("%PDF scansione "), 1<<16)
		for written := 0; written < 200<<20; written += len(chunk) {
			f.Write(chunk)
		}
		f.Close()
		st, _ := os.Stat(src)
		ctx := newBrowser(t)
		if err := chromedp.Run(ctx,
			harness.SignIn(g.URL, "demo", g.Pass),
			chromedp.Navigate(g.URL+"/_/archivio/guastalla/2019/PC-2019-0042/"),
			openUpload,
			chromedp.WaitVisible(`#modulo-carica`, chromedp.ByID),
			chromedp.SetUploadFiles(`#file`, []string{src}, chromedp.ByID),
			chromedp.Click(`#carica`, chromedp.ByID),
		); err != nil {
			t.Fatalf("start the upload: %v", err)
		}
		// Watch the bar: it must show a value between the ends, then finish.
		seen := map[int]bool{}
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			var v int
			if err := chromedp.Run(ctx, chromedp.Evaluate(`(function(){var b=document.getElementById("avanzamento");return b?Math.round(b.value):-1})()`, &v)); err == nil {
				seen[v] = true
			}
			if code, _, h := g.Status("HEAD", "/guastalla/2019/PC-2019-0042/scansione-tavole.pdf", nil, ""); code == 200 && h.Get("Content-Length") == fmt.Sprint(st.Size()) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		partial := false
		for v := range seen {
			partial = partial || (v > 0 && v < 100)
		}
		if !partial {
			t.Errorf("no progress shown between 0 and 100 %%: %v", seen)
		}
		code, _, h := g.Status("HEAD", "/guastalla/2019/PC-2019-0042/scansione-tavole.pdf", nil, "")
		if code != 200 || h.Get("Content-Length") != fmt.Sprint(st.Size()) {
			t.Fatalf("uploaded file: %d, %s bytes, want %d", code, h.Get("Content-Length"), st.Size())
		}
	})
}
