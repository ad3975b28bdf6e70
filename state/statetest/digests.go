package statetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Digests.

// newDigest returns the digest of a file at p holding content, recorded at
// recorded, with an ETag as S3 gives a file uploaded whole.
func newDigest(p, content string, recorded time.Time) state.Digest {
	sum := sha256.Sum256([]byte(content))
	return state.Digest{Path: p, SHA256: sum, Size: int64(len(content)), ETag: fmt.Sprintf("%x", sum[:16]), Recorded: recorded}
}

// digestTree returns the paths the tree cases start from: prefix siblings
// of "/a/b" that sort before and after its descendants ('.' and ' ' before
// '/', '0' and 'c' after), paths that a LIKE pattern or a case-folding or
// locale-aware comparison would confuse, and a folder ("/x") without a
// digest of its own.
func digestTree() []string {
	return []string{
		"/", "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/b/Z", "/a/b/z", "/a/b/é", "/a/b/c d",
		"/a/bc", "/a/b0", "/a/b.", "/a/b x", "/a/b0/c", "/A/b", "/a_b/x", "/a%/x", `/a\b/x`,
		"/x/y", "/città/perché è", "/città/perche e",
	}
}

// seedDigests puts a digest for each path, each with a content, size, ETag
// and time of its own, and returns them by path.
func seedDigests(t *testing.T, s state.DigestStore, paths ...string) map[string]state.Digest {
	t.Helper()
	base := now()
	m := make(map[string]state.Digest)
	var ds []state.Digest
	for i, p := range paths {
		d := newDigest(p, "content of "+p, base.Add(time.Duration(i)*time.Microsecond))
		m[p] = d
		ds = append(ds, d)
	}
	putDigests(t, s, ds...)
	return m
}

func putDigests(t *testing.T, s state.DigestStore, ds ...state.Digest) {
	t.Helper()
	if err := s.PutDigests(t.Context(), ds); err != nil {
		t.Fatalf("PutDigests(%d digests): %v", len(ds), err)
	}
}

// sameDigest reports whether a and b are equal, their times as instants.
func sameDigest(a, b state.Digest) bool {
	return a.Path == b.Path && a.SHA256 == b.SHA256 && a.Size == b.Size && a.ETag == b.ETag && a.Recorded.Equal(b.Recorded)
}

func fmtDigests(ds []state.Digest) string {
	var b []byte
	for _, d := range ds {
		b = fmt.Appendf(b, "\n\t{%q %x %d %q %v}", d.Path, d.SHA256[:4], d.Size, d.ETag, d.Recorded)
	}
	return string(b)
}

// treeDigests returns what TreeDigests(p) gives, in its order.
func treeDigests(t *testing.T, s state.DigestStore, p string) []state.Digest {
	t.Helper()
	var got []state.Digest
	if err := s.TreeDigests(t.Context(), p, func(d state.Digest) error {
		got = append(got, d)
		return nil
	}); err != nil {
		t.Fatalf("TreeDigests(%q): %v", p, err)
	}
	return got
}

// checkDigests checks that the store holds exactly the digests of m,
// by path, in byte order of path.
func checkDigests(t *testing.T, s state.DigestStore, m map[string]state.Digest) {
	t.Helper()
	var want []state.Digest
	for _, p := range slices.Sorted(maps.Keys(m)) {
		want = append(want, m[p])
	}
	if got := treeDigests(t, s, "/"); !slices.EqualFunc(got, want, sameDigest) {
		t.Errorf("the store holds%s\nwant%s", fmtDigests(got), fmtDigests(want))
	}
}

func testDigestRoundTrip(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	n := now()
	big := newDigest("/guastalla/2019/PC-2019-0042/tavola.pdf", "x", n)
	big.Size, big.ETag = 5<<40, "9b2cf535f27731c974343645a3985328-640" // a multipart upload's
	zoned := newDigest(`/città di Guastalla/l'archivio/"vecchio" – 日本語 🏗️`, "y", n.In(time.FixedZone("CET", 3600)))
	ds := []state.Digest{
		newDigest("/guastalla/2019/PC-2019-0042/relazione.pdf", "Relazione tecnica", n),
		big,
		zoned,
		newDigest("/guastalla/vuoto", "", n.Add(-30*365*24*time.Hour)), // an empty file, long ago
		{Path: "/guastalla/senza-etag", Size: 1, Recorded: n.Add(time.Microsecond)},
		newDigest("/", "the root", n),
	}
	putDigests(t, s, ds...)
	paths := []string{"/guastalla", "/guastalla/2019/PC-2019-0042"}
	for _, d := range ds {
		paths = append(paths, d.Path)
	}
	got, err := s.DigestsOf(t.Context(), paths)
	if err != nil {
		t.Fatalf("DigestsOf: %v", err)
	}
	if len(got) != len(ds) {
		t.Errorf("DigestsOf returned %d digests, want %d", len(got), len(ds))
	}
	for _, want := range ds {
		if d, ok := got[want.Path]; !ok || !sameDigest(d, want) {
			t.Errorf("DigestsOf[%q] =%s\nwant%s", want.Path, fmtDigests([]state.Digest{d}), fmtDigests([]state.Digest{want}))
		}
	}
}

