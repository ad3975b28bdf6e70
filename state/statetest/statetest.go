// Package statetest is the conformance suite for state.Store
// implementations. Every implementation runs it unchanged from its own tests:
//
//	func TestStore(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) state.Store { … })
//	}
//
// The suite needs the wall clock to be roughly right, because Store.Lock and
// Store.DeleteLock judge expiry by it. Its times are whole microseconds, so
// that a store keeping microseconds (a PostgreSQL timestamptz) passes as well
// as one keeping nanoseconds.
package statetest

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Run runs the suite, each case in a subtest on a store of its own. open
// returns a new, empty store; Run closes it when the subtest ends, before
// any cleanup open registered runs (to drop a database, say).
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	fresh := func(t *testing.T) state.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.ResourceStore)
	}{
		{"PropsRoundTrip", testPropsRoundTrip},
		{"PatchProps", testPatchProps},
		{"ChildProps", testChildProps},
		{"PropsOf", testPropsOf},
		{"Subtrees", testSubtrees},
		{"DeleteRootProps", testDeleteRootProps},
		{"ConcurrentPatches", testConcurrentPatches},
		{"LockRoundTrip", testLockRoundTrip},
		{"LockConflicts", testLockConflicts},
		{"Expiry", testExpiry},
		{"Refresh", testRefresh},
		{"UnknownToken", testUnknownToken},
		{"DeleteLock", testDeleteLock},
		{"Locks", testLocks},
		{"DeleteLocks", testDeleteLocks},
		{"ConcurrentLocks", testConcurrentLocks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, func(t *testing.T) state.ResourceStore { t.Helper(); return fresh(t) })
		})
	}
	digestTests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.DigestStore)
	}{
		{"DigestRoundTrip", testDigestRoundTrip},
		{"PutDigestsReplaces", testPutDigestsReplaces},
		{"DigestsOf", testDigestsOf},
		{"TreeDigests", testTreeDigests},
		{"TreeDigestsStop", testTreeDigestsStop},
		{"TreeDigestsWhileWriting", testTreeDigestsWhileWriting},
		{"MoveDigests", testMoveDigests},
		{"DeleteDigests", testDeleteDigests},
		{"PutDigestsRefused", testPutDigestsRefused},
		{"DigestsInvalidText", testDigestsInvalidText},
		{"ConcurrentPutDigests", testConcurrentPutDigests},
	}
	for _, tt := range digestTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, func(t *testing.T) state.DigestStore { t.Helper(); return fresh(t) })
		})
	}
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s state.DossierStore)
	}{
		{"ClosedDossiers", testClosedDossiers},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, fresh(t)) })
	}
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s state.TrashStore)
	}{
		{"KeptRoundTrip", testKeptRoundTrip},
		{"PutKeptExists", testPutKeptExists},
		{"KeptNotFound", testKeptNotFound},
		{"KeptItemsOrder", testKeptItemsOrder},
		{"PutKeptMany", testPutKeptMany},
		{"PutKeptRefused", testPutKeptRefused},
		{"ListKept", testListKept},
		{"ReclassifyKept", testReclassifyKept},
		{"MoveVersions", testMoveVersions},
		{"DeleteKept", testDeleteKept},
		{"Departures", testDepartures},
		{"ConcurrentTakeDeparture", testConcurrentTakeDeparture},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, fresh(t)) })
	}
	t.Run("DeparturesExpire", func(t *testing.T) { testDeparturesExpire(t, fresh(t)) })
	leaseTests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.LeaseStore)
	}{
		{"LeaseOneHolder", testLeaseOneHolder},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseRenew", testLeaseRenew},
		{"LeaseRelease", testLeaseRelease},
		{"LeaseRefused", testLeaseRefused},
		{"ConcurrentTakeLease", testConcurrentTakeLease},
	}
	for _, tt := range leaseTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, func(t *testing.T) state.LeaseStore { t.Helper(); return fresh(t) })
		})
	}
	noticeTests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.NoticeStore)
	}{
		{"NoticeOnce", testNoticeOnce},
		{"NoticeAttempts", testNoticeAttempts},
		{"NoticeRefused", testNoticeRefused},
		{"ConcurrentClaimNotice", testConcurrentClaimNotice},
	}
	for _, tt := range noticeTests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, func(t *testing.T) state.NoticeStore { t.Helper(); return fresh(t) })
		})
	}
}

// now returns the current time in whole microseconds.
func now() time.Time { return time.Now().Truncate(time.Microsecond) }

// Properties.

