package statetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/bassareggiana/faldone/state"
)

func testClosedDossiers(t *testing.T, s state.DossierStore) {
	ctx := t.Context()
	n := now()
	for _, p := range []string{"/guastalla/2019/PC-2019-0042", "/guastalla/2019/PC-2019-0042b", "/guastalla/2020/PC-2020-0001", "/luzzara/2019/Città"} {
		if err := s.CloseDossier(ctx, state.ClosedDossier{Path: p, By: "RSSMRA80A01H501U", Reason: "Prot. 42/2026 «fine lavori»", Closed: n}); err != nil {
			t.Fatalf("CloseDossier(%q): %v", p, err)
		}
	}
	if err := s.CloseDossier(ctx, state.ClosedDossier{Path: "/guastalla/2019/PC-2019-0042", By: "x", Closed: n}); !errors.Is(err, state.ErrExists) {
		t.Errorf("closing twice: %v, want ErrExists", err)
	}
	if err := s.CloseDossier(ctx, state.ClosedDossier{Path: "", Closed: n}); err == nil {
		t.Error("a closure without a path was taken")
	}
	paths := func(p string, deep bool) []string {
		t.Helper()
		ds, err := s.ClosedDossiers(ctx, p, deep)
		if err != nil {
			t.Fatalf("ClosedDossiers(%q, %v): %v", p, deep, err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.Path)
		}
		return out
	}
	for _, tt := range []struct {
		p    string
		deep bool
		want []string
	}{
		{"/guastalla/2019/PC-2019-0042/tavola.dwg", false, []string{"/guastalla/2019/PC-2019-0042"}},
		{"/guastalla/2019/PC-2019-0042", false, []string{"/guastalla/2019/PC-2019-0042"}},
		{"/guastalla/2019/PC-2019-0042b/x", true, []string{"/guastalla/2019/PC-2019-0042b"}},
		{"/guastalla/2019", false, nil},
		{"/guastalla/2019", true, []string{"/guastalla/2019/PC-2019-0042", "/guastalla/2019/PC-2019-0042b"}},
		{"/guastalla/2019/PC-2019-004", true, nil}, // a prefix of a name is no ancestor
		{"/", true, []string{"/guastalla/2019/PC-2019-0042", "/guastalla/2019/PC-2019-0042b", "/guastalla/2020/PC-2020-0001", "/luzzara/2019/Città"}},
		{"/luzzara/2019/Città/è.pdf", false, []string{"/luzzara/2019/Città"}},
	} {
		if got := paths(tt.p, tt.deep); !slices.Equal(got, tt.want) {
			t.Errorf("ClosedDossiers(%q, %v) = %q, want %q", tt.p, tt.deep, got, tt.want)
		}
	}
	ds, _ := s.ClosedDossiers(ctx, "/guastalla/2020/PC-2020-0001", false)
	if len(ds) != 1 || ds[0].By != "RSSMRA80A01H501U" || ds[0].Reason != "Prot. 42/2026 «fine lavori»" || !ds[0].Closed.Equal(n) {
		t.Errorf("round trip: %+v", ds)
	}
	if err := s.ReopenDossier(ctx, "/guastalla/2019/PC-2019-0042"); err != nil {
		t.Fatalf("ReopenDossier: %v", err)
	}
	if err := s.ReopenDossier(ctx, "/guastalla/2019/PC-2019-0042"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("reopening twice: %v, want ErrNotFound", err)
	}
	if got := paths("/guastalla/2019/PC-2019-0042/tavola.dwg", false); len(got) != 0 {
		t.Errorf("after the reopening: %q", got)
	}
}
