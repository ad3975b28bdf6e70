package web

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/gateway/api"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

const (
	pc42  = "/guastalla/2019/PC-2019-0042"
	scia1 = "/guastalla/2020/SCIA-2020-0001"
	scia7 = "/luzzara/2020/SCIA-2020-0007"
	guest = "ospite"
	chief = "amministratore"
)

// newSearchPages is the pages with the catalogue over a state store that
// holds three dossiers, one with a file whose text is a trap for the
// page's escaping. The administrator reads everything; the guest has a
// grant on one dossier of luzzara.
func newSearchPages(t *testing.T) *pages {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "guastalla", "2019", "PC-2019-0042"), 0o755)
	fs, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	for _, d := range []state.Dossier{
		{Path: pc42, Comune: "guastalla", Year: 2019, Type: "PdC", Number: "PC-2019-0042", Subject: "Ampliamento di fabbricato <b>residenziale</b>",
			Applicants: []state.Applicant{{Name: "Nicolò Caffè"}}, Addresses: []state.Address{{Street: "Via Gonzaga", Number: "12/A", Locality: "San Girolamo"}},
			Parcels: []state.Parcel{{Register: "F", Sheet: "12", Number: "345", Sub: "2"}}},
		{Path: scia1, Comune: "guastalla", Year: 2020, Type: "SCIA", Number: "SCIA-2020-0001", Subject: "Rifacimento del tetto"},
		{Path: scia7, Comune: "luzzara", Year: 2020, Type: "SCIA", Number: "SCIA-2020-0007", Subject: "Recinzione"},
	} {
		if err := st.PutDossier(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutFileText(ctx, state.FileText{Path: pc42 + "/relazione tecnica.pdf", Dossier: pc42, ETag: "1",
		Text: `Relazione: <script>alert("x")</script> il cappotto termico & la pergola`}); err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	comuni := []Comune{{"guastalla", "Guastalla"}, {"luzzara", "Luzzara"}}
	cat := catalogue.New(st, catalogue.Options{Comuni: []string{"guastalla", "luzzara"}})
	p := &pages{t: t, store: st, svc: archive.New(fs, st, archive.Options{}), sessions: auth.NewSessions(st, time.Hour, 8*time.Hour)}
	p.h, err = New(Config{
		Sessions: p.sessions, Archive: p.svc, Location: rome, Log: slog.New(slog.DiscardHandler), Comuni: comuni, Catalogue: cat,
		Policy: func(_ context.Context, s state.Session) (Decider, error) {
			if s.Person == chief {
				return access.NewPolicy(access.Subject{Admin: true}), nil
			}
			return access.NewPolicy(access.Subject{Grants: []access.Grant{{Path: scia7}}}), nil
		},
		Audit: func(_ *http.Request, person, method, path string, status int) {
			p.audit = append(p.audit, person+" "+method+" "+path+" "+strconv.Itoa(status))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	resultRE = regexp.MustCompile(`<a class="pratica" href="([^"]+)">`)
	hrefRE   = regexp.MustCompile(`href="(/_/cerca\?[^"]*)"`)
)

// folders are the dossier folders a results page links, in its order.
func folders(body string) []string {
	var out []string
	for _, m := range resultRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// searchLinks are the links of a results page to other searches.
func searchLinks(body string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestSearchPageParameters(t *testing.T) {
	p := newSearchPages(t)
	b := p.signIn(chief)
	for _, tt := range []struct {
		query, message, kept string
	}{
		{"anno=duemila", "Anno non valido", `value="duemila"`},
		{"anno=2021-2018&q=tetto", "Anno non valido", `value="tetto"`},
		{"comune=milano", "Comune sconosciuto: milano.", ""},
		{"tipo=Villa&via=Gonzaga", "Tipo di pratica sconosciuto: Villa.", `value="Gonzaga"`},
		{"foglio=12a", "Foglio non valido: solo cifre.", `value="12a"`},
		{"mappale=-1", "Mappale non valido", `value="-1"`},
		{"q=tetto&pagina=0", "Pagina non valida.", `value="tetto"`},
		{"q=tetto&pagina=" + strconv.Itoa(api.MaxPage+1), "Pagina non valida.", ""},
		{"q=" + strings.Repeat("a", 501), "Ricerca troppo lunga.", ""},
	} {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			p.audit = nil
			w := b.do("GET", "/_/cerca?"+tt.query, nil, nil)
			body := w.Body.String()
			if w.Code != http.StatusBadRequest || !strings.Contains(body, `id="errore-ricerca"`) || !strings.Contains(body, html.EscapeString(tt.message)) {
				t.Fatalf("%d, want 400 with %q\n%s", w.Code, tt.message, body)
			}
			if !strings.Contains(body, `id="modulo-ricerca"`) || !strings.Contains(body, tt.kept) {
				t.Errorf("the form is not kept (%s)", tt.kept)
			}
			if len(folders(body)) != 0 {
				t.Error("results with an error")
			}
			if !slices.Equal(p.audit, []string{chief + " SEARCH / 400"}) {
				t.Errorf("audit %q", p.audit)
			}
		})
	}
	// Nothing asked: the form, no search, nothing audited.
	p.audit = nil
	w := b.do("GET", "/_/cerca?q=&comune=", nil, nil)
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `id="come-cercare"`) || strings.Contains(body, `id="conteggio"`) || len(p.audit) != 0 {
		t.Errorf("the empty search: %d %q\n%s", w.Code, p.audit, body)
	}
	// Signed out: to the sign-in, coming back here.
	w = p.h.serve("GET", "/_/cerca?q=tetto")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/_/accedi?dopo=%2F_%2Fcerca") {
		t.Errorf("signed out: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// serve runs a request without a session.
func (h *Handler) serve(method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestSearchPageResults(t *testing.T) {
	p := newSearchPages(t)
	b := p.signIn(chief)

	t.Run("a file's text, escaped, its words marked", func(t *testing.T) {
		p.audit = nil
		w := b.do("GET", "/_/cerca?q=cappotto", nil, nil)
		body := w.Body.String()
		if w.Code != 200 || !slices.Equal(folders(body), []string{"/_/archivio" + pc42 + "/"}) {
			t.Fatalf("%d %v\n%s", w.Code, folders(body), body)
		}
		for _, want := range []string{
			`<mark>cappotto</mark>`,
			`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
			`&amp; la pergola`,
			`<a class="documento" href="/_/scheda/guastalla/2019/PC-2019-0042/relazione%20tecnica.pdf">relazione tecnica.pdf</a>`,
			`Ampliamento di fabbricato &lt;b&gt;residenziale&lt;/b&gt;`,
			`Guastalla · 2019 · PdC`,
			`Via Gonzaga 12/A, San Girolamo`,
			`Catasto fabbricati, foglio 12, mappale 345, sub. 2`,
			`Nicolò Caffè`,
			`1 pratica trovata`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("no %s", want)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>residenziale") {
			t.Error("the text of the archive is not escaped")
		}
		if !slices.Equal(p.audit, []string{chief + " SEARCH / 200"}) {
			t.Errorf("audit %q", p.audit)
		}
	})

	t.Run("words as typed find nothing: near words", func(t *testing.T) {
		body := b.do("GET", "/_/cerca?q=recinzone", nil, nil).Body.String()
		if !strings.Contains(body, `id="parole-simili"`) || !slices.Equal(folders(body), []string{"/_/archivio" + scia7 + "/"}) {
			t.Errorf("near words: %v\n%s", folders(body), body)
		}
		body = b.do("GET", "/_/cerca?q=zzzzqqqq", nil, nil).Body.String()
		if !strings.Contains(body, "Nessuna pratica trovata.") || !strings.Contains(body, `id="nessun-risultato"`) || strings.Contains(body, `id="parole-simili"`) {
			t.Errorf("nothing found:\n%s", body)
		}
	})

	t.Run("facets narrow the search kept", func(t *testing.T) {
		body := b.do("GET", "/_/cerca?anno=2019-2020", nil, nil).Body.String()
		if len(folders(body)) != 3 {
			t.Fatalf("found %v", folders(body))
		}
		links := searchLinks(body)
		for _, want := range []string{
			"/_/cerca?anno=2019-2020&comune=guastalla", "/_/cerca?anno=2019-2020&comune=luzzara",
			"/_/cerca?anno=2020", "/_/cerca?anno=2019", "/_/cerca?anno=2019-2020&tipo=SCIA", "/_/cerca?anno=2019-2020&tipo=PdC",
		} {
			if !slices.Contains(links, want) {
				t.Errorf("no link %s in %q", want, links)
			}
		}
		for _, want := range []string{"Guastalla (2)", "Luzzara (1)", "2020 (2)", "SCIA (2)", "PdC (1)"} {
			if !strings.Contains(body, want) {
				t.Errorf("no facet %q", want)
			}
		}
		// Followed: the Comune is the filter, and its link takes it away.
		body = b.do("GET", "/_/cerca?anno=2019-2020&comune=guastalla", nil, nil).Body.String()
		if len(folders(body)) != 2 || !strings.Contains(body, `<strong aria-current="true">Guastalla (2)</strong>`) ||
			!slices.Contains(searchLinks(body), "/_/cerca?anno=2019-2020") || strings.Contains(body, "Luzzara (") {
			t.Errorf("narrowed to guastalla: %v %q\n%s", folders(body), searchLinks(body), body)
		}
		if !strings.Contains(body, `<option value="guastalla" selected>`) {
			t.Error("the form does not show the Comune chosen")
		}
	})
}

func TestSearchPagePaging(t *testing.T) {
	p := newSearchPages(t)
	for i := range 45 {
		n := fmt.Sprintf("PC-2018-%04d", i)
		if err := p.store.PutDossier(t.Context(), state.Dossier{Path: "/guastalla/2018/" + n, Comune: "guastalla", Year: 2018, Type: "PdC", Number: n}); err != nil {
			t.Fatal(err)
		}
	}
	b := p.signIn(chief)
	seen := map[string]bool{}
	for _, tt := range []struct {
		page, results int
		prev, next    string
	}{
		{1, 20, "", "/_/cerca?anno=2018&comune=guastalla&pagina=2&tipo=PdC"},
		{2, 20, "/_/cerca?anno=2018&comune=guastalla&pagina=1&tipo=PdC", "/_/cerca?anno=2018&comune=guastalla&pagina=3&tipo=PdC"},
		{3, 5, "/_/cerca?anno=2018&comune=guastalla&pagina=2&tipo=PdC", ""},
	} {
		body := b.do("GET", "/_/cerca?comune=guastalla&anno=2018&tipo=PdC&pagina="+strconv.Itoa(tt.page), nil, nil).Body.String()
		found := folders(body)
		links := searchLinks(body)
		if len(found) != tt.results || !strings.Contains(body, "45 pratiche trovate — pagina "+strconv.Itoa(tt.page)+" di 3") {
			t.Errorf("page %d: %d results\n%s", tt.page, len(found), body)
		}
		if tt.prev != "" && !slices.Contains(links, tt.prev) || tt.next != "" && !slices.Contains(links, tt.next) {
			t.Errorf("page %d: links %q, want %s and %s", tt.page, links, tt.prev, tt.next)
		}
		if tt.prev == "" && strings.Contains(body, `id="pagina-precedente"`) || tt.next == "" && strings.Contains(body, `id="pagina-successiva"`) {
			t.Errorf("page %d: a link past the ends", tt.page)
		}
		if !strings.Contains(body, fmt.Sprintf(`<ol id="risultati" start="%d">`, (tt.page-1)*20+1)) {
			t.Errorf("page %d: the results are not numbered from where the page starts", tt.page)
		}
		for _, f := range found {
			if seen[f] {
				t.Errorf("page %d shows %s again", tt.page, f)
			}
			seen[f] = true
		}
	}
}

func TestSearchPageScope(t *testing.T) {
	p := newSearchPages(t)
	b := p.signIn(guest)
	for _, q := range []string{"anno=2019-2020", "q=SCIA", "q=cappotto", "comune=guastalla"} {
		body := b.do("GET", "/_/cerca?"+q, nil, nil).Body.String()
		want := []string{"/_/archivio" + scia7 + "/"}
		if q == "q=cappotto" || q == "comune=guastalla" {
			want = nil
		}
		if got := folders(body); !slices.Equal(got, want) {
			t.Errorf("%s: the guest finds %v, want %v", q, got, want)
		}
		// The counts are of what the guest sees, and name nothing else.
		if strings.Contains(body, "Guastalla (") || strings.Contains(body, "PdC (") || strings.Contains(body, "2019 (") {
			t.Errorf("%s: facets beyond the grant\n%s", q, body)
		}
		if want != nil && (!strings.Contains(body, "Luzzara (1)") || !strings.Contains(body, "2020 (1)") || !strings.Contains(body, "SCIA (1)")) {
			t.Errorf("%s: the facets do not count the one dossier\n%s", q, body)
		}
		// The form offers the Comuni the guest may read, no other.
		if !strings.Contains(body, `<option value="luzzara"`) || strings.Contains(body, `<option value="guastalla"`) {
			t.Errorf("%s: the Comuni offered", q)
		}
	}
}

func TestSearchBoxes(t *testing.T) {
	p := newSearchPages(t)
	b := p.signIn(chief)
	for _, tt := range []struct {
		target string
		comune bool // the page's own box, with the folder's Comune
	}{
		{"/_/archivio/", false},
		{"/_/archivio/guastalla/", true},
		{"/_/archivio/guastalla/2019/PC-2019-0042/", true},
	} {
		w := b.do("GET", tt.target, nil, nil)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, `<form method="get" action="/_/cerca" class="cerca-testata"`) {
			t.Errorf("%s: %d, no search box in the header", tt.target, w.Code)
		}
		hasComune := strings.Contains(body, `<input type="hidden" name="comune" value="guastalla">`)
		if hasComune != tt.comune || strings.Contains(body, "cerca=") {
			t.Errorf("%s: the folder's box searches the Comune %v, want %v\n%s", tt.target, hasComune, tt.comune, body)
		}
	}
	// Signed out pages have no box.
	if body := p.h.serve("GET", "/_/accedi").Body.String(); strings.Contains(body, "cerca-testata") {
		t.Error("a search box for nobody")
	}
}