func testPropsRoundTrip(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	ctx := t.Context()
	const p = "/guastalla/2019/PC-2019-0042"
	props := []state.Prop{
		prop("http://example.com/ns", "author", "it", "Mario Rossi"),
		prop("urn:x", "author", "", `<x:nome xmlns:x="urn:x">Anna</x:nome>`), // same local name, other space
		prop("", "nonamespace", "", "no namespace"),
		prop("urn:x", "markup", "de-CH", `<a b="1" xmlns="urn:y">x &amp; y &lt; z<![CDATA[<raw> & ]]><!-- c --><?pi x?></a>`),
		prop("urn:x", "unicode", "it", "Perché è già «così» — 日本語 🏗️"),
		prop("urn:x", "whitespace", "", "  \n\tleading and trailing\r\n  "),
		prop("urn:x", "empty", "", ""),
		{PropName: state.PropName{Space: "urn:x", Local: "nil"}}, // as empty
		prop("urn:x", "bytes", "", "Latin-1 \xe8, a NUL \x00, and \xff\xfe"),
		prop(`urn:è 'x' "q" %_\`, "nome-è", "fr", "x"),
	}
	if err := s.PatchProps(ctx, p, props, nil); err != nil {
		t.Fatalf("PatchProps: %v", err)
	}
	checkProps(t, s, p, props)
	checkProps(t, s, "/guastalla/2019", nil)
	checkProps(t, s, p+"/x", nil)

	// Setting a name again replaces its language and value.
	props[0] = prop("http://example.com/ns", "author", "en", "Anna Bianchi")
	if err := s.PatchProps(ctx, p, props[:1], nil); err != nil {
		t.Fatalf("PatchProps: %v", err)
	}
	checkProps(t, s, p, props)

	// Removing a name that is not there is no error.
	err := s.PatchProps(ctx, p, nil, []state.PropName{props[3].PropName, {Space: "urn:x", Local: "absent"}})
	if err != nil {
		t.Fatalf("PatchProps: %v", err)
	}
	checkProps(t, s, p, slices.Delete(slices.Clone(props), 3, 4))
}

func testPatchProps(t *testing.T, open func(*testing.T) state.ResourceStore) {
	a, a2 := prop("urn:t", "a", "", "A"), prop("urn:t", "a", "it", "A2")
	b, c := prop("urn:t", "b", "", "B"), prop("urn:t", "c", "", "C")
	tests := []struct {
		name    string
		initial []state.Prop
		set     []state.Prop
		remove  []state.PropName
		want    []state.Prop
	}{
		{"set and remove at once", []state.Prop{a, b}, []state.Prop{c}, []state.PropName{a.PropName}, []state.Prop{b, c}},
		{"set replaces", []state.Prop{a, b}, []state.Prop{a2}, nil, []state.Prop{a2, b}},
		{"later set wins", nil, []state.Prop{a, a2}, nil, []state.Prop{a2}},
		{"removal after set", []state.Prop{b}, []state.Prop{a}, []state.PropName{a.PropName}, []state.Prop{b}},
		{"remove absent", []state.Prop{a}, nil, []state.PropName{b.PropName}, []state.Prop{a}},
		{"remove all", []state.Prop{a, b}, nil, []state.PropName{a.PropName, b.PropName}, nil},
		{"nothing", []state.Prop{a}, nil, nil, []state.Prop{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			const p = "/a/b"
			if err := s.PatchProps(t.Context(), p, tt.initial, nil); err != nil {
				t.Fatalf("PatchProps: %v", err)
			}
			if err := s.PatchProps(t.Context(), p, tt.set, tt.remove); err != nil {
				t.Fatalf("PatchProps: %v", err)
			}
			checkProps(t, s, p, tt.want)
		})
	}
}

func testChildProps(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	seed(t, s, "/", "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/bc", "/a/b0", "/a/b.",
		"/A", "/A/b", "/ab", "/x/y", "/a_b/x", "/axb/y", "/città/perché è")
	tests := []struct {
		dir  string
		want []string
	}{
		{"/a/b", []string{"/a/b", "/a/b/c"}},
		{"/a", []string{"/a", "/a/b", "/a/b.", "/a/b0", "/a/bc"}},
		{"/", []string{"/", "/A", "/a", "/ab"}},
		{"/x", []string{"/x/y"}}, // the folder itself has no properties
		{"/a/b/c/d", []string{"/a/b/c/d"}},
		{"/a_b", []string{"/a_b/x"}},
		{"/città", []string{"/città/perché è"}},
		{"/nothing", nil},
	}
	for _, tt := range tests {
		got, err := s.ChildProps(t.Context(), tt.dir)
		if err != nil {
			t.Fatalf("ChildProps(%q): %v", tt.dir, err)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range got {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, tt.want) {
			t.Errorf("ChildProps(%q) has paths %q, want %q", tt.dir, keys, tt.want)
		}
		for k, props := range got {
			if want := originProps(k); !equalProps(props, want) {
				t.Errorf("ChildProps(%q)[%q] = %s, want %s", tt.dir, k, fmtProps(props), fmtProps(want))
			}
		}
	}
}

func testPropsOf(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	seed(t, s, "/", "/a", "/a/b", "/a/b/c", "/a/bc", "/A", "/a_b/x", "/a%", "/città/perché è")
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"none", nil, nil},
		{"one", []string{"/a/b"}, []string{"/a/b"}},
		{"the root", []string{"/"}, []string{"/"}},
		{"some without properties", []string{"/a/b/c", "/x", "/a/b", "/a/b/c/d"}, []string{"/a/b", "/a/b/c"}},
		{"twice", []string{"/a", "/a"}, []string{"/a"}},
		{"no prefix, no pattern, no case folding", []string{"/a_", "/a", "/a_b", "/a%x", "/a"}, []string{"/a"}},
		{"case", []string{"/A", "/città/perché è", "/città/perche e"}, []string{"/A", "/città/perché è"}},
		{"nothing", []string{"/nothing", "/a/b/c/e"}, nil},
	}
	// A page of a listing.
	page := []string{"/a/bc"}
	for i := range 999 {
		page = append(page, fmt.Sprintf("/a/f%03d", i))
	}
	tests = append(tests, struct {
		name  string
		paths []string
		want  []string
	}{"a thousand", page, []string{"/a/bc"}})
	for _, tt := range tests {
		got, err := s.PropsOf(t.Context(), tt.paths)
		if err != nil {
			t.Fatalf("PropsOf(%s): %v", tt.name, err)
		}
		if got == nil {
			t.Errorf("PropsOf(%s) = nil, want a map", tt.name)
		}
		keys := slices.Sorted(maps.Keys(got))
		if !slices.Equal(keys, tt.want) {
			t.Errorf("PropsOf(%s) has paths %q, want %q", tt.name, keys, tt.want)
		}
		for k, props := range got {
			if want := originProps(k); !equalProps(props, want) {
				t.Errorf("PropsOf(%s)[%q] = %s, want %s", tt.name, k, fmtProps(props), fmtProps(want))
			}
		}
	}
}

// testSubtrees checks CopyProps, MoveProps and DeleteProps against a model,
// on paths holding what SQL LIKE patterns, quoting or a careless prefix test
// would trip on. Every path of a case is seeded with originProps(itself),
// then every path the case knows of is checked.
func testSubtrees(t *testing.T, open func(*testing.T) state.ResourceStore) {
	tests := []struct {
		name     string
		src, dst string
		// noSrc, noDst: leave the tree at src or at dst without properties.
		noSrc, noDst bool
		// traps are paths outside both trees.
		traps []string
	}{
		{name: "plain", src: "/a/b", dst: "/a/c", traps: []string{"/a", "/", "/a/bc/d"}},
		{name: "into new place", src: "/a/b", dst: "/n/m", noDst: true},
		{name: "empty source", src: "/a/b", dst: "/n/m", noSrc: true},
		{name: "destination is prefix sibling", src: "/a/b", dst: "/a/b0"},
		{name: "source is prefix sibling", src: "/a/bc", dst: "/a/b"},
		{name: "percent", src: "/100%/a%b", dst: "/d%", traps: []string{"/100%/ab/c", "/100%/a-x-b/c", "/100x/a%b/c"}},
		{name: "underscore", src: "/a_b/c_d", dst: "/d_", traps: []string{"/axb/cxd/e", "/a_b/cxd/e", "/a_b/c_dx"}},
		{name: "backslash", src: `/a\b`, dst: `/d\`, traps: []string{"/ab/c", `/a\\b/c`, `/a\bc`}},
		{name: "trailing backslash", src: `/x\`, dst: `/y\z`, traps: []string{"/x/c", "/x", `/x\\`}},
		{name: "quotes", src: `/l'archivio/"vecchio"`, dst: `/d'x"y`, traps: []string{`/l'archivio/"vecchio"x`, `/l''archivio/"vecchio"/c`}},
		{name: "spaces and unicode", src: "/città di Guastalla/perché è", dst: "/archivio/2019 – già",
			traps: []string{"/città di Guastalla/perché èx", "/città di Guastalla/perché", "/citta di Guastalla/perche e/c"}},
		{name: "case", src: "/Pratiche/PC", dst: "/x", traps: []string{"/pratiche/pc/c", "/PRATICHE/PC/c", "/Pratiche/pc", "/Pratiche/pc/c"}},
	}
	ops := []struct {
		name string
		run  func(t *testing.T, s state.ResourceStore, src, dst string) error
		// apply is the operation on the model: path -> origin.
		apply func(m map[string]string, src, dst string)
	}{
		{"Copy",
			func(t *testing.T, s state.ResourceStore, src, dst string) error {
				return s.CopyProps(t.Context(), src, dst)
			},
			func(m map[string]string, src, dst string) { copyModel(m, src, dst, false) }},
		{"Move",
			func(t *testing.T, s state.ResourceStore, src, dst string) error {
				return s.MoveProps(t.Context(), src, dst)
			},
			func(m map[string]string, src, dst string) { copyModel(m, src, dst, true) }},
		{"Delete",
			func(t *testing.T, s state.ResourceStore, src, _ string) error { return s.DeleteProps(t.Context(), src) },
			func(m map[string]string, src, _ string) { deleteModel(m, src) }},
	}
	for _, tt := range tests {
		for _, op := range ops {
			t.Run(op.name+"/"+tt.name, func(t *testing.T) {
				s := open(t)
				var paths []string
				if !tt.noSrc {
					paths = append(paths, tt.src, tt.src+"/c", tt.src+"/c/g")
				}
				if !tt.noDst {
					paths = append(paths, tt.dst, tt.dst+"/c", tt.dst+"/only-dst")
				}
				// Prefix siblings: '.' sorts just before '/', '0' just after.
				paths = append(paths, tt.src+"0", tt.src+".", tt.src+"0/c", tt.src+" x", tt.dst+"0", tt.dst+".")
				paths = append(paths, tt.traps...)
				seed(t, s, paths...)

				m := make(map[string]string)
				for _, p := range paths {
					m[p] = p
				}
				op.apply(m, tt.src, tt.dst)
				if err := op.run(t, s, tt.src, tt.dst); err != nil {
					t.Fatalf("%sProps(%q, %q): %v", op.name, tt.src, tt.dst, err)
				}

				check := slices.Concat(paths, []string{tt.src, tt.src + "/c", tt.src + "/c/g", tt.dst, tt.dst + "/c", tt.dst + "/c/g", tt.dst + "/only-dst"})
				for _, p := range check {
					var want []state.Prop
					if origin, ok := m[p]; ok {
						want = originProps(origin)
					}
					checkProps(t, s, p, want)
				}
			})
		}
	}
}

func inTree(p, root string) bool { return p == root || state.IsAncestor(root, p) }

// copyModel does on m what CopyProps (MoveProps if move) does on a store;
// src and dst are not the root.
func copyModel(m map[string]string, src, dst string, move bool) {
	from := make(map[string]string)
	for p, origin := range m {
		if inTree(p, src) {
			from[dst+p[len(src):]] = origin
		}
	}
	deleteModel(m, dst)
	if move {
		deleteModel(m, src)
	}
	for p, origin := range from {
		m[p] = origin
	}
}

func deleteModel(m map[string]string, root string) {
	for p := range m {
		if inTree(p, root) {
			delete(m, p)
		}
	}
}

func testDeleteRootProps(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	paths := []string{"/", "/a", "/a/b", "/%", "/_"}
	seed(t, s, paths...)
	if err := s.DeleteProps(t.Context(), "/"); err != nil {
		t.Fatalf("DeleteProps(/): %v", err)
	}
	for _, p := range paths {
		checkProps(t, s, p, nil)
	}
}

func testConcurrentPatches(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	const n = 20
	var want []state.Prop
	for i := range n {
		want = append(want, prop("urn:t", fmt.Sprintf("p%02d", i), "", fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for _, pr := range want {
		wg.Go(func() {
			if err := s.PatchProps(t.Context(), "/c", []state.Prop{pr}, nil); err != nil {
				t.Errorf("PatchProps: %v", err)
			}
		})
	}
	wg.Wait()
	checkProps(t, s, "/c", want)
}

// prop returns a property with InnerXML value.
func prop(space, local, lang, value string) state.Prop {
	return state.Prop{PropName: state.PropName{Space: space, Local: local}, Lang: lang, InnerXML: []byte(value)}
}

// originProps are the properties seed gives to a path, naming origin, the
// path it gave them to: wherever they are found, they tell where they came
// from.
func originProps(origin string) []state.Prop {
	return []state.Prop{
		prop("urn:faldone:test", "origin", "", origin),
		prop("urn:faldone:test", "greeting", "it", "<b>ciao</b> da "+origin),
	}
}

// seed gives each path its originProps.
func seed(t *testing.T, s state.ResourceStore, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := s.PatchProps(t.Context(), p, originProps(p), nil); err != nil {
			t.Fatalf("PatchProps(%q): %v", p, err)
		}
	}
}

// checkProps checks that p has exactly the properties want, in any order.
func checkProps(t *testing.T, s state.ResourceStore, p string, want []state.Prop) {
	t.Helper()
	got, err := s.Props(t.Context(), p)
	if err != nil {
		t.Fatalf("Props(%q): %v", p, err)
	}
	if !equalProps(got, want) {
		t.Errorf("Props(%q) = %s, want %s", p, fmtProps(got), fmtProps(want))
	}
}

// equalProps reports whether a and b hold the same properties in any order.
// A nil and an empty InnerXML are the same: both are an empty element.
func equalProps(a, b []state.Prop) bool {
	a, b = sortedProps(a), sortedProps(b)
	return slices.EqualFunc(a, b, func(x, y state.Prop) bool {
		return x.PropName == y.PropName && x.Lang == y.Lang && bytes.Equal(x.InnerXML, y.InnerXML)
	})
}

func sortedProps(props []state.Prop) []state.Prop {
	return slices.SortedFunc(slices.Values(props), func(x, y state.Prop) int {
		return cmp.Or(cmp.Compare(x.Space, y.Space), cmp.Compare(x.Local, y.Local))
	})
}

func fmtProps(props []state.Prop) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, p := range sortedProps(props) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%q %q lang=%q %q}", p.Space, p.Local, p.Lang, p.InnerXML)
	}
	b.WriteByte(']')
	return b.String()
}

