package statetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// The recycle bin and the versions.

// newKept returns a record at p, removed at at by someone over WebDAV.
func newKept(id string, kind state.KeptKind, p string, at time.Time) state.Kept {
	return state.Kept{ID: id, Kind: kind, Path: p, Size: 42, Files: 1, By: "RSSMRA80A01H501U",
		From: "WebDAV 10.1.2.3", At: at, Storage: "s3:versions"}
}

// fileItem returns the item of a kept file at rel, with a digest of its
// content.
func fileItem(rel, content string, mod time.Time) state.KeptItem {
	return state.KeptItem{Rel: rel, Size: int64(len(content)), ModTime: mod, Locator: "loc:" + rel + ":" + content,
		SHA256: sha256.Sum256([]byte(content)), HasSHA256: true}
}

func putKept(t *testing.T, s state.TrashStore, k state.Kept, items ...state.KeptItem) {
	t.Helper()
	if err := s.PutKept(t.Context(), k, items); err != nil {
		t.Fatalf("PutKept(%q, %d items): %v", k.ID, len(items), err)
	}
}

// sameKept reports whether a and b are equal, their times as instants.
func sameKept(a, b state.Kept) bool {
	a.At, b.At = a.At.UTC(), b.At.UTC()
	return a == b
}

// sameItem reports whether a and b are equal, their times as instants and
// their properties in order, a nil and an empty InnerXML alike.
func sameItem(a, b state.KeptItem) bool {
	return a.Rel == b.Rel && a.IsDir == b.IsDir && a.Size == b.Size && a.ModTime.Equal(b.ModTime) &&
		a.ModTime.IsZero() == b.ModTime.IsZero() && a.Locator == b.Locator && a.SHA256 == b.SHA256 &&
		a.HasSHA256 == b.HasSHA256 && slices.EqualFunc(a.Props, b.Props, func(x, y state.Prop) bool {
		return x.PropName == y.PropName && x.Lang == y.Lang && bytes.Equal(x.InnerXML, y.InnerXML)
	})
}

func fmtItems(items []state.KeptItem) string {
	var b []byte
	for _, it := range items {
		b = fmt.Appendf(b, "\n\t{%q dir=%v %d %v %q %x/%v %s}", it.Rel, it.IsDir, it.Size, it.ModTime, it.Locator,
			it.SHA256[:4], it.HasSHA256, fmtProps(it.Props))
	}
	return string(b)
}

// keptItems returns what KeptItems(id) gives, in its order.
func keptItems(t *testing.T, s state.TrashStore, id string) []state.KeptItem {
	t.Helper()
	var got []state.KeptItem
	if err := s.KeptItems(t.Context(), id, func(it state.KeptItem) error {
		got = append(got, it)
		return nil
	}); err != nil {
		t.Fatalf("KeptItems(%q): %v", id, err)
	}
	return got
}

func checkKept(t *testing.T, s state.TrashStore, want state.Kept, items []state.KeptItem) {
	t.Helper()
	got, err := s.KeptByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("KeptByID(%q): %v", want.ID, err)
	}
	if !sameKept(got, want) {
		t.Errorf("KeptByID(%q) = %+v, want %+v", want.ID, got, want)
	}
	if got := keptItems(t, s, want.ID); !slices.EqualFunc(got, items, sameItem) {
		t.Errorf("KeptItems(%q) =%s\nwant%s", want.ID, fmtItems(got), fmtItems(items))
	}
}

