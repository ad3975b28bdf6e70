package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"

	"github.com/bassareggiana/faldone/tests/harness"
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

// register writes a register of n rows as the Comuni's software exports
// it: Windows-1252, ";", Italian columns. Row 7 is the one the searches
// look for; the rows in bad are broken as people break them.
func register(t *testing.T, n int, bad map[int][2]string) string {
	t.Helper()
	streets := []string{"Via Roma", "Via XX Settembre", "Piazza Mazzini", "Via Cesare Battisti", "Strada Provinciale 62", "Via Po"}
	surnames := []string{"Rossi", "Bianchi", "Ferrari", "Russo", "Esposito", "Romano", "Colombo", "Ricci"}
	var b strings.Builder
	b.WriteString("comune;anno;tipo;numero;percorso;oggetto;richiedenti;indirizzo;foglio;mappale;subalterno;protocollo;data_protocollo\r\n")
	for i := range n {
		comune, year := "guastalla", 2019
		if i%2 == 1 {
			comune, year = "luzzara", 2020
		}
		number := fmt.Sprintf("PC-%d-%04d", year, i)
		row := map[string]string{
			"comune": comune, "anno": fmt.Sprint(year), "tipo": "PdC", "numero": number,
			"percorso":    fmt.Sprintf("/%s/%d/%s/", comune, year, number),
			"oggetto":     "Ristrutturazione di edificio residenziale",
			"richiedenti": surnames[i%len(surnames)] + " Mario",
			"indirizzo":   fmt.Sprintf("%s %d", streets[i%len(streets)], i%40+1),
			"foglio":      fmt.Sprint(10 + i%30), "mappale": fmt.Sprint(100 + i), "subalterno": "",
			"protocollo": fmt.Sprint(1000 + i), "data_protocollo": fmt.Sprintf("%02d/03/%d", i%28+1, year),
		}
		if i == 7 {
			row["oggetto"] = "Ampliamento del fabbricato con nuova autorimessa"
			row["richiedenti"] = "Nicolò Caffè|Anna Verdi"
			row["indirizzo"] = "Via Gonzaga, 12/A"
			row["foglio"], row["mappale"], row["subalterno"] = "21", "345", "3"
		}
		if f, ok := bad[i]; ok {
			row[f[0]] = f[1]
		}
		var cells []string
		for _, c := range strings.Split("comune;anno;tipo;numero;percorso;oggetto;richiedenti;indirizzo;foglio;mappale;subalterno;protocollo;data_protocollo", ";") {
			cells = append(cells, row[c])
		}
		b.WriteString(strings.Join(cells, ";") + "\r\n")
	}
	out, err := charmap.Windows1252.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCatalogueRegister: a register of 500 rows, Windows-1252, with bad
// rows, imported on each state store: the report names the bad rows and
// the folders; the searches by address, parcel, applicant (accents aside,
// one typing mistake away), part of the number and a word inside a PDF
// find the right dossier; a grantee finds only the granted one, and the
// counts are of what it may see; an import again changes nothing.
func TestCatalogueRegister(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			extra := ""
			if store == "postgres" {
				extra = fmt.Sprintf("state_url: %q\n", postgresDB(t))
			}
			g, _, _ := s3Gateway(t, extra)
			catalogueRegister(t, g)
		})
	}
}