// Locks.

// lockSpec is the part of a lock that decides conflicts.
type lockSpec struct {
	root     string
	infinite bool
	shared   bool
}

// newLock returns a lock as spec says, created at created for an hour.
func newLock(spec lockSpec, created time.Time) state.Lock {
	return state.Lock{
		Token:     newToken(),
		Root:      spec.root,
		Infinite:  spec.infinite,
		Shared:    spec.shared,
		Owner:     `<D:href xmlns:D="DAV:">mailto:tecnico@comune.example</D:href>`,
		Principal: "tecnico",
		Timeout:   time.Hour,
		Expires:   created.Add(time.Hour),
		Created:   created,
	}
}

// newToken returns a random urn:uuid lock token.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func createLock(t *testing.T, s state.ResourceStore, l state.Lock) {
	t.Helper()
	if err := s.CreateLock(t.Context(), l); err != nil {
		t.Fatalf("CreateLock(%+v): %v", l, err)
	}
}

// sameLock reports whether a and b are equal, their times being the same
// instants.
func sameLock(a, b state.Lock) bool {
	return a.Token == b.Token && a.Root == b.Root && a.Infinite == b.Infinite && a.Shared == b.Shared &&
		a.Owner == b.Owner && a.Principal == b.Principal && a.Timeout == b.Timeout &&
		a.Expires.Equal(b.Expires) && a.Created.Equal(b.Created)
}

