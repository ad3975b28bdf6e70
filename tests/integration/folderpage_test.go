package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestFolderPageSpaceAndZip: a Comune's page shows its space used and
// left; a dossier's shows its size beside its ZIP; a ZIP above
// pages.zip_confirm_above is asked for again before it starts; the Comuni
// are named, never by their ids, and their own folders offer no rename or
// delete; each action on the page is confirmed in words.
func TestFolderPageSpaceAndZip(t *testing.T) {
	g := harness.StartServe(t, `comuni:
  - {id: guastalla, name: Guastalla, quota: 1MiB}
  - {id: luzzara, name: Luzzara}
pages:
  zip_confirm_above: 1KiB
`)
	const d = "/guastalla/2019/PC-2019-0001"
	for _, p := range []string{"/guastalla/2019", d} {
		mustStatus(t, g, "MKCOL", p, nil, "", http.StatusCreated)
	}
	for _, f := range []string{d + "/a.pdf", d + "/b.pdf"} {
		mustStatus(t, g, "PUT", f, nil, strings.Repeat("x", 600), http.StatusCreated)
	}
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)

	code, page := b.Get("/_/archivio/")
	if code != 200 || !strings.Contains(page, ">Guastalla/<") || strings.Contains(page, ">guastalla/<") || strings.Contains(page, `class="btn btn-outline-danger btn-sm elimina`) {
		t.Errorf("the start page: %d; Comuni by name, no delete of a Comune:\n%s", code, page)
	}
	var space string
	for range 50 {
		if code, page = b.Get("/_/archivio/guastalla/"); strings.Contains(page, `id="spazio-comune"`) {
			space = page
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(space, "Spazio usato: <strong>1,2 kB</strong>") || !strings.Contains(space, "<title>Guastalla — ") {
		t.Errorf("the Comune's page: %d, its space and title missing:\n%s", code, space)
	}
	if code, page = b.Get("/_/archivio/luzzara/"); strings.Contains(page, `id="spazio-comune"`) {
		t.Errorf("a Comune without a quota shows a space: %d", code)
	}
	code, page = b.Get("/_/archivio" + d + "/")
	if code != 200 || !strings.Contains(page, `(2 file, 1,2 kB)`) || !strings.Contains(page, `">Guastalla</a>`) {
		t.Errorf("the dossier's page: %d, its size or the Comune's name in the breadcrumbs missing:\n%s", code, page)
	}
	code, page = b.Get("/_/zip" + d)
	if code != 200 || !strings.Contains(page, `id="zip-grande"`) || !strings.Contains(page, "2 file per 1,2 kB") {
		t.Errorf("a ZIP above the size to confirm: %d, not asked:\n%s", code, page)
	}
	for _, a := range []struct {
		action string
		form   url.Values
		want   string
	}{
		{"/_/modifica" + d, url.Values{"azione": {"cartella"}, "nome": {"Rilievi"}}, "Cartella «Rilievi» creata."},
		{"/_/modifica" + d + "/Rilievi", url.Values{"azione": {"rinomina"}, "nome": {"Rilievi 2024"}}, "Rinominato in «Rilievi 2024»."},
		{"/_/modifica" + d + "/Rilievi%202024", url.Values{"azione": {"elimina"}}, "«Rilievi 2024» eliminato."},
	} {
		b.Get("/_/archivio" + d + "/")
		if code, page := b.Post(a.action, a.form); code != 200 || !strings.Contains(page, `id="esito">`+a.want+`<`) {
			t.Errorf("%s %s: %d, no %q", a.action, a.form.Get("azione"), code, a.want)
		}
	}
	if code, page := b.Upload("/_/carica"+d, map[string][]byte{"c.pdf": []byte("%PDF c")}); code != 200 || !strings.Contains(page, `id="esito">1 file caricato.<`) {
		t.Errorf("upload: %d, not confirmed", code)
	}
	resp, err := b.Client().Get(g.URL + "/_/zip" + d + "?conferma=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Errorf("the confirmed ZIP: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