func catalogueRegister(t *testing.T, g *harness.Gateway) {
	w := newBinWorld(t, g)
	for _, dir := range []string{"/guastalla/2019", "/luzzara/2020", "/guastalla/2019/PC-2019-9999"} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	for i := 0; i < 20; i++ { // folders for the first twenty rows
		comune, year := "guastalla", 2019
		if i%2 == 1 {
			comune, year = "luzzara", 2020
		}
		mustStatus(t, g, "MKCOL", fmt.Sprintf("/%s/%d/PC-%d-%04d", comune, year, year, i), nil, "", http.StatusCreated)
	}
	bad := map[int][2]string{100: {"data_protocollo", "31/02/2019"}, 201: {"anno", "20x9"}, 300: {"foglio", "2a"}, 401: {"comune", "Parma"}}
	file := filepath.Join(t.TempDir(), "registro.csv")
	if err := os.WriteFile(file, []byte(register(t, 500, bad)), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.txt")
	code, out := w.cli("catalogue", "import", file, "--report", report)
	if code != 0 || !strings.Contains(out, "imported 496 of 500 rows; 4 bad rows, 476 rows without a folder, 1 folders without a row") {
		t.Fatalf("catalogue import: exit %d\n%s", code, out)
	}
	rep, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"line 102", "line 203", "line 302", "line 403", "31/02/2019", "20x9", "2a", "Parma",
		"no row: /guastalla/2019/PC-2019-9999/", "no folder: /guastalla/2019/PC-2019-0020/"} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("the report does not say %q:\n%.3000s", want, rep)
		}
	}
	const d7 = "/luzzara/2020/PC-2020-0007/"
	for _, tt := range []struct {
		name   string
		params url.Values
		want   []string
	}{
		{"address", url.Values{"q": {"via gonzaga"}}, []string{d7}},
		{"street filter", url.Values{"via": {"Gonzaga"}}, []string{d7}},
		{"foglio and mappale", url.Values{"foglio": {"21"}, "mappale": {"345"}}, []string{d7}},
		{"applicant, accents aside", url.Values{"q": {"caffe nicolo"}}, []string{d7}},
		{"applicant, a typing mistake", url.Values{"q": {"Cafe"}}, []string{d7}},
		{"part of the number", url.Values{"q": {"2020-0007"}}, []string{d7}},
		{"subject and Comune", url.Values{"q": {"autorimessa"}, "comune": {"luzzara"}}, []string{d7}},
		{"subject in another Comune", url.Values{"q": {"autorimessa"}, "comune": {"guastalla"}}, nil},
	} {
		if a := cerca(t, g, tt.params); !slices.Equal(a.paths(), tt.want) {
			t.Errorf("%s (%v): %v, want %v", tt.name, tt.params, a.paths(), tt.want)
		}
	}
	if a := cerca(t, g, url.Values{"q": {"ristrutturazione"}}); a.Total != 495 || a.Facets["comune"]["guastalla"]+a.Facets["comune"]["luzzara"] != 495 {
		t.Errorf("the other rows: %d found, facets %v", a.Total, a.Facets["comune"])
	}
	// A word inside a PDF of the dossier.
	mustStatus(t, g, "PUT", d7+"relazione geotecnica.pdf", nil, pdfOf(t, "Indagine geotecnica: falda a tre metri."), http.StatusCreated)
	deadline := time.Now().Add(30 * time.Second)
	for a := cerca(t, g, url.Values{"q": {"falda"}}); !slices.Equal(a.paths(), []string{d7}); a = cerca(t, g, url.Values{"q": {"falda"}}) {
		if time.Now().After(deadline) {
			t.Fatalf("a word inside a PDF: %v", a.paths())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A grantee finds what the grant shows, and counts nothing else.
	const tecnico = "BNCLCU75B12E253Z" // a geometra, signed in by fiscal number
	if code, out, errOut := runCLI(t, w.bin, t.TempDir(), "Pw-geometra-42\n", "user", "add", tecnico, "--config", g.ConfigFile(), "--data", g.DataDir); code != 0 {
		t.Fatalf("user add: %d\n%s%s", code, out, errOut)
	}
	geometra := g.As(tecnico, "Pw-geometra-42")
	until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	if code, out := w.cli("grant", "add", "--person", tecnico, "--path", strings.TrimSuffix(d7, "/"), "--until", until, "--reason", "Prot. 1/2026"); code != 0 {
		t.Fatalf("grant add: %d\n%s", code, out)
	}
	a := cerca(t, geometra, url.Values{"q": {"ristrutturazione"}})
	if a.Total != 0 || len(a.Facets["comune"]) != 0 {
		t.Errorf("a grantee finds other dossiers: %+v", a)
	}
	if a := cerca(t, geometra, url.Values{"q": {"PC"}}); !slices.Equal(a.paths(), []string{d7}) || a.Total != 1 || a.Facets["comune"]["luzzara"] != 1 {
		t.Errorf("a grantee's search: %+v", a)
	}
	// Again: nothing more changes.
	if code, out := w.cli("catalogue", "import", file); code != 0 || !strings.Contains(out, "imported 496 of 500") {
		t.Fatalf("catalogue import again: exit %d\n%s", code, out)
	}
	if a := cerca(t, g, url.Values{"q": {"ristrutturazione"}}); a.Total != 495 {
		t.Errorf("after the second import: %d", a.Total)
	}
	// Exported as it was imported.
	exported := filepath.Join(t.TempDir(), "export.csv")
	if code, out := w.cli("catalogue", "export", "--comune", "luzzara", "--output", exported); code != 0 {
		t.Fatalf("catalogue export: %d\n%s", code, out)
	}
	text, _ := os.ReadFile(exported)
	if n := strings.Count(string(text), "\r\n"); n != 1+248 || !strings.Contains(string(text), "Nicolò Caffè|Anna Verdi") || !strings.Contains(string(text), "Via Gonzaga, 12/A") {
		t.Errorf("export: %d lines\n%.600s", n, text)
	}
	if code, out := w.cli("catalogue", "status"); code != 0 || !strings.Contains(out, "files indexed: 1") {
		t.Errorf("catalogue status: %d\n%s", code, out)
	}
}

// TestCatalogueDemo: the demo's sample dossiers are in the catalogue, and
// the words of their PDFs are indexed, so that its search finds them.
func TestCatalogueDemo(t *testing.T) {
	g := harness.StartDemo(t, "")
	if a := cerca(t, g, url.Values{"q": {"PC-2023-0031"}, "comune": {"guastalla"}}); !slices.Equal(a.paths(), []string{"/guastalla/2023/PC-2023-0031/"}) {
		t.Errorf("a sample dossier by its number: %+v", a)
	}
	if a := cerca(t, g, url.Values{"q": {"Cafe"}}); a.Total == 0 {
		t.Errorf("a sample applicant, one typing mistake away: %+v", a)
	}
	deadline := time.Now().Add(60 * time.Second)
	for a := cerca(t, g, url.Values{"q": {"relazione tecnica"}, "comune": {"luzzara"}}); a.Total == 0; a = cerca(t, g, url.Values{"q": {"relazione tecnica"}, "comune": {"luzzara"}}) {
		if time.Now().After(deadline) {
			t.Fatalf("the words of the sample PDFs are not indexed\n%s", tail(g.Log(), 3000))
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The administrators' page of the index says how far it is.
	ps := signInPages(t, g, g.User, g.Pass)
	if _, body := ps.get("/_/profilo"); !strings.Contains(body, `id="link-indice"`) {
		t.Errorf("no link to the index's page for an administrator")
	}
	code, body := ps.get("/_/indice")
	if code != http.StatusOK || !strings.Contains(body, `id="indicizzati"`) || strings.Contains(body, `id="indicizzati">0<`) {
		t.Errorf("the index's page: %d\n%.1500s", code, body)
	}
}

// TestCatalogueRecordPage: an editor edits a dossier's record on its page,
// with the form's rules, and the change is in the access log with the
// fields it changed; a reader sees the record and no form, and may not
// post one; a closed dossier's record does not change.
func TestCatalogueRecordPage(t *testing.T) {
	g, _, _ := s3Gateway(t, "access:\n  admins: [operatore]\n  assignments:\n    - {person: editore, comune: guastalla, role: editor}\n    - {person: lettore, comune: guastalla, role: reader}\n")
	g.AddUser("editore", "editore-Pw-42")
	g.AddUser("lettore", "lettore-Pw-42")
	const d = "/guastalla/2019/PC-2019-0042"
	for _, dir := range []string{"/guastalla/2019", d} {
		mustStatus(t, g, "MKCOL", dir, nil, "", http.StatusCreated)
	}
	ed := signInPages(t, g, "editore", "editore-Pw-42")
	if _, body := ed.get("/_/archivio" + d + "/"); !strings.Contains(body, `id="apri-scheda-fascicolo"`) {
		t.Fatalf("no link to the record on the dossier's page:\n%.1500s", body)
	}
	code, page := ed.get("/_/fascicolo" + d)
	m := csrfField.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil || !strings.Contains(page, `id="modulo-scheda"`) || !strings.Contains(page, `value="PC-2019-0042"`) {
		t.Fatalf("the record's page: %d\n%.1500s", code, page)
	}
	form := url.Values{"csrf": {m[1]}, "tipo": {"PdC"}, "numero": {"PC-2019-0042"}, "anno": {"2019"},
		"oggetto": {"Ampliamento con nuova veranda"}, "data_protocollo": {"05/03/2019"},
		"richiedente_nome": {"Nicolò Caffè", ""}, "richiedente_cf": {"CFFNCL70A01E253X", ""},
		"indirizzo_via": {"Via Gonzaga", ""}, "indirizzo_civico": {"12/A", ""}, "indirizzo_localita": {"", ""},
		"catasto_registro": {"F", ""}, "catasto_foglio": {"21", ""}, "catasto_mappale": {"345", ""}, "catasto_sub": {"3", ""}}
	if code, body := ed.post("/_/fascicolo"+d, form); code != http.StatusOK || !strings.Contains(body, `id="scheda-salvata"`) {
		t.Fatalf("saving the record: %d\n%.1500s", code, body)
	}
	if a := cerca(t, g, url.Values{"q": {"veranda"}}); !slices.Equal(a.paths(), []string{d + "/"}) {
		t.Errorf("the edited record is not found: %+v", a)
	}
	if a := cerca(t, g, url.Values{"foglio": {"21"}, "mappale": {"345"}}); !slices.Equal(a.paths(), []string{d + "/"}) {
		t.Errorf("the edited parcel: %+v", a)
	}
	// The form's rules, in Italian; nothing saved.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("data_protocollo", "31/02/2019")
	bad.Set("oggetto", "Non salvato")
	bad["catasto_foglio"] = []string{"2a", ""}
	if code, body := ed.post("/_/fascicolo"+d, bad); code != http.StatusBadRequest || !strings.Contains(body, "Data di protocollo") || !strings.Contains(body, "catastale") || !strings.Contains(body, "Non salvato") {
		t.Errorf("an invalid record: %d\n%.2000s", code, body)
	}
	if a := cerca(t, g, url.Values{"q": {"salvato"}}); a.Total != 0 {
		t.Errorf("an invalid record was saved: %+v", a)
	}
	// A reader sees the record, and may not change it.
	rd := signInPages(t, g, "lettore", "lettore-Pw-42")
	code, page = rd.get("/_/fascicolo" + d)
	if code != http.StatusOK || strings.Contains(page, `id="modulo-scheda"`) || !strings.Contains(page, "Nicolò Caffè") || !strings.Contains(page, "foglio 21 mappale 345") {
		t.Errorf("a reader's view: %d\n%.1500s", code, page)
	}
	rm := csrfField.FindStringSubmatch(page)
	if rm == nil {
		t.Fatal("no CSRF token on the reader's page")
	}
	form.Set("csrf", rm[1])
	if code, _ := rd.post("/_/fascicolo"+d, form); code != http.StatusForbidden {
		t.Errorf("a reader's post: %d", code)
	}
	// Closed: the record stays as it is.
	w := newBinWorld(t, g)
	if code, out := w.cli("dossier", "close", d, "--reason", "Fine lavori"); code != 0 {
		t.Fatalf("dossier close: %d\n%s", code, out)
	}
	_, page = ed.get("/_/fascicolo" + d)
	if strings.Contains(page, `id="modulo-scheda"`) || !strings.Contains(page, "Fascicolo chiuso il") {
		t.Errorf("a closed dossier's record page:\n%.1500s", page)
	}
	form.Set("csrf", m[1])
	if code, _ := ed.post("/_/fascicolo"+d, form); code != http.StatusForbidden {
		t.Errorf("an edit of a closed dossier's record: %d", code)
	}
	// In the access log: who changed which fields.
	if code, out := w.cli("audit", "--person", "editore"); code != 0 || !strings.Contains(out, "RECORD-EDIT") || !strings.Contains(out, "campi=oggetto,richiedenti,indirizzi,catasto,data_protocollo") {
		t.Errorf("the access log: %d\n%s", code, out)
	}
}