// checkLock checks that Lock(want.Token) returns want.
func checkLock(t *testing.T, s state.ResourceStore, want state.Lock) {
	t.Helper()
	got, err := s.Lock(t.Context(), want.Token)
	if err != nil {
		t.Fatalf("Lock(%q): %v", want.Token, err)
	}
	if !sameLock(got, want) {
		t.Errorf("Lock(%q) =\n%+v\nwant\n%+v", want.Token, got, want)
	}
}

// checkNoLock checks that no live lock has the token.
func checkNoLock(t *testing.T, s state.ResourceStore, token string) {
	t.Helper()
	if _, err := s.Lock(t.Context(), token); !errors.Is(err, state.ErrNoSuchLock) {
		t.Errorf("Lock(%q) error = %v, want ErrNoSuchLock", token, err)
	}
}

// lockRoots returns the roots of Locks(p, descendants, now), sorted.
func lockRoots(t *testing.T, s state.ResourceStore, p string, descendants bool, now time.Time) []string {
	t.Helper()
	locks, err := s.Locks(t.Context(), p, descendants, now)
	if err != nil {
		t.Fatalf("Locks(%q, %v): %v", p, descendants, err)
	}
	var roots []string
	for _, l := range locks {
		roots = append(roots, l.Root)
	}
	slices.Sort(roots)
	return roots
}

