package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// apiAnswer is what GET /_/api/cerca answers.
type apiAnswer struct {
	Total   int `json:"totale"`
	Results []struct {
		Path    string `json:"percorso"`
		Comune  string `json:"comune"`
		Year    int    `json:"anno"`
		Type    string `json:"tipo"`
		Number  string `json:"numero"`
		Excerpt string `json:"estratto"`
	} `json:"risultati"`
	Facets map[string]map[string]int `json:"faccette"`
}

// cerca runs a search through the JSON endpoint, as g's person.
func cerca(t *testing.T, g interface {
	Status(method, path string, header map[string]string, body string) (int, string, http.Header)
}, params url.Values) apiAnswer {
	t.Helper()
	code, body, h := g.Status("GET", "/_/api/cerca?"+params.Encode(), nil, "")
	if code != http.StatusOK || h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET /_/api/cerca?%s: %d %s\n%s", params.Encode(), code, h.Get("Content-Type"), body)
	}
	var a apiAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("the answer is no JSON: %v\n%s", err, body)
	}
	return a
}

func (a apiAnswer) paths() []string {
	var ps []string
	for _, r := range a.Results {
		ps = append(ps, r.Path)
	}
	slices.Sort(ps)
	return ps
}

// TestCatalogueFollowsTheDrive: a dossier folder made, renamed, deleted
// and restored through WebDAV is found, and found again, by the JSON
// endpoint, as the drive's credentials allow.
func TestCatalogueFollowsTheDrive(t *testing.T) {
	g, _, _ := s3Gateway(t)
	for _, dir := range []string{"/guastalla/2019", "/guastalla/2019/PC-2019-0042", "/luzzara/2020", "/luzzara/2020/SCIA-2020-0007"} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	a := cerca(t, g, url.Values{"q": {"0042"}})
	if !slices.Equal(a.paths(), []string{"/guastalla/2019/PC-2019-0042/"}) || a.Results[0].Year != 2019 || a.Results[0].Type != "PdC" {
		t.Fatalf("a new dossier: %+v", a)
	}
	if a := cerca(t, g, url.Values{"comune": {"luzzara"}}); !slices.Equal(a.paths(), []string{"/luzzara/2020/SCIA-2020-0007/"}) || a.Facets["tipo"]["SCIA"] != 1 {
		t.Errorf("by Comune: %+v", a)
	}
	mustStatus(t, g, "MOVE", "/guastalla/2019/PC-2019-0042", map[string]string{"Destination": g.URL + "/guastalla/2019/PC-2019-0043"}, "", http.StatusCreated)
	if a := cerca(t, g, url.Values{"q": {"PC-2019"}}); !slices.Equal(a.paths(), []string{"/guastalla/2019/PC-2019-0043/"}) {
		t.Errorf("after a rename: %+v", a)
	}
	mustStatus(t, g, "DELETE", "/guastalla/2019/PC-2019-0043", nil, "", http.StatusNoContent)
	if a := cerca(t, g, url.Values{"q": {"PC-2019"}}); a.Total != 0 {
		t.Errorf("a deleted dossier found: %+v", a)
	}
	w := newBinWorld(t, g)
	id := w.one("PC-2019-0043", "trash", "list", "--comune", "guastalla")
	if code, out := w.cli("trash", "restore", id); code != 0 {
		t.Fatalf("trash restore: %d\n%s", code, out)
	}
	if a := cerca(t, g, url.Values{"q": {"PC-2019"}}); !slices.Equal(a.paths(), []string{"/guastalla/2019/PC-2019-0043/"}) {
		t.Errorf("restored: %+v", a)
	}
	for _, bad := range []url.Values{{"anno": {"duemila"}}, {"comune": {"parma"}}, {"foglio": {"2a"}}, {"pagina": {"0"}}} {
		if code, body, _ := g.Status("GET", "/_/api/cerca?"+bad.Encode(), nil, ""); code != http.StatusBadRequest || !json.Valid([]byte(body)) {
			t.Errorf("%v: %d %s", bad, code, body)
		}
	}
	if code, _, _ := g.As("nessuno", "sbagliata").Status("GET", "/_/api/cerca?q=x", nil, ""); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", code)
	}
}

// pdfOf writes a PDF whose one page holds text, in the core Helvetica
// font (Windows-1252, so accents go through the translator).
func pdfOf(t *testing.T, text string) string {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetFont("Helvetica", "", 12)
	pdf.AddPage()
	pdf.MultiCell(0, 6, tr(text), "", "", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestCatalogueWordsInside: a word found only inside a PDF of a dossier
// finds the dossier once the background index has read it, with an
// excerpt; rewritten, the old words go; deleted, the file's text goes.
func TestCatalogueWordsInside(t *testing.T) {
	g, _, _ := s3Gateway(t)
	const d = "/guastalla/2019/PC-2019-0042"
	for _, dir := range []string{"/guastalla/2019", d, "/luzzara/2020"} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	rel := d + "/relazione geologica.pdf"
	mustStatus(t, g, "PUT", rel, nil, pdfOf(t, "Relazione geologica: il terreno è argilloso, le fondazioni saranno a platea."), http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/tavola.dwg", nil, "AC1032 argilloso", http.StatusCreated) // a drawing: not read
	mustStatus(t, g, "PUT", "/luzzara/2020/sparso.pdf", nil, pdfOf(t, "argilloso anche qui"), http.StatusCreated)
	waitFor := func(q string, want []string) apiAnswer {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			a := cerca(t, g, url.Values{"q": {q}})
			if slices.Equal(a.paths(), want) || time.Now().After(deadline) {
				if !slices.Equal(a.paths(), want) {
					t.Fatalf("search %q: %v, want %v\n%s", q, a.paths(), want, tail(g.Log(), 3000))
				}
				return a
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	a := waitFor("argillosi fondazione", []string{d + "/"})
	if !strings.Contains(a.Results[0].Excerpt, "argilloso") {
		t.Errorf("the excerpt: %q", a.Results[0].Excerpt)
	}
	mustStatus(t, g, "PUT", rel, nil, pdfOf(t, "Relazione sismica: zona 3."), http.StatusNoContent)
	waitFor("sismica", []string{d + "/"})
	waitFor("argilloso", nil)
	mustStatus(t, g, "DELETE", rel, nil, "", http.StatusNoContent)
	waitFor("sismica", nil)
}
