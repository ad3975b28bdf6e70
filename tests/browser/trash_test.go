package browser

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/gateway/demo"
	"github.com/bassareggiana/faldone/tests/harness"
)

// binRow is the XPath of the row of the recycle bin that holds what was
// deleted from rel (a path below the Comune).
func binRow(rel string) string {
	return fmt.Sprintf(`//tr[contains(@class,"voce")][.//span[@class="percorso" and text()=%q]]`, rel)
}

// fetchText reads a URL of the gateway with the page's session, as a
// download would, and returns its status, body and one header.
func fetchText(url, header string) string {
	return fmt.Sprintf(`(async function(){
		var r = await fetch(%q);
		return JSON.stringify([String(r.status), await r.text(), r.headers.get(%q) || ""]); })()`, url, header)
}

// TestTrash: the recycle bin of a Comune and the versions of a file, in
// the browser, at a tablet's and a desktop's size. An editor restores what
// WebDAV deleted, at its place and under another name, and is asked for a
// new name where the place is taken; a manager purges; a reader is
// refused. On a file's page, a version is downloaded and made current.
func TestTrash(t *testing.T) {
	dir := filepath.Join(harness.Root(), "tests", "a11y")
	if err := harness.NpmCI(dir); err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		editore, editorePass   = "editore", "password-dell-editore"
		capo, capoPass         = "responsabile", "password-del-responsabile"
		lettore, lettorePass   = "lettore", "password-del-lettore"
		comune                 = "/guastalla"
		relDossier             = "2019/PC-2019-0042"
		sameDay                = "02/01/2006"
		binURL                 = "/_/cestino/guastalla/"
		assignmentsForThisTest = "access:\n  admins: [operatore]\n  assignments:\n" +
			"    - {person: editore, comune: guastalla, role: editor}\n" +
			"    - {person: responsabile, comune: guastalla, role: manager}\n" +
			"    - {person: lettore, comune: guastalla, role: reader}\n"
	)
	g := harness.StartServe(t, assignmentsForThisTest)
	ed := g.AddUser(editore, editorePass)
	g.AddUser(capo, capoPass)
	g.AddUser(lettore, lettorePass)
	if _, err := demo.Seed(filepath.Join(g.DataDir, "archivio"), []demo.Comune{{ID: "guastalla", Name: "Guastalla"}}); err != nil {
		t.Fatal(err)
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	put := func(p, content string) {
		t.Helper()
		if code, body, _ := ed.Status("PUT", p, nil, content); code != 201 && code != 204 {
			t.Fatalf("PUT %s: %d %s", p, code, body)
		}
	}
	del := func(p string) {
		t.Helper()
		if code, body, _ := ed.Status("DELETE", p, nil, ""); code != 204 {
			t.Fatalf("DELETE %s: %d %s", p, code, body)
		}
	}
	// sameBytes checks a file's bytes through WebDAV against content, by
	// their SHA-256.
	sameBytes := func(p, content string) {
		t.Helper()
		code, body, _ := ed.Status("GET", p, nil, "")
		if code != 200 || sha256.Sum256([]byte(body)) != sha256.Sum256([]byte(content)) {
			t.Errorf("GET %s: %d, %d bytes; want the %d bytes of %.20q", p, code, len(body), len(content), content)
		}
	}

	for _, size := range screens {
		t.Run("bin "+size.name, func(t *testing.T) {
			name := "bozza-" + size.name + ".pdf"
			rel := relDossier + "/" + name
			file := comune + "/" + rel
			content := "%PDF-1.4 bozza " + size.name + " " + strings.Repeat("è", 3000)
			put(file, content)
			del(file)
			today := time.Now().In(rome).Format(sameDay)

			ctx := newBrowser(t)
			var by, when, from string
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, editore, editorePass),
				// From the dossier's folder: the bin searched for what was deleted in it.
				chromedp.Navigate(g.URL+"/_/archivio/guastalla/"+relDossier+"/"),
				chromedp.Click(`#apri-cestino`, chromedp.ByID),
				chromedp.WaitVisible(binRow(rel), chromedp.BySearch),
				chromedp.Text(binRow(rel)+`//span[@class="chi"]`, &by, chromedp.BySearch),
				chromedp.Text(binRow(rel)+`//span[@class="quando"]`, &when, chromedp.BySearch),
				chromedp.Text(binRow(rel)+`//span[@class="da-dove"]`, &from, chromedp.BySearch),
			); err != nil {
				t.Fatalf("open the bin: %v", err)
			}
			screenshot(t, ctx, "cestino-"+size.name)
			if by != editore || !strings.HasPrefix(when, today+" ") || from != "WebDAV 127.0.0.1" {
				t.Errorf("who, when, from: %q, %q, %q; want %q, %s …, WebDAV 127.0.0.1", by, when, from, editore, today)
			}
			var purgeButtons int
			if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll(".elimina-definitivamente").length`, &purgeButtons)); err != nil {
				t.Fatal(err)
			}
			if purgeButtons != 0 {
				t.Errorf("an editor is offered %d purges", purgeButtons)
			}
			checkAxe(t, ctx, g.URL+binURL, "cestino", size.w, string(axe))

			// Restored at its place, with the same bytes.
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+binURL),
				chromedp.Click(binRow(rel)+`//button[contains(@class,"ripristina") and not(contains(@class,"ripristina-come"))]`, chromedp.BySearch),
				chromedp.WaitVisible(`#ripristinato`, chromedp.ByID),
			); err != nil {
				t.Fatalf("restore: %v", err)
			}
			sameBytes(file, content)

			// Deleted again, and restored under another name.
			del(file)
			other := relDossier + "/bozza-" + size.name + "-recuperata.pdf"
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+binURL),
				chromedp.Click(binRow(rel)+`//summary`, chromedp.BySearch),
				chromedp.WaitVisible(binRow(rel)+`//input[@name="come"]`, chromedp.BySearch),
				chromedp.SetValue(binRow(rel)+`//input[@name="come"]`, other, chromedp.BySearch),
				chromedp.Click(binRow(rel)+`//button[contains(@class,"ripristina-come")]`, chromedp.BySearch),
				chromedp.WaitVisible(`#ripristinato`, chromedp.ByID),
			); err != nil {
				t.Fatalf("restore as: %v", err)
			}
			sameBytes(comune+"/"+other, content)
			if code, _, _ := ed.Status("HEAD", file, nil, ""); code != 404 {
				t.Errorf("restored as another name, and at its place too: %d", code)
			}

			// Its name taken by another file (moved there: written there at
			// once, it would be a save of which the deleted one is a
			// version): the page asks for a new name and replaces nothing.
			del(comune + "/" + other)
			const newer = "%PDF-1.4 un altro file"
			put(comune+"/"+relDossier+"/temporaneo.pdf", newer)
			if code, _, _ := ed.Status("MOVE", comune+"/"+relDossier+"/temporaneo.pdf", map[string]string{"Destination": g.URL + comune + "/" + other}, ""); code != 201 {
				t.Fatalf("MOVE onto the name: %d", code)
			}
			var msg, suggested string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+binURL),
				chromedp.Click(binRow(other)+`//button[contains(@class,"ripristina") and not(contains(@class,"ripristina-come"))]`, chromedp.BySearch),
				chromedp.WaitVisible(`#errore`, chromedp.ByID),
				chromedp.Text(`#errore`, &msg, chromedp.ByID),
				chromedp.WaitVisible(binRow(other)+`//input[@name="come"]`, chromedp.BySearch),
				chromedp.Value(binRow(other)+`//input[@name="come"]`, &suggested, chromedp.BySearch),
			); err != nil {
				t.Fatalf("restore onto a name taken: %v", err)
			}
			screenshot(t, ctx, "cestino-nome-occupato-"+size.name)
			if !strings.Contains(msg, "scegli un nuovo nome") || !strings.Contains(msg, other) {
				t.Errorf("the page says %q", msg)
			}
			sameBytes(comune+"/"+other, newer)
			wantSuggested := relDossier + "/bozza-" + size.name + "-recuperata (ripristinato).pdf"
			if suggested != wantSuggested {
				t.Errorf("suggested %q, want %q", suggested, wantSuggested)
			}
			if err := chromedp.Run(ctx,
				chromedp.Click(binRow(other)+`//button[contains(@class,"ripristina-come")]`, chromedp.BySearch),
				chromedp.WaitVisible(`#ripristinato`, chromedp.ByID),
			); err != nil {
				t.Fatalf("restore with the name suggested: %v", err)
			}
			sameBytes(comune+"/"+wantSuggested, content)
			sameBytes(comune+"/"+other, newer)

			// A manager purges, after confirming; the entry is gone.
			del(comune + "/" + wantSuggested)
			boss := newBrowser(t)
			asked := listenDialogs(boss)
			var left int
			if err := chromedp.Run(boss,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, capo, capoPass),
				chromedp.Navigate(g.URL+binURL),
				chromedp.Click(binRow(wantSuggested)+`//button[contains(@class,"elimina-definitivamente")]`, chromedp.BySearch),
				chromedp.WaitNotPresent(binRow(wantSuggested), chromedp.BySearch),
				chromedp.WaitVisible(`#cestino`, chromedp.ByID),
				chromedp.Evaluate(fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, binRow(wantSuggested)), &left),
			); err != nil {
				t.Fatalf("purge: %v", err)
			}
			if left != 0 {
				t.Errorf("purged, and still listed")
			}
			select {
			case m := <-asked:
				if !strings.Contains(m, "definitivamente") || !strings.Contains(m, "ripristinato") {
					t.Errorf("purge confirmation: %q", m)
				}
			default:
				t.Error("the page purged without asking")
			}
			if code, _, _ := ed.Status("HEAD", comune+"/"+wantSuggested, nil, ""); code != 404 {
				t.Errorf("the purged file is back: %d", code)
			}

			// A reader sees no way in, and is refused when forcing it.
			reader := newBrowser(t)
			var links int
			var forced string
			var heading string
			if err := chromedp.Run(reader,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, lettore, lettorePass),
				chromedp.Navigate(g.URL+"/_/archivio/guastalla/"),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll("#apri-cestino").length`, &links),
				chromedp.Evaluate(fetchText(binURL, "Content-Type"), &forced, awaitPromise),
				chromedp.Navigate(g.URL+binURL),
				chromedp.Text(`h1`, &heading, chromedp.ByQuery),
			); err != nil {
				t.Fatalf("reader: %v", err)
			}
			if links != 0 || !strings.HasPrefix(forced, `["403"`) || heading != "Accesso non consentito" {
				t.Errorf("a reader: %d links to the bin, the bin answers %.40s, heading %q", links, forced, heading)
			}
		})

		t.Run("versions "+size.name, func(t *testing.T) {
			file := comune + "/" + relDossier + "/relazione-" + size.name + ".txt"
			first := "Relazione tecnica, prima stesura (" + size.name + ")\n" + strings.Repeat("à", 2000)
			second := "Relazione tecnica, seconda stesura (" + size.name + ")\n"
			put(file, first)
			put(file, second)
			ctx := newBrowser(t)
			var rows int
			var href, got string
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, editore, editorePass),
				chromedp.Navigate(g.URL+"/_/scheda"+file),
				chromedp.WaitVisible(`#elenco-versioni`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll("#elenco-versioni tbody tr").length`, &rows),
				chromedp.AttributeValue(`#elenco-versioni .scarica-versione`, "href", &href, nil, chromedp.ByQuery),
			); err != nil {
				t.Fatalf("the file's page: %v", err)
			}
			screenshot(t, ctx, "versioni-"+size.name)
			if rows != 1 {
				t.Fatalf("%d versions listed, want 1", rows)
			}
			if err := chromedp.Run(ctx, chromedp.Evaluate(fetchText(href, "Content-Disposition"), &got, awaitPromise)); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`["200",%q,"attachment; filename=\"relazione-%s.txt\"; filename*=UTF-8''relazione-%s.txt"]`, first, size.name, size.name)
			if got != want {
				t.Errorf("the version downloaded: %.200s\nwant %.200s", got, want)
			}
			checkAxe(t, ctx, g.URL+"/_/scheda"+file, "scheda-versioni", size.w, string(axe))

			// The page before the restore is marked, to wait for the one after it.
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+file),
				chromedp.Evaluate(`document.body.dataset.prima = "1"`, nil),
				chromedp.Click(`#elenco-versioni .ripristina-versione`, chromedp.ByQuery),
				chromedp.WaitNotPresent(`body[data-prima]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#elenco-versioni`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll("#elenco-versioni tbody tr").length`, &rows),
				chromedp.AttributeValue(`#elenco-versioni .scarica-versione`, "href", &href, nil, chromedp.ByQuery),
			); err != nil {
				t.Fatalf("restore the version: %v", err)
			}
			if err := chromedp.Run(ctx, chromedp.Evaluate(fetchText(href, "Content-Type"), &got, awaitPromise)); err != nil {
				t.Fatal(err)
			}
			sameBytes(file, first)
			if rows != 1 || !strings.HasPrefix(got, fmt.Sprintf(`["200",%q,"text/plain`, second)) {
				t.Errorf("after the restore: %d versions, the version holds %.120s", rows, got)
			}
		})
	}
}