func testLockRoundTrip(t *testing.T, open func(*testing.T) state.ResourceStore) {
	created := now()
	tests := []struct {
		name string
		lock state.Lock
	}{
		{"exclusive infinite", state.Lock{
			Token: newToken(), Root: "/guastalla/2019/PC-2019-0042", Infinite: true,
			Owner:     `<D:owner xmlns:D="DAV:"><D:href>mailto:m.rossi@comune.example</D:href></D:owner>`,
			Principal: "m.rossi", Timeout: time.Hour, Expires: created.Add(time.Hour), Created: created,
		}},
		{"shared depth 0", state.Lock{
			Token: newToken(), Root: `/città/a%_\'"b c`, Shared: true,
			Owner: "Anna «già» Bianchi", Principal: "anna.bianchi@esempio", Timeout: 600 * time.Second,
			Expires: created.Add(600 * time.Second), Created: created,
		}},
		{"no owner, infinite timeout", state.Lock{
			Token: newToken(), Root: "/x", Principal: "p", Created: created,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			createLock(t, s, tt.lock)
			checkLock(t, s, tt.lock)
			locks, err := s.Locks(t.Context(), tt.lock.Root, false, created)
			if err != nil {
				t.Fatalf("Locks: %v", err)
			}
			if len(locks) != 1 || !sameLock(locks[0], tt.lock) {
				t.Errorf("Locks(%q) =\n%+v\nwant\n%+v", tt.lock.Root, locks, []state.Lock{tt.lock})
			}
		})
	}
}