func testKeptRoundTrip(t *testing.T, s state.TrashStore) {
	n := now()
	props := []state.Prop{
		prop("DAV:", "displayname", "it", "Tavola «già» approvata"),
		prop("urn:x", "markup", "de-CH", `<a b="1" xmlns="urn:y">x &amp; y<![CDATA[<raw>]]></a>`),
		prop("", "nonamespace", "", ""),
		{PropName: state.PropName{Space: "urn:x", Local: "nil"}},
		prop(`urn:è 'x' "q"`, "bytes", "fr", "Latin-1 \xe8, a NUL \x00, and \xff\xfe"),
	}
	file := newKept("f-1", state.KindDeleted, "/guastalla/2019/PC-2019-0042/tavola.dwg", n.In(time.FixedZone("CET", 3600)))
	file.Size, file.Storage = 5<<40, ""
	fileItems := []state.KeptItem{fileItem("", "the drawing", n.Add(-time.Hour+time.Microsecond))}
	fileItems[0].Size, fileItems[0].Props = 5<<40, props

	folder := newKept("d_2-X", state.KindDeleted, "/città di Guastalla/l'archivio/\"vecchio\" – 日本語", n.Add(-24*time.Hour))
	folder.IsDir, folder.Files, folder.From = true, 3, "riga di comando"
	noSum := fileItem("sub/senza impronta.pdf", "x", time.Time{}) // neither a digest nor a time
	noSum.SHA256, noSum.HasSHA256 = [32]byte{}, false
	folderItems := []state.KeptItem{
		{Rel: "", IsDir: true, ModTime: n, Props: props[:1]},
		{Rel: "sub", IsDir: true}, // neither a time nor properties
		noSum,
		fileItem("sub/è.pdf", "è", n.Add(-30*365*24*time.Hour)),
		fileItem("vuoto", "", n),
	}
	putKept(t, s, file, fileItems...)
	putKept(t, s, folder, folderItems...)
	checkKept(t, s, file, fileItems)
	checkKept(t, s, folder, folderItems)

	// A record without items is one too.
	bare := newKept("bare", state.KindVersion, "/a", n)
	putKept(t, s, bare)
	checkKept(t, s, bare, nil)
}

func testPutKeptExists(t *testing.T, s state.TrashStore) {
	n := now()
	k := newKept("dup", state.KindDeleted, "/a/x.pdf", n)
	items := []state.KeptItem{fileItem("", "first", n)}
	putKept(t, s, k, items...)
	other := newKept("dup", state.KindVersion, "/b/y.pdf", n.Add(time.Hour))
	if err := s.PutKept(t.Context(), other, []state.KeptItem{fileItem("", "second", n)}); !errors.Is(err, state.ErrExists) {
		t.Errorf("PutKept of an ID recorded already: %v, want ErrExists", err)
	}
	checkKept(t, s, k, items) // the first, untouched
}