func testPutDigestsReplaces(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	n := now()
	m := seedDigests(t, s, "/a", "/a/b", "/c")
	// The file changed: another content, size, ETag and time.
	m["/a/b"] = newDigest("/a/b", "new content", n.Add(time.Hour))
	putDigests(t, s, m["/a/b"])
	checkDigests(t, s, m)
	// Of two for one path in a call, the later wins.
	first, second := newDigest("/c", "first", n.Add(2*time.Hour)), newDigest("/c", "second", n.Add(3*time.Hour))
	m["/c"], m["/d"] = second, newDigest("/d", "d", n)
	putDigests(t, s, first, m["/d"], second)
	checkDigests(t, s, m)
	// Nothing is nothing.
	putDigests(t, s)
	if err := s.PutDigests(t.Context(), nil); err != nil {
		t.Errorf("PutDigests(nil): %v", err)
	}
	checkDigests(t, s, m)
}

func testDigestsOf(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	m := seedDigests(t, s, digestTree()...)
	many := []string{"/a/bc"}
	for i := range 40000 { // past SQLite's 32,766 parameters of a statement
		many = append(many, fmt.Sprintf("/a/f%05d", i))
	}
	many = append(many, "/a/b/z")
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"nil", nil, nil},
		{"empty", []string{}, nil},
		{"one", []string{"/a/b"}, []string{"/a/b"}},
		{"the root", []string{"/"}, []string{"/"}},
		{"some missing", []string{"/a/b/c", "/x", "/a/b", "/a/b/c/e", "/nothing"}, []string{"/a/b", "/a/b/c"}},
		{"twice", []string{"/a", "/a"}, []string{"/a"}},
		{"three", []string{"/a", "/A/b", "/a/b."}, []string{"/A/b", "/a", "/a/b."}}, // a length not a power of two
		{"no pattern, no case folding", []string{"/a_b/y", "/a%/y", "/A", "/a/B", "/a/b/é"}, []string{"/a/b/é"}},
		{"no normalization", []string{"/città/perche\u0301 e", "/citta\u0300/perché è"}, nil},
		{"none there", []string{"/nothing", "/a/b/c/d/e"}, nil},
		{"many", many, []string{"/a/b/z", "/a/bc"}},
	}
	for _, tt := range tests {
		got, err := s.DigestsOf(t.Context(), tt.paths)
		if err != nil {
			t.Fatalf("DigestsOf(%s): %v", tt.name, err)
		}
		if got == nil {
			t.Errorf("DigestsOf(%s) = nil, want a map", tt.name)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.want) {
			t.Errorf("DigestsOf(%s) has paths %q, want %q", tt.name, keys, tt.want)
		}
		for p, d := range got {
			if !sameDigest(d, m[p]) {
				t.Errorf("DigestsOf(%s)[%q] =%s\nwant%s", tt.name, p, fmtDigests([]state.Digest{d}), fmtDigests([]state.Digest{m[p]}))
			}
		}
	}
}

func testTreeDigests(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	m := seedDigests(t, s, digestTree()...)
	tests := []struct {
		p    string
		want []string // in byte order: uppercase before lowercase, "é" after "z"
	}{
		{"/a/b", []string{"/a/b", "/a/b/Z", "/a/b/c", "/a/b/c d", "/a/b/c/d", "/a/b/z", "/a/b/é"}},
		{"/a/b/c", []string{"/a/b/c", "/a/b/c/d"}},
		{"/a/b/c/d", []string{"/a/b/c/d"}},
		{"/a/b0", []string{"/a/b0", "/a/b0/c"}},
		{"/x", []string{"/x/y"}}, // a folder without a digest of its own
		{"/a_b", []string{"/a_b/x"}},
		{"/a%", []string{"/a%/x"}},
		{`/a\b`, []string{`/a\b/x`}},
		{"/A", []string{"/A/b"}},
		{"/città", []string{"/città/perche e", "/città/perché è"}},
		{"/nothing", nil},
		{"/a/b/c/d/e", nil},
		{"/", slices.Sorted(slices.Values(digestTree()))},
	}
	for _, tt := range tests {
		var want []state.Digest
		for _, p := range tt.want {
			want = append(want, m[p])
		}
		if got := treeDigests(t, s, tt.p); !slices.EqualFunc(got, want, sameDigest) {
			t.Errorf("TreeDigests(%q) =%s\nwant%s", tt.p, fmtDigests(got), fmtDigests(want))
		}
	}
}