func testLockConflicts(t *testing.T, open func(*testing.T) state.ResourceStore) {
	exclusive := func(root string) lockSpec { return lockSpec{root: root} }
	tree := func(root string) lockSpec { return lockSpec{root: root, infinite: true} }
	shared := func(root string) lockSpec { return lockSpec{root: root, shared: true} }
	sharedTree := func(root string) lockSpec { return lockSpec{root: root, infinite: true, shared: true} }
	tests := []struct {
		name      string
		held, req lockSpec
		conflict  bool
	}{
		{"exclusive, exclusive, same path", exclusive("/a/b"), exclusive("/a/b"), true},
		{"infinite, exclusive, same path", tree("/a/b"), exclusive("/a/b"), true},
		{"infinite parent, child", tree("/a"), exclusive("/a/b"), true},
		{"child, infinite parent", exclusive("/a/b"), tree("/a"), true},
		{"infinite ancestor, descendant", tree("/a"), exclusive("/a/b/c/d"), true},
		{"descendant, infinite ancestor", exclusive("/a/b/c/d"), tree("/a"), true},
		{"infinite root, anything", tree("/"), exclusive("/a/b"), true},
		{"anything, infinite root", exclusive("/a/b"), tree("/"), true},
		{"depth 0 parent, child", exclusive("/a"), exclusive("/a/b"), false},
		{"child, depth 0 parent", exclusive("/a/b"), exclusive("/a"), false},
		{"depth 0 parent, infinite child", exclusive("/a"), tree("/a/b"), false},
		{"shared, shared", shared("/a/b"), shared("/a/b"), false},
		{"shared infinite parent, shared child", sharedTree("/a"), shared("/a/b"), false},
		{"shared child, shared infinite parent", shared("/a/b"), sharedTree("/a"), false},
		{"shared, exclusive", shared("/a/b"), exclusive("/a/b"), true},
		{"exclusive, shared", exclusive("/a/b"), shared("/a/b"), true},
		{"shared infinite parent, exclusive child", sharedTree("/a"), exclusive("/a/b"), true},
		{"exclusive child, shared infinite parent", exclusive("/a/b"), sharedTree("/a"), true},
		{"siblings", tree("/a/b"), tree("/a/c"), false},
		{"prefix sibling", tree("/a/b"), tree("/a/bc"), false},
		{"prefix sibling below", exclusive("/a/bc/d"), tree("/a/b"), false},
		{"underscore", exclusive("/axb/c"), tree("/a_b"), false},
		{"percent", exclusive("/a-x-b/c"), tree("/a%b"), false},
		{"backslash", exclusive("/x/c"), tree(`/x\`), false},
		{"case", exclusive("/a/x"), tree("/A"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			created := now()
			held, req := newLock(tt.held, created), newLock(tt.req, created)
			createLock(t, s, held)
			err := s.CreateLock(t.Context(), req)
			switch {
			case tt.conflict && !errors.Is(err, state.ErrLocked):
				t.Fatalf("CreateLock(%+v) with %+v held: error = %v, want ErrLocked", tt.req, tt.held, err)
			case tt.conflict:
				checkNoLock(t, s, req.Token)
			case err != nil:
				t.Fatalf("CreateLock(%+v) with %+v held: %v", tt.req, tt.held, err)
			default:
				checkLock(t, s, req)
			}
			checkLock(t, s, held)
		})
	}
}

func testExpiry(t *testing.T, open func(*testing.T) state.ResourceStore) {
	t.Run("expired", func(t *testing.T) {
		s := open(t)
		n := now()
		old := newLock(lockSpec{root: "/e/f", infinite: true}, n.Add(-2*time.Hour)) // expired an hour ago
		createLock(t, s, old)
		for _, p := range []string{"/e/f", "/e/f/g"} {
			if got := lockRoots(t, s, p, false, n); got != nil {
				t.Errorf("Locks(%q) returned the expired lock: %q", p, got)
			}
		}
		if got := lockRoots(t, s, "/", true, n); got != nil {
			t.Errorf("Locks(/, descendants) returned the expired lock: %q", got)
		}
		checkNoLock(t, s, old.Token)
		if _, err := s.RefreshLock(t.Context(), old.Token, time.Hour, n); !errors.Is(err, state.ErrNoSuchLock) {
			t.Errorf("RefreshLock of an expired lock: error = %v, want ErrNoSuchLock", err)
		}
		// It does not conflict.
		l := newLock(lockSpec{root: "/e/f/g"}, n)
		createLock(t, s, l)
		checkLock(t, s, l)
		if err := s.DeleteLock(t.Context(), old.Token); !errors.Is(err, state.ErrNoSuchLock) {
			t.Errorf("DeleteLock of an expired lock: error = %v, want ErrNoSuchLock", err)
		}
	})

	t.Run("Locks honours now", func(t *testing.T) {
		s := open(t)
		n := now()
		l := newLock(lockSpec{root: "/e"}, n) // expires at n+1h
		createLock(t, s, l)
		tests := []struct {
			at   time.Time
			want []string
		}{
			{n, []string{"/e"}},
			{n.Add(time.Hour - time.Microsecond), []string{"/e"}},
			{n.Add(time.Hour), nil}, // Expires is the first instant it is dead
			{n.Add(2 * time.Hour), nil},
		}
		for _, tt := range tests {
			if got := lockRoots(t, s, "/e", false, tt.at); !slices.Equal(got, tt.want) {
				t.Errorf("Locks at %v = %q, want %q", tt.at.Sub(n), got, tt.want)
			}
		}
	})

	t.Run("CreateLock honours Created", func(t *testing.T) {
		s := open(t)
		n := now()
		held := newLock(lockSpec{root: "/e"}, n) // expires at n+1h
		createLock(t, s, held)
		if err := s.CreateLock(t.Context(), newLock(lockSpec{root: "/e"}, n.Add(30*time.Minute))); !errors.Is(err, state.ErrLocked) {
			t.Errorf("CreateLock while the held lock is live: error = %v, want ErrLocked", err)
		}
		createLock(t, s, newLock(lockSpec{root: "/e"}, n.Add(time.Hour)))
	})
}

func testRefresh(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	n := now()
	l := newLock(lockSpec{root: "/r", infinite: true}, n)
	l.Timeout, l.Expires = time.Minute, n.Add(time.Minute)
	createLock(t, s, l)

	at := n.Add(30 * time.Second)
	got, err := s.RefreshLock(t.Context(), l.Token, time.Hour, at)
	if err != nil {
		t.Fatalf("RefreshLock: %v", err)
	}
	l.Timeout, l.Expires = time.Hour, at.Add(time.Hour)
	if !sameLock(got, l) {
		t.Errorf("RefreshLock =\n%+v\nwant\n%+v", got, l)
	}
	checkLock(t, s, l)
	if roots := lockRoots(t, s, "/r", false, n.Add(2*time.Minute)); len(roots) != 1 {
		t.Errorf("Locks after the old expiry = %q, want the refreshed lock", roots)
	}

	// Refreshing with timeout 0 makes the lock infinite.
	got, err = s.RefreshLock(t.Context(), l.Token, 0, at)
	if err != nil {
		t.Fatalf("RefreshLock: %v", err)
	}
	l.Timeout, l.Expires = 0, time.Time{}
	if !sameLock(got, l) {
		t.Errorf("RefreshLock with timeout 0 =\n%+v\nwant\n%+v", got, l)
	}
	checkLock(t, s, l)
	if roots := lockRoots(t, s, "/r", false, n.Add(100*365*24*time.Hour)); len(roots) != 1 {
		t.Errorf("Locks a century later = %q, want the infinite lock", roots)
	}
}

func testUnknownToken(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	createLock(t, s, newLock(lockSpec{root: "/u"}, now()))
	const token = "urn:uuid:00000000-0000-4000-8000-000000000000"
	if _, err := s.RefreshLock(t.Context(), token, time.Hour, now()); !errors.Is(err, state.ErrNoSuchLock) {
		t.Errorf("RefreshLock: error = %v, want ErrNoSuchLock", err)
	}
	checkNoLock(t, s, token)
	if err := s.DeleteLock(t.Context(), token); !errors.Is(err, state.ErrNoSuchLock) {
		t.Errorf("DeleteLock: error = %v, want ErrNoSuchLock", err)
	}
}

func testDeleteLock(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	n := now()
	a, b := newLock(lockSpec{root: "/d", shared: true}, n), newLock(lockSpec{root: "/d", shared: true}, n)
	createLock(t, s, a)
	createLock(t, s, b)
	if err := s.DeleteLock(t.Context(), a.Token); err != nil {
		t.Fatalf("DeleteLock: %v", err)
	}
	checkNoLock(t, s, a.Token)
	checkLock(t, s, b)
	locks, err := s.Locks(t.Context(), "/d", true, n)
	if err != nil {
		t.Fatalf("Locks: %v", err)
	}
	if len(locks) != 1 || locks[0].Token != b.Token {
		t.Errorf("Locks after DeleteLock = %+v, want only %q", locks, b.Token)
	}
	if err := s.DeleteLock(t.Context(), a.Token); !errors.Is(err, state.ErrNoSuchLock) {
		t.Errorf("DeleteLock again: error = %v, want ErrNoSuchLock", err)
	}
	if err := s.DeleteLock(t.Context(), b.Token); err != nil {
		t.Fatalf("DeleteLock: %v", err)
	}
	// With both gone, an exclusive lock is possible.
	createLock(t, s, newLock(lockSpec{root: "/d", infinite: true}, n))
}

// lockTree returns the roots of the shared locks testLocks and testDeleteLocks
// start from. Being shared, they coexist.
func lockTree() []string {
	return []string{
		"/", "/a", "/a/b", "/a/b/c", "/a/b/c/d", "/a/bc", "/a/b0", "/a/b.", "/a/x",
		"/A/b", "/z", "/a_b/c", "/axb/c", `/q\`, "/q/c", "/città/è",
	}
}

// seedLocks takes a shared lock on each root of lockTree, infinite on "/a/b",
// and expired locks that nothing must return.
func seedLocks(t *testing.T, s state.ResourceStore, n time.Time) {
	t.Helper()
	for _, root := range lockTree() {
		createLock(t, s, newLock(lockSpec{root: root, shared: true, infinite: root == "/a/b"}, n))
	}
	for _, root := range []string{"/a", "/a/b/c/e", "/z"} {
		createLock(t, s, newLock(lockSpec{root: root, shared: true}, n.Add(-2*time.Hour)))
	}
}

func testLocks(t *testing.T, open func(*testing.T) state.ResourceStore) {
	s := open(t)
	n := now()
	seedLocks(t, s, n)
	tests := []struct {
		p           string
		descendants bool
		want        []string
	}{
		// Ancestors at any depth, whatever their depth: the caller applies Covers.
		{"/a/b", false, []string{"/", "/a", "/a/b"}},
		{"/a/b", true, []string{"/", "/a", "/a/b", "/a/b/c", "/a/b/c/d"}},
		{"/a/b/q", false, []string{"/", "/a", "/a/b"}},
		{"/a/b/c/d/e", true, []string{"/", "/a", "/a/b", "/a/b/c", "/a/b/c/d"}},
		{"/", false, []string{"/"}},
		{"/", true, slices.Sorted(slices.Values(lockTree()))},
		{"/a", true, []string{"/", "/a", "/a/b", "/a/b.", "/a/b/c", "/a/b/c/d", "/a/b0", "/a/bc", "/a/x"}},
		{"/a_b", true, []string{"/", "/a_b/c"}},
		{"/A", true, []string{"/", "/A/b"}},
		{`/q\`, true, []string{"/", `/q\`}},
		{"/città", true, []string{"/", "/città/è"}},
		{"/nothing", true, []string{"/"}},
	}
	for _, tt := range tests {
		if got := lockRoots(t, s, tt.p, tt.descendants, n); !slices.Equal(got, tt.want) {
			t.Errorf("Locks(%q, %v) = %q, want %q", tt.p, tt.descendants, got, tt.want)
		}
	}
}

func testDeleteLocks(t *testing.T, open func(*testing.T) state.ResourceStore) {
	tests := []struct {
		p       string
		deleted []string
	}{
		{"/a/b", []string{"/a/b", "/a/b/c", "/a/b/c/d"}},
		{"/a/b/c/d", []string{"/a/b/c/d"}},
		{"/a_b", []string{"/a_b/c"}},
		{`/q\`, []string{`/q\`}},
		{"/A", []string{"/A/b"}},
		{"/nothing", nil},
		{"/", lockTree()},
	}
	for _, tt := range tests {
		t.Run(tt.p, func(t *testing.T) {
			s := open(t)
			n := now()
			seedLocks(t, s, n)
			if err := s.DeleteLocks(t.Context(), tt.p); err != nil {
				t.Fatalf("DeleteLocks(%q): %v", tt.p, err)
			}
			var want []string
			for _, root := range lockTree() {
				if !slices.Contains(tt.deleted, root) {
					want = append(want, root)
				}
			}
			slices.Sort(want)
			if got := lockRoots(t, s, "/", true, n); !slices.Equal(got, want) {
				t.Errorf("after DeleteLocks(%q), locks are on %q, want %q", tt.p, got, want)
			}
		})
	}
}

// testConcurrentLocks has goroutines race for locks that all conflict with
// one another: exactly one may win.
func testConcurrentLocks(t *testing.T, open func(*testing.T) state.ResourceStore) {
	const n = 20
	tests := []struct {
		name string
		spec func(i int) lockSpec
	}{
		{"same path", func(int) lockSpec { return lockSpec{root: "/c/x"} }},
		{"ancestor and descendants", func(i int) lockSpec {
			if i%2 == 0 {
				return lockSpec{root: "/c", infinite: true}
			}
			return lockSpec{root: "/c/x/y"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			created := now()
			start := make(chan struct{})
			var (
				wg  sync.WaitGroup
				mu  sync.Mutex
				won []state.Lock
			)
			for i := range n {
				l := newLock(tt.spec(i), created)
				wg.Go(func() {
					<-start
					err := s.CreateLock(t.Context(), l)
					switch {
					case err == nil:
						mu.Lock()
						won = append(won, l)
						mu.Unlock()
					case !errors.Is(err, state.ErrLocked):
						t.Errorf("CreateLock: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(won) != 1 {
				t.Fatalf("%d of %d conflicting CreateLocks succeeded, want 1", len(won), n)
			}
			locks, err := s.Locks(t.Context(), "/c", true, created)
			if err != nil {
				t.Fatalf("Locks: %v", err)
			}
			if len(locks) != 1 || locks[0].Token != won[0].Token {
				t.Errorf("Locks = %+v, want only the winner %q", locks, won[0].Token)
			}
		})
	}
}