func testKeptNotFound(t *testing.T, s state.TrashStore) {
	ctx := t.Context()
	putKept(t, s, newKept("there", state.KindDeleted, "/a", now()), fileItem("", "x", now()))
	for _, id := range []string{"absent", "", "there\x00", "\xff", "THERE"} {
		if _, err := s.KeptByID(ctx, id); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("KeptByID(%q): %v, want ErrNotFound", id, err)
		}
		called := false
		if err := s.KeptItems(ctx, id, func(state.KeptItem) error { called = true; return nil }); !errors.Is(err, state.ErrNotFound) || called {
			t.Errorf("KeptItems(%q): %v (fn called: %v), want ErrNotFound", id, err, called)
		}
		if err := s.ReclassifyKept(ctx, id, state.KindVersion, "/b"); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("ReclassifyKept(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.DeleteKept(ctx, id); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("DeleteKept(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func testKeptItemsOrder(t *testing.T, s state.TrashStore) {
	n := now()
	// Byte order: ' ', '-' and '.' sort before '/', so "a b" and "a.txt"
	// come between "a" and "a/x"; upper case before lower; "é" (0xC3)
	// after every ASCII byte.
	rels := []string{"", "B", "a", "a b", "a-c", "a.txt", "a/x", "a/x/y", "a/z", "b", "b/c", "z", "é", "é/a"}
	want := make([]state.KeptItem, len(rels))
	for i, rel := range rels {
		if rel == "" || !strings.Contains(rel, ".") && !strings.HasSuffix(rel, "y") {
			want[i] = state.KeptItem{Rel: rel, IsDir: true, ModTime: n}
		} else {
			want[i] = fileItem(rel, rel, n)
		}
	}
	given := slices.Clone(want)
	rand.Shuffle(len(given), func(i, j int) { given[i], given[j] = given[j], given[i] })
	k := newKept("order", state.KindDeleted, "/d", n)
	k.IsDir = true
	putKept(t, s, k, given...)
	if got := keptItems(t, s, k.ID); !slices.EqualFunc(got, want, sameItem) {
		t.Errorf("KeptItems =%s\nwant%s", fmtItems(got), fmtItems(want))
	}

	// fn's error ends the walk and comes back as it is.
	stop := errors.New("enough")
	var seen []string
	err := s.KeptItems(t.Context(), k.ID, func(it state.KeptItem) error {
		seen = append(seen, it.Rel)
		if len(seen) == 3 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("KeptItems with fn failing: %v, want fn's error as it is", err)
	}
	if !slices.Equal(seen, rels[:3]) {
		t.Errorf("KeptItems called fn with %q, want %q and no more", seen, rels[:3])
	}
}

// testPutKeptMany puts a folder of thousands of items, as PutKept must
// take in one transaction, and reads them back in order.
func testPutKeptMany(t *testing.T, s state.TrashStore) {
	const count = 5000
	n := now()
	items := []state.KeptItem{{Rel: "", IsDir: true, ModTime: n}}
	for d := range count / 100 {
		items = append(items, state.KeptItem{Rel: fmt.Sprintf("d%02d", d), IsDir: true, ModTime: n})
		for f := range 99 {
			it := fileItem(fmt.Sprintf("d%02d/f%02d.pdf", d, f), fmt.Sprint(d, f), n)
			it.Props = []state.Prop{prop("urn:x", "n", "", fmt.Sprint(f))}
			items = append(items, it)
		}
	}
	k := newKept("many", state.KindDeleted, "/grande", n)
	k.IsDir, k.Files = true, count
	start := time.Now()
	putKept(t, s, k, items...)
	took := time.Since(start)
	t.Logf("PutKept of %d items took %v", len(items), took)
	slices.SortFunc(items, func(a, b state.KeptItem) int { return strings.Compare(a.Rel, b.Rel) })
	start = time.Now()
	got := keptItems(t, s, k.ID)
	t.Logf("KeptItems of %d items took %v", len(got), time.Since(start))
	if !slices.EqualFunc(got, items, sameItem) {
		t.Errorf("KeptItems gave %d items, not the %d put in their order", len(got), len(items))
	}
}

func testPutKeptRefused(t *testing.T, s state.TrashStore) {
	n := now()
	good := newKept("good", state.KindDeleted, "/a/b", n)
	file := fileItem("", "x", n)
	tests := []struct {
		name  string
		k     func(k *state.Kept)
		items []state.KeptItem
	}{
		{"no ID", func(k *state.Kept) { k.ID = "" }, nil},
		{"ID with a slash", func(k *state.Kept) { k.ID = "a/b" }, nil},
		{"ID with a space", func(k *state.Kept) { k.ID = "a b" }, nil},
		{"ID not ASCII", func(k *state.Kept) { k.ID = "è" }, nil},
		{"ID too long", func(k *state.Kept) { k.ID = strings.Repeat("x", 65) }, nil},
		{"no kind", func(k *state.Kept) { k.Kind = "" }, nil},
		{"another kind", func(k *state.Kept) { k.Kind = "cestino" }, nil},
		{"relative path", func(k *state.Kept) { k.Path = "a/b" }, nil},
		{"no path", func(k *state.Kept) { k.Path = "" }, nil},
		{"NUL in the path", func(k *state.Kept) { k.Path = "/a\x00b" }, nil},
		{"invalid UTF-8 in the path", func(k *state.Kept) { k.Path = "/a\xffb" }, nil},
		{"NUL in By", func(k *state.Kept) { k.By = "a\x00" }, nil},
		{"negative size", func(k *state.Kept) { k.Size = -1 }, nil},
		{"no time", func(k *state.Kept) { k.At = time.Time{} }, nil},
		{"NUL in a Rel", nil, []state.KeptItem{file, fileItem("a\x00b", "x", n)}},
		{"Rel with a leading slash", nil, []state.KeptItem{file, fileItem("/a", "x", n)}},
		{"Rel with a trailing slash", nil, []state.KeptItem{file, {Rel: "a/", IsDir: true}}},
		{"file without a locator", nil, []state.KeptItem{{Rel: "", Size: 1}}},
		{"negative item size", nil, []state.KeptItem{{Rel: "", IsDir: true, Size: -1}}},
		{"two items at one Rel", nil, []state.KeptItem{file, {Rel: "a", IsDir: true}, fileItem("a", "y", n)}},
	}
	for _, tt := range tests {
		k := good
		if tt.k != nil {
			tt.k(&k)
		}
		if err := s.PutKept(t.Context(), k, tt.items); err == nil {
			t.Errorf("PutKept (%s) took it", tt.name)
		}
		if _, err := s.KeptByID(t.Context(), k.ID); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("after PutKept (%s) was refused, KeptByID(%q): %v, want ErrNotFound", tt.name, k.ID, err)
		}
	}
	putKept(t, s, good, file) // the good one, which the cases changed
	for _, tt := range []struct {
		name string
		kind state.KeptKind
		path string
	}{
		{"bad kind", "other", "/b"},
		{"relative path", state.KindVersion, "b"},
		{"NUL in the path", state.KindVersion, "/b\x00"},
	} {
		if err := s.ReclassifyKept(t.Context(), good.ID, tt.kind, tt.path); err == nil {
			t.Errorf("ReclassifyKept (%s) took it", tt.name)
		}
	}
	if err := s.MoveVersions(t.Context(), "/a", "b"); err == nil {
		t.Error("MoveVersions to a relative path took it")
	}
	checkKept(t, s, good, []state.KeptItem{file})
}

// keptTree returns the records testListKept starts from, newest first as
// ListKept returns them: of two removed at once, the lower ID first.
func keptTree(n time.Time) []state.Kept {
	at := func(h int) time.Time { return n.Add(-time.Duration(h) * time.Hour) }
	return []state.Kept{
		newKept("k01", state.KindDeleted, "/a", at(0)),
		newKept("k02", state.KindVersion, "/a/x.pdf", at(1)),
		newKept("k03", state.KindDeleted, "/ab", at(2)),
		newKept("k04", state.KindVersion, "/a/b/PRATICA-È.dwg", at(3)),
		newKept("k05", state.KindDeleted, "/b/pratica-è.pdf", at(3)),
		newKept("k06", state.KindDeleted, `/c/100%_x\y`, at(4)),
		newKept("k07", state.KindVersion, "/a", at(5)),
		newKept("k08", state.KindDeleted, "/a0/x", at(6)),
		newKept("k09", state.KindDeleted, "/a.b/x", at(7)),
		newKept("k10", state.KindVersion, "/Città/Perché", at(8)),
	}
}

func testListKept(t *testing.T, s state.TrashStore) {
	n := now()
	all := keptTree(n)
	for _, i := range rand.Perm(len(all)) {
		putKept(t, s, all[i])
	}
	at3 := n.Add(-3 * time.Hour)
	tests := []struct {
		name  string
		q     state.KeptQuery
		want  []string
		total int // 0: len(want)
	}{
		{"all", state.KeptQuery{}, []string{"k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10"}, 0},
		{"deleted", state.KeptQuery{Kind: state.KindDeleted}, []string{"k01", "k03", "k05", "k06", "k08", "k09"}, 0},
		{"versions", state.KeptQuery{Kind: state.KindVersion}, []string{"k02", "k04", "k07", "k10"}, 0},
		{"another kind", state.KeptQuery{Kind: "other"}, nil, 0},
		{"at a path", state.KeptQuery{Path: "/a"}, []string{"k01", "k07"}, 0},
		{"versions at a path", state.KeptQuery{Kind: state.KindVersion, Path: "/a"}, []string{"k07"}, 0},
		{"tree, not its prefix siblings", state.KeptQuery{Path: "/a", Tree: true}, []string{"k01", "k02", "k04", "k07"}, 0},
		{"tree below", state.KeptQuery{Path: "/a/b", Tree: true}, []string{"k04"}, 0},
		{"path alone is no tree", state.KeptQuery{Path: "/a/b"}, nil, 0},
		{"tree of the root", state.KeptQuery{Path: "/", Tree: true}, []string{"k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10"}, 0},
		{"tree, case", state.KeptQuery{Path: "/città", Tree: true}, nil, 0},
		{"search", state.KeptQuery{Search: "pratica"}, []string{"k04", "k05"}, 0},
		{"search, upper case", state.KeptQuery{Search: "PRATICA"}, []string{"k04", "k05"}, 0},
		{"search, accent", state.KeptQuery{Search: "è"}, []string{"k04", "k05"}, 0},
		{"search, upper-case accent", state.KeptQuery{Search: "-È."}, []string{"k04", "k05"}, 0},
		{"search, mixed", state.KeptQuery{Search: "cITTÀ/perCHÉ"}, []string{"k10"}, 0},
		{"search, no accent folding", state.KeptQuery{Search: "citta"}, nil, 0},
		{"search, percent", state.KeptQuery{Search: "%"}, []string{"k06"}, 0},
		{"search, underscore", state.KeptQuery{Search: "_"}, []string{"k06"}, 0},
		{"search, backslash", state.KeptQuery{Search: `\`}, []string{"k06"}, 0},
		{"search, all of it", state.KeptQuery{Search: `0%_X\y`}, []string{"k06"}, 0},
		{"search, across a slash", state.KeptQuery{Search: "a/b"}, []string{"k04"}, 0},
		{"search, nothing", state.KeptQuery{Search: "nessuno"}, nil, 0},
		{"search in a tree", state.KeptQuery{Path: "/a", Tree: true, Search: "pdf"}, []string{"k02"}, 0},
		{"before", state.KeptQuery{Before: at3}, []string{"k06", "k07", "k08", "k09", "k10"}, 0},
		{"before, deleted", state.KeptQuery{Kind: state.KindDeleted, Before: at3.Add(time.Microsecond)}, []string{"k05", "k06", "k08", "k09"}, 0},
		{"limit", state.KeptQuery{Limit: 3}, []string{"k01", "k02", "k03"}, 10},
		{"offset", state.KeptQuery{Offset: 8}, []string{"k09", "k10"}, 10},
		{"page", state.KeptQuery{Limit: 2, Offset: 3}, []string{"k04", "k05"}, 10},
		{"page past the end", state.KeptQuery{Limit: 2, Offset: 20}, nil, 10},
		{"page of a selection", state.KeptQuery{Kind: state.KindDeleted, Limit: 2, Offset: 1}, []string{"k03", "k05"}, 6},
		{"limit past the end", state.KeptQuery{Kind: state.KindVersion, Limit: 10}, []string{"k02", "k04", "k07", "k10"}, 0},
	}
	byID := make(map[string]state.Kept)
	for _, k := range all {
		byID[k.ID] = k
	}
	for _, tt := range tests {
		got, total, err := s.ListKept(t.Context(), tt.q)
		if err != nil {
			t.Errorf("ListKept(%s): %v", tt.name, err)
			continue
		}
		var ids []string
		for _, k := range got {
			ids = append(ids, k.ID)
			if !sameKept(k, byID[k.ID]) {
				t.Errorf("ListKept(%s) gave %+v, want %+v", tt.name, k, byID[k.ID])
			}
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("ListKept(%s) = %q, want %q", tt.name, ids, tt.want)
		}
		if want := cmp0(tt.total, len(tt.want)); total != want {
			t.Errorf("ListKept(%s) counts %d, want %d", tt.name, total, want)
		}
	}
	if _, _, err := s.ListKept(t.Context(), state.KeptQuery{Limit: -1}); err == nil {
		t.Error("ListKept with a negative limit took it")
	}
}

func cmp0(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

// listed returns the IDs ListKept gives for q.
func listed(t *testing.T, s state.TrashStore, q state.KeptQuery) []string {
	t.Helper()
	got, _, err := s.ListKept(t.Context(), q)
	if err != nil {
		t.Fatalf("ListKept(%+v): %v", q, err)
	}
	var ids []string
	for _, k := range got {
		ids = append(ids, k.ID)
	}
	return ids
}

func testReclassifyKept(t *testing.T, s state.TrashStore) {
	n := now()
	k := newKept("r", state.KindDeleted, "/a/Vecchio.dwg", n)
	items := []state.KeptItem{fileItem("", "old", n)}
	putKept(t, s, k, items...)
	if err := s.ReclassifyKept(t.Context(), k.ID, state.KindVersion, "/b/Già.dwg"); err != nil {
		t.Fatalf("ReclassifyKept: %v", err)
	}
	k.Kind, k.Path = state.KindVersion, "/b/Già.dwg"
	checkKept(t, s, k, items) // the rest as it was
	if got := listed(t, s, state.KeptQuery{Search: "GIÀ"}); !slices.Equal(got, []string{"r"}) {
		t.Errorf("search of the new path = %q", got)
	}
	if got := listed(t, s, state.KeptQuery{Search: "vecchio"}); len(got) != 0 {
		t.Errorf("search of the old path = %q", got)
	}
	if got := listed(t, s, state.KeptQuery{Kind: state.KindDeleted}); len(got) != 0 {
		t.Errorf("deleted ones = %q", got)
	}
}

func testMoveVersions(t *testing.T, s state.TrashStore) {
	n := now()
	recs := []state.Kept{
		newKept("v1", state.KindVersion, "/a", n),
		newKept("v2", state.KindVersion, "/a/x.pdf", n),
		newKept("v3", state.KindVersion, "/a/b/c.pdf", n),
		newKept("v4", state.KindVersion, "/ab/x.pdf", n),  // a prefix sibling
		newKept("v5", state.KindVersion, "/a0", n),        // another
		newKept("d1", state.KindDeleted, "/a/d.pdf", n),   // not a version
		newKept("v6", state.KindVersion, "/b/old.pdf", n), // already at the destination
	}
	items := []state.KeptItem{fileItem("", "x", n)}
	for _, k := range recs {
		putKept(t, s, k, items...)
	}
	if err := s.MoveVersions(t.Context(), "/a", "/b"); err != nil {
		t.Fatalf("MoveVersions: %v", err)
	}
	want := map[string]string{"v1": "/b", "v2": "/b/x.pdf", "v3": "/b/b/c.pdf", "v4": "/ab/x.pdf", "v5": "/a0",
		"d1": "/a/d.pdf", "v6": "/b/old.pdf"}
	for _, k := range recs {
		k.Path = want[k.ID]
		checkKept(t, s, k, items)
	}
	// The searches find them where they are now.
	if got := listed(t, s, state.KeptQuery{Search: "/B/B/"}); !slices.Equal(got, []string{"v3"}) {
		t.Errorf("search of a moved path = %q, want [v3]", got)
	}
	// Nothing to move is no error.
	if err := s.MoveVersions(t.Context(), "/nothing", "/elsewhere"); err != nil {
		t.Errorf("MoveVersions of nothing: %v", err)
	}
}

func testDeleteKept(t *testing.T, s state.TrashStore) {
	n := now()
	k := newKept("del", state.KindDeleted, "/a", n)
	k.IsDir = true
	other := newKept("other", state.KindDeleted, "/b", n)
	putKept(t, s, k, state.KeptItem{Rel: "", IsDir: true}, fileItem("x", "x", n), fileItem("y", "y", n))
	putKept(t, s, other, fileItem("", "o", n))
	if err := s.DeleteKept(t.Context(), k.ID); err != nil {
		t.Fatalf("DeleteKept: %v", err)
	}
	if _, err := s.KeptByID(t.Context(), k.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("KeptByID after DeleteKept: %v, want ErrNotFound", err)
	}
	if err := s.KeptItems(t.Context(), k.ID, func(state.KeptItem) error { return nil }); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("KeptItems after DeleteKept: %v, want ErrNotFound", err)
	}
	if err := s.DeleteKept(t.Context(), k.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteKept again: %v, want ErrNotFound", err)
	}
	// The items went with the record: the ID recorded again has only its
	// new ones.
	items := []state.KeptItem{fileItem("", "new", n)}
	k.IsDir = false
	putKept(t, s, k, items...)
	checkKept(t, s, k, items)
	checkKept(t, s, other, []state.KeptItem{fileItem("", "o", n)})
}

// Departures.

func putDeparture(t *testing.T, s state.TrashStore, d state.Departure) {
	t.Helper()
	if err := s.PutDeparture(t.Context(), d); err != nil {
		t.Fatalf("PutDeparture(%q): %v", d.From, err)
	}
}

func takeDeparture(t *testing.T, s state.TrashStore, from string, since time.Time) (state.Departure, bool) {
	t.Helper()
	d, ok, err := s.TakeDeparture(t.Context(), from, since)
	if err != nil {
		t.Fatalf("TakeDeparture(%q): %v", from, err)
	}
	return d, ok
}

func sameDeparture(a, b state.Departure) bool {
	a.At, b.At = a.At.UTC(), b.At.UTC()
	return a == b
}

func testDepartures(t *testing.T, s state.TrashStore) {
	n := now()
	const from = "/guastalla/2019/PC-2019-0042/tavola è.dwg"
	first := state.Departure{From: from, To: "/guastalla/2019/PC-2019-0042/tavola è.bak", ETag: `"abc"`, Size: 10, At: n.Add(-time.Second)}
	second := state.Departure{From: from, To: "/guastalla/2019/PC-2019-0042/tavola è.old", ETag: "def-2", Size: 5 << 40,
		At: n.In(time.FixedZone("CET", 3600))}
	putDeparture(t, s, first)
	putDeparture(t, s, second) // replaces the first
	if d, ok := takeDeparture(t, s, from, n.Add(-time.Minute)); !ok || !sameDeparture(d, second) {
		t.Errorf("TakeDeparture = %+v, %v; want %+v", d, ok, second)
	}
	if d, ok := takeDeparture(t, s, from, time.Time{}); ok {
		t.Errorf("TakeDeparture again = %+v, want none", d)
	}
	if _, ok := takeDeparture(t, s, "/never", time.Time{}); ok {
		t.Error("TakeDeparture of a path never left gave one")
	}
	if _, ok := takeDeparture(t, s, "/\xff", time.Time{}); ok {
		t.Error("TakeDeparture of invalid text gave one")
	}

	// since: at it is in time, before it is stale, and removed all the same.
	putDeparture(t, s, first)
	if d, ok := takeDeparture(t, s, from, first.At); !ok || !sameDeparture(d, first) {
		t.Errorf("TakeDeparture at since = %+v, %v; want %+v", d, ok, first)
	}
	putDeparture(t, s, first)
	if d, ok := takeDeparture(t, s, from, first.At.Add(time.Microsecond)); ok {
		t.Errorf("TakeDeparture of a stale one = %+v, want none", d)
	}
	if d, ok := takeDeparture(t, s, from, time.Time{}); ok {
		t.Errorf("the stale one stayed: %+v", d)
	}

	// Others' stay.
	a := state.Departure{From: "/a", To: "/a.bak", At: n}
	b := state.Departure{From: "/a/b", To: "/a/b.bak", At: n}
	putDeparture(t, s, a)
	putDeparture(t, s, b)
	if d, ok := takeDeparture(t, s, "/a/b", n); !ok || !sameDeparture(d, b) {
		t.Errorf("TakeDeparture(/a/b) = %+v, %v", d, ok)
	}
	if d, ok := takeDeparture(t, s, "/a", n); !ok || !sameDeparture(d, a) {
		t.Errorf("TakeDeparture(/a) = %+v, %v", d, ok)
	}

	for _, d := range []state.Departure{
		{From: "a", To: "/b", At: n},
		{From: "", To: "/b", At: n},
		{From: "/a", To: "b", At: n},
		{From: "/a\x00", To: "/b", At: n},
		{From: "/a", To: "/b", ETag: "\xff", At: n},
		{From: "/a", To: "/b", Size: -1, At: n},
		{From: "/a", To: "/b"},
	} {
		if err := s.PutDeparture(t.Context(), d); err == nil {
			t.Errorf("PutDeparture(%+v) took it", d)
		}
	}
	if d, ok := takeDeparture(t, s, "/a", time.Time{}); ok {
		t.Errorf("a refused departure was recorded: %+v", d)
	}
}

// testConcurrentTakeDeparture has callers race for one departure: exactly
// one may get it.
func testConcurrentTakeDeparture(t *testing.T, s state.TrashStore) {
	const racers = 20
	n := now()
	for round := range 3 {
		d := state.Departure{From: "/x.dwg", To: fmt.Sprintf("/x.bak%d", round), At: n}
		putDeparture(t, s, d)
		var (
			wg   sync.WaitGroup
			wins atomic.Int32
		)
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				got, ok, err := s.TakeDeparture(t.Context(), d.From, n.Add(-time.Second))
				if err != nil {
					t.Errorf("TakeDeparture: %v", err)
					return
				}
				if ok {
					wins.Add(1)
					if !sameDeparture(got, d) {
						t.Errorf("TakeDeparture = %+v, want %+v", got, d)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("round %d: %d of %d callers got the departure, want exactly 1", round, got, racers)
		}
	}
}

// testDeparturesExpire checks that DeleteExpired drops the departures
// older than state.DepartureRetention, and only those.
func testDeparturesExpire(t *testing.T, s state.Store) {
	n := now()
	old := state.Departure{From: "/old", To: "/old.bak", At: n.Add(-state.DepartureRetention - time.Second)}
	recent := state.Departure{From: "/recent", To: "/recent.bak", At: n.Add(-state.DepartureRetention + time.Minute)}
	putDeparture(t, s, old)
	putDeparture(t, s, recent)
	putKept(t, s, newKept("k", state.KindDeleted, "/k", n.Add(-1000*time.Hour))) // retention is the caller's
	if err := s.DeleteExpired(t.Context(), n); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if d, ok := takeDeparture(t, s, old.From, time.Time{}); ok {
		t.Errorf("DeleteExpired kept %+v", d)
	}
	if d, ok := takeDeparture(t, s, recent.From, time.Time{}); !ok || !sameDeparture(d, recent) {
		t.Errorf("after DeleteExpired, the recent departure is %+v, %v", d, ok)
	}
	if _, err := s.KeptByID(t.Context(), "k"); err != nil {
		t.Errorf("DeleteExpired removed a kept record: %v", err)
	}
}