// testTreeDigestsStop: fn's error ends the walk and comes back as it is,
// whether it comes from the tree's own digest or from one below it.
func testTreeDigestsStop(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	seedDigests(t, s, "/t", "/t/1", "/t/2", "/t/3", "/t/4", "/u")
	errStop := errors.New("stop")
	for _, stopAt := range []int{1, 2, 4, 5} {
		calls := 0
		err := s.TreeDigests(t.Context(), "/t", func(state.Digest) error {
			calls++
			if calls == stopAt {
				return errStop
			}
			return nil
		})
		if err != errStop { // as it is, not wrapped
			t.Errorf("TreeDigests with fn failing at digest %d: error = %v, want fn's as it is", stopAt, err)
		}
		if calls != stopAt {
			t.Errorf("TreeDigests with fn failing at digest %d called it %d times", stopAt, calls)
		}
	}
}

// testTreeDigestsWhileWriting: fn may call the store, writes included,
// while the walk goes on.
func testTreeDigestsWhileWriting(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	m := seedDigests(t, s, "/t/1", "/t/2", "/t/3")
	written := newDigest("/u", "written while walking", now())
	calls := 0
	err := s.TreeDigests(t.Context(), "/t", func(d state.Digest) error {
		calls++
		if calls > 1 {
			return nil
		}
		// Bounded, so that a store that blocks writers fails the test
		// rather than hanging it.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := s.PutDigests(ctx, []state.Digest{written}); err != nil {
			return fmt.Errorf("PutDigests while TreeDigests runs: %w", err)
		}
		if _, err := s.DigestsOf(ctx, []string{d.Path}); err != nil {
			return fmt.Errorf("DigestsOf while TreeDigests runs: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("TreeDigests called fn %d times, want 3", calls)
	}
	m["/u"] = written
	checkDigests(t, s, m)
}

// moveModel does on m what MoveDigests does on a store.
func moveModel(m map[string]state.Digest, src, dst string) {
	var moved []state.Digest
	for p, d := range m {
		if inTree(p, src) {
			d.Path = state.Rebase(p, src, dst)
			moved = append(moved, d)
		}
	}
	deleteDigestModel(m, dst)
	deleteDigestModel(m, src)
	for _, d := range moved {
		m[d.Path] = d
	}
}

func deleteDigestModel(m map[string]state.Digest, root string) {
	for p := range m {
		if inTree(p, root) {
			delete(m, p)
		}
	}
}

// testMoveDigests checks MoveDigests against a model: every digest keeps
// its SHA-256, size, ETag and time, under its new path.
func testMoveDigests(t *testing.T, open func(*testing.T) state.DigestStore) {
	tests := []struct {
		name     string
		src, dst string
		extra    []string // seeded besides digestTree
		want     []string // some of the paths after, to make the model's answer plain
	}{
		{name: "into a new place", src: "/a/b", dst: "/n/m",
			want: []string{"/n/m", "/n/m/Z", "/n/m/c", "/n/m/c/d"}},
		{name: "over an existing tree", src: "/a/b", dst: "/q",
			extra: []string{"/q", "/q/c", "/q/only-dst", "/q/c/only-dst", "/q0"},
			want:  []string{"/q", "/q/c", "/q/c/d", "/q0"}},
		{name: "onto a prefix sibling", src: "/a/bc", dst: "/a/b", want: []string{"/a/b", "/a/b.", "/a/b0"}},
		{name: "from a prefix sibling", src: "/a/b", dst: "/a/bc"},
		{name: "into its own child", src: "/a/b", dst: "/a/b/c/sub",
			want: []string{"/a/b/c/sub", "/a/b/c/sub/c", "/a/b/c/sub/c/d", "/a/bc"}},
		{name: "out of it", src: "/a/b/c", dst: "/a/b", want: []string{"/a/b", "/a/b/d", "/a/b0"}},
		{name: "out of it to the root", src: "/a/b", dst: "/", want: []string{"/", "/Z", "/c", "/c/d"}},
		{name: "onto itself", src: "/a/b", dst: "/a/b"},
		{name: "a file", src: "/a/b/c/d", dst: "/a/b/c/e"},
		{name: "an empty source", src: "/nothing", dst: "/a/b0", want: []string{"/a/b"}},
		{name: "a folder without its own digest", src: "/x", dst: "/y", want: []string{"/y/y"}},
		{name: "special characters", src: `/a\b`, dst: "/a_b", want: []string{"/a_b/x", "/a%/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			m := seedDigests(t, s, slices.Concat(digestTree(), tt.extra)...)
			moveModel(m, tt.src, tt.dst)
			for _, p := range tt.want {
				if _, ok := m[p]; !ok {
					t.Fatalf("the model lacks %q: the case is wrong", p)
				}
			}
			if err := s.MoveDigests(t.Context(), tt.src, tt.dst); err != nil {
				t.Fatalf("MoveDigests(%q, %q): %v", tt.src, tt.dst, err)
			}
			checkDigests(t, s, m)
		})
	}
}

func testDeleteDigests(t *testing.T, open func(*testing.T) state.DigestStore) {
	for _, p := range []string{"/a/b", "/a/b/c/d", "/x", "/a_b", "/A", "/città", "/nothing", "/"} {
		t.Run(p, func(t *testing.T) {
			s := open(t)
			m := seedDigests(t, s, digestTree()...)
			if err := s.DeleteDigests(t.Context(), p); err != nil {
				t.Fatalf("DeleteDigests(%q): %v", p, err)
			}
			deleteDigestModel(m, p)
			checkDigests(t, s, m)
		})
	}
}

// testPutDigestsRefused: a digest the store must not hold refuses its whole
// batch, before anything is written. Text must be valid UTF-8 without NUL,
// which PostgreSQL's text requires; both stores refuse it alike.
func testPutDigestsRefused(t *testing.T, open func(*testing.T) state.DigestStore) {
	n := now()
	valid := newDigest("/a", "a", n)
	tests := []struct {
		name string
		d    state.Digest
	}{
		{"empty path", state.Digest{Size: 1, ETag: "e", Recorded: n}},
		{"zero Recorded", state.Digest{Path: "/b", Size: 1, ETag: "e"}},
		{"path not UTF-8", newDigest("/caff\xe8", "b", n)},
		{"path with a NUL", newDigest("/a\x00b", "b", n)},
		{"ETag not UTF-8", state.Digest{Path: "/b", ETag: "\xff", Recorded: n}},
		{"negative size", state.Digest{Path: "/b", Size: -1, Recorded: n}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			if err := s.PutDigests(t.Context(), []state.Digest{valid, tt.d}); err == nil {
				t.Fatalf("PutDigests with a digest of %s succeeded", tt.name)
			}
			checkDigests(t, s, nil)
		})
	}
}

// testDigestsInvalidText: a path that no store can hold has no digest and
// no tree, and asking for one is no error; a move to one is refused.
func testDigestsInvalidText(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	m := seedDigests(t, s, "/a", "/a/b", "/c")
	for _, p := range []string{"/caff\xe8", "/a\x00b", "/a/\xff"} {
		got, err := s.DigestsOf(t.Context(), []string{"/a", p})
		if err != nil || len(got) != 1 {
			t.Errorf("DigestsOf(/a, %q) = %d digests, %v; want that of /a", p, len(got), err)
		}
		if got := treeDigests(t, s, p); got != nil {
			t.Errorf("TreeDigests(%q) =%s\nwant none", p, fmtDigests(got))
		}
		if err := s.DeleteDigests(t.Context(), p); err != nil {
			t.Errorf("DeleteDigests(%q): %v", p, err)
		}
		if err := s.MoveDigests(t.Context(), "/a", p); err == nil {
			t.Errorf("MoveDigests(/a, %q) succeeded", p)
		}
		checkDigests(t, s, m)
	}
}

// testConcurrentPutDigests has writers put overlapping digests, each in an
// order of its own: none may fail (a deadlock, say), and each path ends up
// with one writer's digest.
func testConcurrentPutDigests(t *testing.T, open func(*testing.T) state.DigestStore) {
	s := open(t)
	const writers, files = 10, 50
	n := now()
	var wg sync.WaitGroup
	for w := range writers {
		var ds []state.Digest
		for i := range files {
			ds = append(ds, newDigest(fmt.Sprintf("/c/%02d", i), fmt.Sprintf("writer %d", w), n))
		}
		rand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
		wg.Go(func() {
			if err := s.PutDigests(t.Context(), ds); err != nil {
				t.Errorf("PutDigests: %v", err)
			}
		})
	}
	wg.Wait()
	got := treeDigests(t, s, "/c")
	if len(got) != files {
		t.Fatalf("TreeDigests gave %d digests, want %d", len(got), files)
	}
	for _, d := range got {
		found := false
		for w := range writers {
			found = found || sameDigest(d, newDigest(d.Path, fmt.Sprintf("writer %d", w), n))
		}
		if !found {
			t.Errorf("the digest of %q is no writer's:%s", d.Path, fmtDigests([]state.Digest{d}))
		}
	}
}
