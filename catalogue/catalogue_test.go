package catalogue

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

func TestFromName(t *testing.T) {
	for _, tt := range []struct {
		p          string
		year       int
		typ, comun string
	}{
		{"/guastalla/2019/PC-2019-0042", 2019, "PdC", "guastalla"},
		{"/guastalla/varie/SCIA 2020 12", 2020, "SCIA", "guastalla"},
		{"/luzzara/1985/Condono 85-331", 1985, "Condono", "luzzara"},
		{"/luzzara/2001/CILA-2001-3", 2001, "CILA", "luzzara"},
		{"/luzzara/2001/CIL-2001-3", 2001, "CIL", "luzzara"},
		{"/luzzara/2001/PCS-2001-3", 2001, "Sanatoria", "luzzara"},
		{"/reggiolo/2010/Pratica 12", 2010, "", "reggiolo"},
		{"/reggiolo/archivio/PCX-1", 0, "", "reggiolo"},
	} {
		d := FromName(tt.p, DefaultTypes())
		if d.Path != tt.p || d.Year != tt.year || d.Type != tt.typ || d.Comune != tt.comun || d.Number != filepath.Base(tt.p) {
			t.Errorf("FromName(%q) = %+v", tt.p, d)
		}
	}
}

func TestRule(t *testing.T) {
	r := Rule{}
	for _, tt := range []struct {
		p              string
		dossier, above bool
		of             string
	}{
		{"/guastalla", false, true, ""},
		{"/guastalla/2019", false, true, ""},
		{"/guastalla/2019/PC-2019-0042", true, false, "/guastalla/2019/PC-2019-0042"},
		{"/guastalla/2019/PC-2019-0042/tavole/a.pdf", false, false, "/guastalla/2019/PC-2019-0042"},
	} {
		of, _ := r.DossierOf(tt.p)
		if r.IsDossier(tt.p) != tt.dossier || r.Above(tt.p) != tt.above || of != tt.of {
			t.Errorf("%s: dossier %v above %v of %q", tt.p, r.IsDossier(tt.p), r.Above(tt.p), of)
		}
	}
	if r2 := (Rule{Depth: 2}); !r2.IsDossier("/guastalla/PC-0042") {
		t.Error("a rule of depth 2")
	}
}

func newCatalogue(t *testing.T) (*Catalogue, *sqlite.Store) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	return New(st, Options{Comuni: []string{"guastalla", "luzzara"}, Now: func() time.Time { return now }}), st
}

func found(t *testing.T, c *Catalogue, pol *access.Policy, q Query) []string {
	t.Helper()
	res, err := c.Search(t.Context(), pol, q)
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, h := range res.Hits {
		ps = append(ps, h.Path)
	}
	return ps
}

func TestFollowsTheArchive(t *testing.T) {
	ctx := context.Background()
	c, st := newCatalogue(t)
	admin := access.NewPolicy(access.Subject{Admin: true})
	const d = "/guastalla/2019/PC-2019-0042"
	c.FolderMade(ctx, "/guastalla/2019", "anna")
	c.FolderMade(ctx, d, "anna")
	rec, err := st.DossierByPath(ctx, d)
	if err != nil || rec.Year != 2019 || rec.Type != "PdC" || rec.UpdatedBy != "anna" {
		t.Fatalf("the new dossier's record: %+v %v", rec, err)
	}
	if _, err := st.DossierByPath(ctx, "/guastalla/2019"); err == nil {
		t.Error("a year's folder has a record")
	}
	// A record edited is not replaced by a MKCOL's.
	rec.Subject = "Ampliamento"
	if err := st.PutDossier(ctx, rec); err != nil {
		t.Fatal(err)
	}
	c.FolderMade(ctx, d, "luca")
	if rec, _ := st.DossierByPath(ctx, d); rec.Subject != "Ampliamento" {
		t.Errorf("a made folder replaced its record: %+v", rec)
	}
	if ps := found(t, c, admin, Query{Text: "ampliamento"}); !slices.Equal(ps, []string{d}) {
		t.Errorf("search: %v", ps)
	}
	// Renamed, deleted, restored elsewhere, purged.
	const d2 = "/guastalla/2019/PC-2019-0042-bis"
	c.Moved(ctx, d, d2, true, "anna")
	if ps := found(t, c, admin, Query{Text: "bis"}); !slices.Equal(ps, []string{d2}) {
		t.Errorf("after the move: %v", ps)
	}
	c.Deleted(ctx, d2, true)
	if ps := found(t, c, admin, Query{Text: "ampliamento"}); len(ps) != 0 {
		t.Errorf("a deleted dossier found: %v", ps)
	}
	const d3 = "/luzzara/2019/PC-2019-0042"
	c.Restored(ctx, d2, d3, true, "anna")
	if ps := found(t, c, admin, Query{Text: "ampliamento"}); !slices.Equal(ps, []string{d3}) {
		t.Errorf("restored elsewhere: %v", ps)
	}
	c.Deleted(ctx, d3, true)
	c.Purged(ctx, d3, true)
	if _, err := st.DossierByPath(ctx, d3); err == nil {
		t.Error("a purged dossier keeps its record")
	}
	// Files written inside a dossier are queued, others not.
	c.Written(ctx, d+"/relazione.pdf")
	c.Written(ctx, "/guastalla/2019/sparso.pdf")
	if s, _ := st.IndexStatus(ctx); s.Waiting != 2 { // the restore's folder, and the file
		t.Errorf("index jobs: %+v", s)
	}
}

func TestSearchScopeAndNearWords(t *testing.T) {
	ctx := context.Background()
	c, st := newCatalogue(t)
	for _, d := range []state.Dossier{
		{Path: "/guastalla/2019/PC-2019-0042", Applicants: []state.Applicant{{Name: "Nicolò Caffè"}}},
		{Path: "/luzzara/2019/PC-2019-0042", Applicants: []state.Applicant{{Name: "Carlo Caffè"}}},
	} {
		if err := st.PutDossier(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	grantee := access.NewPolicy(access.Subject{Grants: []access.Grant{{Path: "/luzzara/2019/PC-2019-0042"}}})
	res, err := c.Search(ctx, grantee, Query{Text: "Cafe"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].Path != "/luzzara/2019/PC-2019-0042" || !res.Near || res.ByComune["guastalla"] != 0 {
		t.Errorf("a grantee's near search: %+v", res)
	}
	if ps := found(t, c, access.NewPolicy(access.Subject{}), Query{Text: "caffe"}); len(ps) != 0 {
		t.Errorf("nobody finds %v", ps)
	}
}
