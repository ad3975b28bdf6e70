package statetest

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/words"
)

// RunCatalogue runs the conformance tests of a state.CatalogueStore; open
// returns an empty store.
func RunCatalogue(t *testing.T, open func(t *testing.T) state.CatalogueStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, state.CatalogueStore)
	}{
		{"RoundTrip", testDossierRoundTrip},
		{"Words", testDossierWords},
		{"Filters", testDossierFilters},
		{"Scope", testDossierScope},
		{"FileText", testDossierFileText},
		{"MoveDelete", testDossierMoveDelete},
		{"NearWords", testDossierNearWords},
		{"Paging", testDossierPaging},
		{"IndexJobs", testIndexJobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// sampleDossiers are a few dossiers of two Comuni, as a register gives them.
func sampleDossiers() []state.Dossier {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return []state.Dossier{
		{Path: "/guastalla/2019/PC-2019-0042", Comune: "guastalla", Year: 2019, Type: "PdC", Number: "PC-2019-0042",
			Subject:    "Ampliamento di fabbricato residenziale con nuovi progetti di recinzione",
			Applicants: []state.Applicant{{Name: "Nicolò Caffè", FiscalCode: "CFFNCL70A01E253X"}, {Name: "Maria Rossi"}},
			Designer:   "Geom. Luca Bianchi",
			Addresses:  []state.Address{{Street: "Via Gonzaga", Number: "12/A", Locality: "San Girolamo"}},
			Parcels:    []state.Parcel{{Register: "F", Sheet: "21", Number: "345", Sub: "3"}, {Register: "F", Sheet: "21", Number: "346"}},
			Protocol:   "4521", ProtocolDate: "2019-03-05", Submitted: "2019-03-04", Issued: "2019-07-20",
			Status: "rilasciato", Notes: "Pratica completa", Identifier: "GUA-2019-PC-0042", AggregationType: "Fascicolo",
			DossierKind: "procedimento amministrativo", Administration: "Comune di Guastalla", Office: "Sportello unico edilizia",
			Responsible: "Arch. Anna Verdi", Opened: "2019-03-04", Closed: "2019-07-20", Updated: at, UpdatedBy: "import"},
		{Path: "/guastalla/2020/SCIA-2020-0007", Comune: "guastalla", Year: 2020, Type: "SCIA", Number: "SCIA-2020-0007",
			Subject:   "Manutenzione straordinaria della copertura",
			Addresses: []state.Address{{Street: "Piazza Mazzini", Number: "1"}},
			Parcels:   []state.Parcel{{Register: "F", Sheet: "7", Number: "120"}}, Updated: at, UpdatedBy: "import"},
		{Path: "/luzzara/2019/PC-2019-0042", Comune: "luzzara", Year: 2019, Type: "PdC", Number: "PC-2019-0042",
			Subject:   "Nuova costruzione di autorimessa",
			Addresses: []state.Address{{Street: "Via Gonzaga", Number: "3", Locality: "Codisotto"}},
			Parcels:   []state.Parcel{{Register: "T", Sheet: "21", Number: "345"}}, Updated: at, UpdatedBy: "import"},
		{Path: "/luzzara/2021/CILA-2021-0100", Comune: "luzzara", Year: 2021, Type: "CILA", Number: "CILA-2021-0100",
			Subject: "Rifacimento bagno", Applicants: []state.Applicant{{Name: "Giuseppe Rossini"}}, Updated: at, UpdatedBy: "import"},
	}
}

func putAll(t *testing.T, s state.CatalogueStore, ds []state.Dossier) {
	t.Helper()
	for _, d := range ds {
		if err := s.PutDossier(t.Context(), d); err != nil {
			t.Fatalf("PutDossier %s: %v", d.Path, err)
		}
	}
}

// search runs q with every scope and returns the paths found, in order.
func search(t *testing.T, s state.CatalogueStore, q state.DossierQuery) ([]string, state.DossierResult) {
	t.Helper()
	if !q.Scope.All && len(q.Scope.Comuni) == 0 && len(q.Scope.Paths) == 0 {
		q.Scope.All = true
	}
	res, err := s.SearchDossiers(t.Context(), q)
	if err != nil {
		t.Fatalf("SearchDossiers %+v: %v", q, err)
	}
	var paths []string
	for _, h := range res.Hits {
		paths = append(paths, h.Path)
	}
	return paths, res
}

func sorted(ps []string) []string { return slices.Sorted(slices.Values(ps)) }

func testDossierRoundTrip(t *testing.T, s state.CatalogueStore) {
	ds := sampleDossiers()
	putAll(t, s, ds)
	got, err := s.DossierByPath(t.Context(), ds[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ds[0]) {
		t.Errorf("DossierByPath =\n%+v\nwant\n%+v", got, ds[0])
	}
	// Replaced whole: fields left out are gone, the words with them.
	d := state.Dossier{Path: ds[0].Path, Comune: "guastalla", Year: 2019, Subject: "Variante", Updated: ds[0].Updated}
	if err := s.PutDossier(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DossierByPath(t.Context(), d.Path); !reflect.DeepEqual(got, d) {
		t.Errorf("after a replace: %+v", got)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("ampliamento fabbricato")}); len(ps) != 0 {
		t.Errorf("the words of the replaced record still find it: %v", ps)
	}
	if _, err := s.DossierByPath(t.Context(), "/guastalla/2019/nessuna"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DossierByPath of none: %v", err)
	}
	for _, bad := range []state.Dossier{{Path: ""}, {Path: "relativa"}, {Path: "/guastalla/x/"}, {Path: "/guastalla/x", Comune: "luzzara"}} {
		if err := s.PutDossier(t.Context(), bad); err == nil {
			t.Errorf("PutDossier(%+v) accepted", bad)
		}
	}
	byPath, err := s.DossiersByPath(t.Context(), []string{ds[1].Path, "/guastalla/2019/nessuna", ds[3].Path})
	if err != nil || len(byPath) != 2 || !reflect.DeepEqual(byPath[ds[3].Path], ds[3]) {
		t.Errorf("DossiersByPath = %v, %v", byPath, err)
	}
	var all []string
	if err := s.Dossiers(t.Context(), "/guastalla", func(d state.Dossier) error { all = append(all, d.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/guastalla/2019/PC-2019-0042", "/guastalla/2020/SCIA-2020-0007"}; !slices.Equal(all, want) {
		t.Errorf("Dossiers(/guastalla) = %v, want %v", all, want)
	}
}

func testDossierWords(t *testing.T, s state.CatalogueStore) {
	putAll(t, s, sampleDossiers())
	const g42, l42, g7, l100 = "/guastalla/2019/PC-2019-0042", "/luzzara/2019/PC-2019-0042", "/guastalla/2020/SCIA-2020-0007", "/luzzara/2021/CILA-2021-0100"
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"progetto", []string{g42}},               // the stem: "progetti" in the subject
		{"ampliamenti fabbricati", []string{g42}}, // every word, stemmed
		{"ampliamento autorimessa", nil},          // every word must match
		{"via gonzaga", []string{g42, l42}},
		{"Nicolo", []string{g42}}, // accents folded: Nicolò
		{"CAFFE", []string{g42}},
		{"rossi maria", []string{g42}}, // not Rossini: a word, not a prefix
		{"rossi x", nil},
		{"rossi", []string{g42, l100}}, // the last word, a prefix too: Rossini
		{"0042", []string{g42, l42}},   // part of the number
		{"PC-2019", []string{g42, l42}},
		{"2019-0042", []string{g42, l42}},
		{"SCIA-2020-0007", []string{g7}},
		{"004", []string{g42, l42}}, // a number is a prefix
		{"CFFNCL70A01E253X", []string{g42}},
		{"mappale 345", []string{g42, l42}},
		{"san girolamo", []string{g42}},
		{"Anna Verdi", nil},                            // the person responsible is no word of the search
		{"manutenzione della copertura", []string{g7}}, // "della" left out
		{"inesistente", nil},
	} {
		ps, res := search(t, s, state.DossierQuery{Terms: words.Query(tt.q)})
		if !slices.Equal(sorted(ps), sorted(tt.want)) || res.Total != len(tt.want) {
			t.Errorf("search %q = %v (total %d), want %v", tt.q, ps, res.Total, tt.want)
		}
	}
}

func testDossierFilters(t *testing.T, s state.CatalogueStore) {
	putAll(t, s, sampleDossiers())
	const g42, l42, g7, l100 = "/guastalla/2019/PC-2019-0042", "/luzzara/2019/PC-2019-0042", "/guastalla/2020/SCIA-2020-0007", "/luzzara/2021/CILA-2021-0100"
	for _, tt := range []struct {
		name string
		q    state.DossierQuery
		want []string
	}{
		{"Comune", state.DossierQuery{Comuni: []string{"luzzara"}}, []string{l42, l100}},
		{"two Comuni", state.DossierQuery{Comuni: []string{"luzzara", "guastalla"}}, []string{g42, g7, l42, l100}},
		{"words and Comune", state.DossierQuery{Terms: words.Query("via gonzaga"), Comuni: []string{"guastalla"}}, []string{g42}},
		{"years", state.DossierQuery{YearFrom: 2020}, []string{g7, l100}},
		{"year range", state.DossierQuery{YearFrom: 2019, YearTo: 2020}, []string{g42, g7, l42}},
		{"type", state.DossierQuery{Type: "PdC"}, []string{g42, l42}},
		{"foglio and mappale", state.DossierQuery{Sheet: "21", Parcel: "345"}, []string{g42, l42}},
		{"mappale", state.DossierQuery{Parcel: "346"}, []string{g42}},
		{"foglio, mappale and Comune", state.DossierQuery{Sheet: "21", Parcel: "345", Comuni: []string{"luzzara"}}, []string{l42}},
		{"foglio of another", state.DossierQuery{Sheet: "7", Parcel: "345"}, nil},
		{"street", state.DossierQuery{Street: "gonzaga"}, []string{g42, l42}},
		{"street, not the subject", state.DossierQuery{Street: "copertura"}, nil},
		{"street and words", state.DossierQuery{Street: "via gonzaga", Terms: words.Query("autorimessa")}, []string{l42}},
		{"nothing", state.DossierQuery{}, []string{g42, g7, l42, l100}},
	} {
		ps, res := search(t, s, tt.q)
		if !slices.Equal(sorted(ps), sorted(tt.want)) || res.Total != len(tt.want) {
			t.Errorf("%s: %v (total %d), want %v", tt.name, ps, res.Total, tt.want)
		}
	}
	// Facets count what was found.
	_, res := search(t, s, state.DossierQuery{})
	if want := map[string]int{"guastalla": 2, "luzzara": 2}; !maps.Equal(res.ByComune, want) {
		t.Errorf("ByComune = %v, want %v", res.ByComune, want)
	}
	if want := map[int]int{2019: 2, 2020: 1, 2021: 1}; !maps.Equal(res.ByYear, want) {
		t.Errorf("ByYear = %v, want %v", res.ByYear, want)
	}
	if want := map[string]int{"PdC": 2, "SCIA": 1, "CILA": 1}; !maps.Equal(res.ByType, want) {
		t.Errorf("ByType = %v, want %v", res.ByType, want)
	}
}

func testDossierScope(t *testing.T, s state.CatalogueStore) {
	putAll(t, s, sampleDossiers())
	for _, tt := range []struct {
		name  string
		scope state.Scope
		want  []string
	}{
		{"a Comune", state.Scope{Comuni: []string{"luzzara"}}, []string{"/luzzara/2019/PC-2019-0042"}},
		{"a grant", state.Scope{Paths: []string{"/guastalla/2019/PC-2019-0042"}}, []string{"/guastalla/2019/PC-2019-0042"}},
		{"a grant of a year", state.Scope{Paths: []string{"/guastalla/2019"}}, []string{"/guastalla/2019/PC-2019-0042"}},
		{"a grant inside a dossier", state.Scope{Paths: []string{"/guastalla/2019/PC-2019-0042/tavole"}}, nil},
		{"a name's prefix is no grant", state.Scope{Paths: []string{"/guastalla/2019/PC-2019-004"}}, nil},
		{"a Comune and a grant", state.Scope{Comuni: []string{"luzzara"}, Paths: []string{"/guastalla/2019/PC-2019-0042"}},
			[]string{"/guastalla/2019/PC-2019-0042", "/luzzara/2019/PC-2019-0042"}},
		{"nothing", state.Scope{}, nil},
	} {
		res, err := s.SearchDossiers(t.Context(), state.DossierQuery{Terms: words.Query("0042"), Scope: tt.scope})
		if err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, h := range res.Hits {
			ps = append(ps, h.Path)
		}
		if !slices.Equal(sorted(ps), sorted(tt.want)) || res.Total != len(tt.want) {
			t.Errorf("%s: %v (total %d), want %v", tt.name, ps, res.Total, tt.want)
		}
		// The facets never count what is hidden.
		n := 0
		for _, v := range res.ByComune {
			n += v
		}
		if n != len(tt.want) {
			t.Errorf("%s: facets count %d, want %d: %v", tt.name, n, len(tt.want), res.ByComune)
		}
	}
}

func testDossierFileText(t *testing.T, s state.CatalogueStore) {
	ctx := t.Context()
	putAll(t, s, sampleDossiers())
	const g42 = "/guastalla/2019/PC-2019-0042"
	rel := state.FileText{Path: g42 + "/relazione.pdf", Dossier: g42, ETag: "e1",
		Text: "Relazione tecnica illustrativa. Il fabbricato insiste su un terreno argilloso; le fondazioni saranno a platea."}
	if err := s.PutFileText(ctx, rel); err != nil {
		t.Fatal(err)
	}
	ps, res := search(t, s, state.DossierQuery{Terms: words.Query("fondazione argillosa")})
	if !slices.Equal(ps, []string{g42}) || res.Hits[0].File != rel.Path || res.Hits[0].Text != rel.Text {
		t.Fatalf("a word inside a file: %v %+v", ps, res.Hits)
	}
	// A record's match ranks before a file's.
	if err := s.PutFileText(ctx, state.FileText{Path: "/luzzara/2019/PC-2019-0042/nota.txt", Dossier: "/luzzara/2019/PC-2019-0042", Text: "ampliamento previsto"}); err != nil {
		t.Fatal(err)
	}
	ps, res = search(t, s, state.DossierQuery{Terms: words.Query("ampliamento")})
	if !slices.Equal(ps, []string{g42, "/luzzara/2019/PC-2019-0042"}) || res.Hits[0].File != "" || res.Hits[1].File == "" {
		t.Errorf("ranking of a record's and a file's match: %v %+v", ps, res.Hits)
	}
	// Replaced: the old words go.
	rel.Text, rel.ETag = "Relazione geologica", "e2"
	if err := s.PutFileText(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("platea")}); len(ps) != 0 {
		t.Errorf("replaced text still found: %v", ps)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("geologica")}); !slices.Equal(ps, []string{g42}) {
		t.Errorf("new text not found: %v", ps)
	}
	// A file of a record in the bin is not found either.
	if err := s.MarkDossiersDeleted(ctx, g42, true); err != nil {
		t.Fatal(err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("geologica")}); len(ps) != 0 {
		t.Errorf("a deleted dossier's file found: %v", ps)
	}
	if err := s.MarkDossiersDeleted(ctx, g42, false); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFileText(ctx, g42); err != nil {
		t.Fatal(err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("geologica")}); len(ps) != 0 {
		t.Errorf("deleted text found: %v", ps)
	}
	// A batch: all of it indexed.
	if err := s.PutFileTexts(ctx, []state.FileText{
		{Path: g42 + "/a.txt", Dossier: g42, Text: "verbale di sopralluogo"},
		{Path: g42 + "/b.txt", Dossier: g42, Text: "collaudo statico"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"sopralluogo", "collaudo"} {
		if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query(q)}); !slices.Equal(ps, []string{g42}) {
			t.Errorf("a batch's text %q: %v", q, ps)
		}
	}
	st, err := s.IndexStatus(ctx)
	if err != nil || st.Files != 3 {
		t.Errorf("IndexStatus = %+v, %v; want 3 files", st, err)
	}
}

func testDossierMoveDelete(t *testing.T, s state.CatalogueStore) {
	ctx := t.Context()
	putAll(t, s, sampleDossiers())
	const g42 = "/guastalla/2019/PC-2019-0042"
	if err := s.PutFileText(ctx, state.FileText{Path: g42 + "/tavole/relazione.pdf", Dossier: g42, Text: "cemento armato"}); err != nil {
		t.Fatal(err)
	}
	// In the bin: out of every search, back when restored.
	if err := s.MarkDossiersDeleted(ctx, "/guastalla/2019", true); err != nil {
		t.Fatal(err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("0042")}); !slices.Equal(ps, []string{"/luzzara/2019/PC-2019-0042"}) {
		t.Errorf("a deleted dossier found: %v", ps)
	}
	if d, err := s.DossierByPath(ctx, g42); err != nil || !d.Deleted {
		t.Errorf("the deleted record: %+v %v", d, err)
	}
	if err := s.MarkDossiersDeleted(ctx, "/guastalla/2019", false); err != nil {
		t.Fatal(err)
	}
	// Renamed: found by its new name, not the old.
	const moved = "/guastalla/2019/PC-2019-0042-bis"
	if err := s.MoveDossiers(ctx, g42, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DossierByPath(ctx, g42); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("the old path after a move: %v", err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("bis")}); !slices.Equal(ps, []string{moved}) {
		t.Errorf("the new name: %v", ps)
	}
	ps, res := search(t, s, state.DossierQuery{Terms: words.Query("cemento")})
	if !slices.Equal(ps, []string{moved}) || res.Hits[0].File != moved+"/tavole/relazione.pdf" {
		t.Errorf("a moved dossier's file: %v %+v", ps, res.Hits)
	}
	// Moved to another Comune with its year folder: its Comune follows.
	if err := s.MoveDossiers(ctx, "/guastalla/2019", "/luzzara/2018"); err != nil {
		t.Fatal(err)
	}
	d, err := s.DossierByPath(ctx, "/luzzara/2018/PC-2019-0042-bis")
	if err != nil || d.Comune != "luzzara" {
		t.Errorf("moved to another Comune: %+v %v", d, err)
	}
	if ps, _ := search(t, s, state.DossierQuery{Comuni: []string{"luzzara"}, Terms: words.Query("cemento")}); len(ps) != 1 {
		t.Errorf("the Comune filter after the move: %v", ps)
	}
	// A name that is a prefix of another is not below it.
	if err := s.DeleteDossiers(ctx, "/luzzara/2019/PC-2019-004"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DossierByPath(ctx, "/luzzara/2019/PC-2019-0042"); err != nil {
		t.Errorf("a delete of a prefix took another: %v", err)
	}
	if err := s.DeleteDossiers(ctx, "/luzzara"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := search(t, s, state.DossierQuery{}); !slices.Equal(ps, []string{"/guastalla/2020/SCIA-2020-0007"}) {
		t.Errorf("after deleting /luzzara: %v", ps)
	}
	if ps, _ := search(t, s, state.DossierQuery{Terms: words.Query("cemento")}); len(ps) != 0 {
		t.Errorf("a deleted dossier's file text: %v", ps)
	}
}

func testDossierNearWords(t *testing.T, s state.CatalogueStore) {
	putAll(t, s, sampleDossiers())
	got, err := s.CatalogueWords(t.Context(), "ca", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "caffe") || slices.Contains(got, "gonzaga") || !slices.IsSorted(got) {
		t.Errorf("CatalogueWords(ca) = %v", got)
	}
	// "Cafe" finds "Caffè" through its near words.
	terms := words.Query("Cafe x")[:1]
	terms[0].Near = terms[0].NearOf(got)
	if ps, _ := search(t, s, state.DossierQuery{Terms: terms}); !slices.Equal(ps, []string{"/guastalla/2019/PC-2019-0042"}) {
		t.Errorf("near words of cafe %v: %v", terms[0].Near, ps)
	}
	if got, _ := s.CatalogueWords(t.Context(), "ca", 1); len(got) != 1 {
		t.Errorf("limit: %v", got)
	}
}

func testDossierPaging(t *testing.T, s state.CatalogueStore) {
	var ds []state.Dossier
	for i := range 45 {
		ds = append(ds, state.Dossier{Path: "/guastalla/2019/PC-2019-" + string(rune('A'+i/26)) + string(rune('a'+i%26)), Comune: "guastalla", Year: 2019,
			Subject: "recinzione"})
	}
	putAll(t, s, ds)
	var all []string
	for page := 0; ; page++ {
		res, err := s.SearchDossiers(t.Context(), state.DossierQuery{Terms: words.Query("recinzione"), Scope: state.Scope{All: true}, Limit: 20, Offset: page * 20})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 45 {
			t.Fatalf("page %d: total %d", page, res.Total)
		}
		for _, h := range res.Hits {
			all = append(all, h.Path)
		}
		if len(res.Hits) < 20 {
			break
		}
	}
	if len(all) != 45 || len(slices.Compact(sorted(all))) != 45 {
		t.Errorf("the pages hold %d dossiers, %d different", len(all), len(slices.Compact(sorted(all))))
	}
}

func testIndexJobs(t *testing.T, s state.CatalogueStore) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if err := s.QueueIndex(ctx, []string{"/g/a.pdf", "/g/b.pdf", "/g/c.pdf"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueIndex(ctx, []string{"/g/a.pdf"}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	st, _ := s.IndexStatus(ctx)
	if st.Waiting != 3 {
		t.Errorf("waiting %d, want 3 (a path queued twice waits once)", st.Waiting)
	}
	t1 := t0.Add(time.Minute)
	a, err := s.TakeIndexJobs(ctx, "r1", 2, t1, t1.Add(-time.Hour))
	if err != nil || len(a) != 2 {
		t.Fatalf("take 2: %v %v", a, err)
	}
	if a[0].Path != "/g/b.pdf" || a[1].Path != "/g/c.pdf" || a[0].Holder != "r1" {
		t.Errorf("taken first: %+v (the longest waiting first)", a)
	}
	b, _ := s.TakeIndexJobs(ctx, "r2", 5, t1, t1.Add(-time.Hour))
	if len(b) != 1 || b[0].Path != "/g/a.pdf" {
		t.Errorf("another replica takes what is left: %+v", b)
	}
	if none, _ := s.TakeIndexJobs(ctx, "r3", 5, t1, t1.Add(-time.Hour)); len(none) != 0 {
		t.Errorf("jobs taken twice: %+v", none)
	}
	// Done; queued again while taken: it waits again; failed: tried again,
	// then failed for good.
	if err := s.FinishIndexJob(ctx, "/g/b.pdf", false); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueIndex(ctx, []string{"/g/c.pdf"}, t1.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishIndexJob(ctx, "/g/c.pdf", false); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.FinishIndexJob(ctx, "/g/a.pdf", true); err != nil {
			t.Fatal(err)
		}
	}
	st, _ = s.IndexStatus(ctx)
	if st.Waiting != 1 || st.Failed != 1 {
		t.Errorf("status %+v, want c waiting again and a failed", st)
	}
	// A job held too long is taken again.
	t2 := t1.Add(time.Hour)
	c, _ := s.TakeIndexJobs(ctx, "r1", 5, t2, t2.Add(-time.Hour))
	if len(c) != 1 || c[0].Path != "/g/c.pdf" {
		t.Fatalf("take: %+v", c)
	}
	if again, _ := s.TakeIndexJobs(ctx, "r2", 5, t2.Add(2*time.Hour), t2.Add(time.Minute)); len(again) != 1 || again[0].Holder != "r2" {
		t.Errorf("a stale job: %+v", again)
	}
}
