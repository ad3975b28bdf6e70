package statetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"

	"github.com/bassareggiana/faldone/state"
)

func digest(p, content, etag string) state.Digest {
	return state.Digest{Path: p, SHA256: sha256.Sum256([]byte(content)), Size: int64(len(content)), ETag: etag, Recorded: now()}
}

func putDigests(t *testing.T, s state.DigestStore, ds ...state.Digest) {
	t.Helper()
	if err := s.PutDigests(t.Context(), ds); err != nil {
		t.Fatalf("PutDigests: %v", err)
	}
}

// treePaths lists the paths TreeDigests gives for p, in its order.
func treePaths(t *testing.T, s state.DigestStore, p string) []string {
	t.Helper()
	var got []string
	if err := s.TreeDigests(t.Context(), p, func(d state.Digest) error { got = append(got, d.Path); return nil }); err != nil {
		t.Fatalf("TreeDigests(%q): %v", p, err)
	}
	return got
}

func testDigestsRoundTrip(t *testing.T, s state.DigestStore) {
	a := digest("/guastalla/2019/PC-2019-0042/domanda.pdf", "domanda", `"9a0364b9e99bb480dd25e1f0284c8555"`)
	b := digest("/guastalla/2019/PC-2019-0042/è già «così».dwg", "tavola", "mtime:1764759600000000000")
	putDigests(t, s, a, b)
	got, err := s.DigestsOf(t.Context(), []string{a.Path, b.Path, "/guastalla/manca.pdf"})
	if err != nil {
		t.Fatalf("DigestsOf: %v", err)
	}
	if len(got) != 2 || !got[a.Path].Recorded.Equal(a.Recorded) || !got[b.Path].Recorded.Equal(b.Recorded) {
		t.Fatalf("DigestsOf = %+v, want %+v and %+v", got, a, b)
	}
	for _, want := range []state.Digest{a, b} {
		g := got[want.Path]
		g.Recorded = want.Recorded
		if g != want {
			t.Errorf("DigestsOf(%q) = %+v, want %+v", want.Path, g, want)
		}
	}
	// Recording again replaces.
	a2 := digest(a.Path, "domanda firmata", "nuovo")
	putDigests(t, s, a2)
	got, _ = s.DigestsOf(t.Context(), []string{a.Path})
	if g := got[a.Path]; g.SHA256 != a2.SHA256 || g.Size != a2.Size || g.ETag != "nuovo" {
		t.Errorf("after a second PutDigests: %+v, want %+v", g, a2)
	}
	if got, err := s.DigestsOf(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("DigestsOf(nil) = %v, %v", got, err)
	}
	if err := s.PutDigests(t.Context(), nil); err != nil {
		t.Errorf("PutDigests(nil): %v", err)
	}
}

func testTreeDigests(t *testing.T, s state.DigestStore) {
	for _, p := range []string{"/a/b", "/a/b/c", "/a/b/d/e", "/a/bc", "/a/b-c", "/z"} {
		putDigests(t, s, digest(p, p, "e"))
	}
	for _, tt := range []struct {
		p    string
		want []string
	}{
		{"/a/b", []string{"/a/b", "/a/b/c", "/a/b/d/e"}},
		{"/a/b/d", []string{"/a/b/d/e"}},
		{"/a", []string{"/a/b", "/a/b-c", "/a/b/c", "/a/b/d/e", "/a/bc"}},
		{"/", []string{"/a/b", "/a/b-c", "/a/b/c", "/a/b/d/e", "/a/bc", "/z"}},
		{"/nessuno", nil},
	} {
		if got := treePaths(t, s, tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("TreeDigests(%q) = %q, want %q", tt.p, got, tt.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.TreeDigests(t.Context(), "/", func(state.Digest) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("TreeDigests with fn failing: %v after %d calls, want stop after 1", err, n)
	}
}

func testMoveDigests(t *testing.T, s state.DigestStore) {
	for _, p := range []string{"/a/x", "/a/y/z", "/b/old", "/b/x"} {
		putDigests(t, s, digest(p, p, "etag-"+p))
	}
	// Over an existing tree, which is replaced.
	if err := s.MoveDigests(t.Context(), "/a", "/b"); err != nil {
		t.Fatalf("MoveDigests: %v", err)
	}
	if got, want := treePaths(t, s, "/"), []string{"/b/x", "/b/y/z"}; !slices.Equal(got, want) {
		t.Errorf("after the move: %q, want %q", got, want)
	}
	got, _ := s.DigestsOf(t.Context(), []string{"/b/x"})
	if d := got["/b/x"]; d.SHA256 != sha256.Sum256([]byte("/a/x")) || d.ETag != "etag-/a/x" {
		t.Errorf("moved digest %+v is not the source's", d)
	}
	// Into its own child, and out of it.
	if err := s.MoveDigests(t.Context(), "/b", "/b/y/sotto"); err != nil {
		t.Fatalf("MoveDigests into a child: %v", err)
	}
	if got, want := treePaths(t, s, "/"), []string{"/b/y/sotto/x", "/b/y/sotto/y/z"}; !slices.Equal(got, want) {
		t.Errorf("after the move into a child: %q, want %q", got, want)
	}
	if err := s.MoveDigests(t.Context(), "/b/y/sotto", "/b"); err != nil {
		t.Fatalf("MoveDigests out of a child: %v", err)
	}
	if got, want := treePaths(t, s, "/"), []string{"/b/x", "/b/y/z"}; !slices.Equal(got, want) {
		t.Errorf("after the move out of a child: %q, want %q", got, want)
	}
}

func testDeleteDigests(t *testing.T, s state.DigestStore) {
	for _, p := range []string{"/a/x", "/a/y/z", "/ab", "/b"} {
		putDigests(t, s, digest(p, p, "e"))
	}
	if err := s.DeleteDigests(t.Context(), "/a"); err != nil {
		t.Fatalf("DeleteDigests: %v", err)
	}
	if got, want := treePaths(t, s, "/"), []string{"/ab", "/b"}; !slices.Equal(got, want) {
		t.Errorf("after deleting /a: %q, want %q", got, want)
	}
	if err := s.DeleteDigests(t.Context(), "/"); err != nil {
		t.Fatalf("DeleteDigests(/): %v", err)
	}
	if got := treePaths(t, s, "/"); len(got) != 0 {
		t.Errorf("after deleting /: %q", got)
	}
}

func testPutDigestsRefusals(t *testing.T, s state.DigestStore) {
	good := digest("/a/buono", "x", "e")
	for _, tt := range []struct {
		name string
		bad  state.Digest
	}{
		{"no path", state.Digest{ETag: "e", Recorded: now()}},
		{"no time", state.Digest{Path: "/a/x", ETag: "e"}},
		{"path not UTF-8", state.Digest{Path: "/a/\xff", ETag: "e", Recorded: now()}},
		{"NUL in the ETag", state.Digest{Path: "/a/x", ETag: "e\x00", Recorded: now()}},
		{"negative size", state.Digest{Path: "/a/x", ETag: "e", Size: -1, Recorded: now()}},
	} {
		if err := s.PutDigests(t.Context(), []state.Digest{good, tt.bad}); err == nil {
			t.Errorf("%s: PutDigests took it", tt.name)
		}
	}
	if got := treePaths(t, s, "/"); len(got) != 0 {
		t.Errorf("a refused batch wrote %q", got)
	}
}
