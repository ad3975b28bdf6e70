package statetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// RunAccess runs the conformance suite for state.AccessStore, each case in
// a subtest on a store of its own. open returns a new, empty store and, as
// for RunAuth, arranges with t.Cleanup for closing it. The suite uses whole
// microseconds.
func RunAccess(t *testing.T, open func(t *testing.T) state.AccessStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.AccessStore)
	}{
		{"PersonRoundTrip", testPersonRoundTrip},
		{"UpsertPerson", testUpsertPerson},
		{"MissingPerson", testMissingPerson},
		{"PersonEmail", testPersonEmail},
		{"PeopleWithEmail", testPeopleWithEmail},
		{"GrantRoundTrip", testGrantRoundTrip},
		{"GrantIDUnique", testGrantIDUnique},
		{"GrantWithoutExpiry", testGrantWithoutExpiry},
		{"GrantsFilter", testGrantsFilter},
		{"GrantsLive", testGrantsLive},
		{"GrantsOrder", testGrantsOrder},
		{"DeleteGrant", testDeleteGrant},
		{"AuditRoundTrip", testAuditRoundTrip},
		{"AppendAudit", testAppendAudit},
		{"AuditOrder", testAuditOrder},
		{"AuditFilter", testAuditFilter},
		{"AuditStatus", testAuditStatus},
		{"AuditPathPrefix", testAuditPathPrefix},
		{"AuditStop", testAuditStop},
		{"AuditWhileWriting", testAuditWhileWriting},
		{"DeleteAuditBefore", testDeleteAuditBefore},
		{"ConcurrentAppendAudit", testConcurrentAppendAudit},
		{"AuditKeyOnce", testAuditKeyOnce},
		{"AuditValidText", testAuditValidText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// People.

func upsertPerson(t *testing.T, s state.AccessStore, p state.Person) {
	t.Helper()
	if err := s.UpsertPerson(t.Context(), p); err != nil {
		t.Fatalf("UpsertPerson(%q): %v", p.Key, err)
	}
}

// samePerson reports whether a and b are equal, their times being the same
// instants. A nil and an empty Groups are equal: a store may return either.
func samePerson(a, b state.Person) bool {
	return a.Key == b.Key && a.Display == b.Display && slices.Equal(a.Groups, b.Groups) &&
		a.LastSignIn.Equal(b.LastSignIn) && a.Email == b.Email
}

// checkPerson checks that Person(want.Key) returns want.
func checkPerson(t *testing.T, s state.AccessStore, want state.Person) {
	t.Helper()
	got, err := s.Person(t.Context(), want.Key)
	if err != nil {
		t.Fatalf("Person(%q): %v", want.Key, err)
	}
	if !samePerson(got, want) {
		t.Errorf("Person(%q) =\n%+v\nwant\n%+v", want.Key, got, want)
	}
}

// checkNoPerson checks that Person(key) is ErrNotFound.
func checkNoPerson(t *testing.T, s state.AccessStore, key string) {
	t.Helper()
	if p, err := s.Person(t.Context(), key); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Person(%q) = %+v, %v; want ErrNotFound", key, p, err)
	}
}

func testPersonRoundTrip(t *testing.T, open func(*testing.T) state.AccessStore) {
	n := now()
	tests := []struct {
		name string
		p    state.Person
	}{
		{"signed in with SPID", state.Person{
			Key: "RSSMRA80A01H501U", Display: "Mario Rossi",
			Groups: []string{"urbanistica-guastalla", "tecnici"}, LastSignIn: n,
		}},
		{"no groups", state.Person{Key: "VRDGPP13R10B293J", Display: "Giuseppe Verdi", LastSignIn: n}},
		{"an empty list of groups", state.Person{Key: "p", Groups: []string{}, LastSignIn: n}},
		{"an empty group name", state.Person{Key: "p", Groups: []string{""}, LastSignIn: n}},
		{"groups in no order", state.Person{Key: "p", Groups: []string{"z", "a", "m"}, LastSignIn: n}},
		{"groups with commas, quotes and non-ASCII", state.Person{
			Key:        "p",
			Groups:     []string{"a,b", `"q"`, `\`, "[]", "Città di Reggio nell'Emilia", "日本語 🏛️"},
			LastSignIn: n,
		}},
		{"local account", state.Person{Key: "admin", LastSignIn: n}},
		{"non-ASCII display", state.Person{Key: "p", Display: "Anna Maria D'Angelo – «Città» 日本語 🏛️", LastSignIn: n}},
		{"in another zone", state.Person{Key: "p", LastSignIn: n.In(time.FixedZone("CEST", 2*3600))}},
		{"an e-mail address", state.Person{Key: "RSSMRA80A01H501U", Display: "Mario Rossi", LastSignIn: n, Email: "mario.rossi@example.it"}},
		{"a non-ASCII e-mail address", state.Person{Key: "p", LastSignIn: n, Email: "nicolò.d'angelo+archivio@città.example.it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			upsertPerson(t, s, tt.p)
			checkPerson(t, s, tt.p)
		})
	}
}

func testUpsertPerson(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	other := state.Person{Key: "VRDGPP13R10B293J", Display: "Giuseppe Verdi", Groups: []string{"tecnici"}, LastSignIn: n}
	upsertPerson(t, s, other)
	steps := []state.Person{
		{Key: "RSSMRA80A01H501U", Display: "Mario Rossi", Groups: []string{"tecnici", "urbanistica"}, LastSignIn: n},
		{Key: "RSSMRA80A01H501U", Display: "Mario Rossi Bianchi", Groups: []string{"urbanistica"}, LastSignIn: n.Add(time.Hour)},
		{Key: "RSSMRA80A01H501U", Display: "", Groups: nil, LastSignIn: n.Add(2 * time.Hour)}, // out of every group
		{Key: "RSSMRA80A01H501U", Display: "Mario Rossi", Groups: []string{"responsabili"}, LastSignIn: n.Add(3 * time.Hour)},
	}
	for _, p := range steps {
		upsertPerson(t, s, p)
		checkPerson(t, s, p) // wholly replaced
		checkPerson(t, s, other)
	}
}

// testPersonEmail: a sign-in whose provider gives no e-mail address keeps
// the one known; one that gives another replaces it. Nothing else of the
// person is kept so.
func testPersonEmail(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const key = "RSSMRA80A01H501U"
	steps := []struct {
		given, want string
	}{
		{"", ""}, // never given
		{"mario.rossi@example.it", "mario.rossi@example.it"},
		{"", "mario.rossi@example.it"}, // this sign-in gave none
		{"m.rossi@studio.example.it", "m.rossi@studio.example.it"},
		{"", "m.rossi@studio.example.it"},
	}
	for i, st := range steps {
		p := state.Person{Key: key, Display: fmt.Sprintf("Mario Rossi %d", i), LastSignIn: n.Add(time.Duration(i) * time.Hour), Email: st.given}
		upsertPerson(t, s, p)
		p.Email = st.want
		checkPerson(t, s, p)
	}
}

// testPeopleWithEmail: the people whose address is known, and only they,
// in byte order of their keys.
func testPeopleWithEmail(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	if ps, err := s.PeopleWithEmail(t.Context()); err != nil || len(ps) != 0 {
		t.Fatalf("PeopleWithEmail of an empty store = %+v, %v; want none", ps, err)
	}
	people := []state.Person{
		{Key: "VRDGPP13R10B293J", Display: "Giuseppe Verdi", Groups: []string{"tecnici"}, LastSignIn: n, Email: "verdi@example.it"},
		{Key: "RSSMRA80A01H501U", Display: "Mario Rossi", LastSignIn: n, Email: "rossi@example.it"},
		{Key: "BNCLRA75C41H223Z", Display: "Laura Bianchi", LastSignIn: n}, // no address
		{Key: "admin", LastSignIn: n.Add(time.Hour), Email: "admin@example.it"},
		{Key: "Zeta", LastSignIn: n, Email: "zeta@example.it"},
	}
	for _, p := range people {
		upsertPerson(t, s, p)
	}
	got, err := s.PeopleWithEmail(t.Context())
	if err != nil {
		t.Fatalf("PeopleWithEmail: %v", err)
	}
	want := []state.Person{people[1], people[0], people[4], people[3]} // R < V < Z < a in byte order
	if !slices.EqualFunc(got, want, samePerson) {
		t.Errorf("PeopleWithEmail =\n%+v\nwant\n%+v", got, want)
	}
}

func testMissingPerson(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	checkNoPerson(t, s, "RSSMRA80A01H501U") // in an empty store
	upsertPerson(t, s, state.Person{Key: "RSSMRA80A01H501U", LastSignIn: now()})
	for _, key := range []string{"rssmra80a01h501u", "RSSMRA80A01H501", "RSSMRA80A01H501U ", "RSSMRA80A01H501%", "RSSMRA80A01H501_", ""} {
		checkNoPerson(t, s, key)
	}
}

// Grants.

// newGrant returns a read grant to person on p, created at created and
// expiring 30 days later. Its Comune is the first element of p.
func newGrant(id, person, p string, created time.Time) state.Grant {
	comune, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return state.Grant{
		ID: id, Person: person, Path: p, Comune: comune,
		Reason: "prot. 12345/2026", GrantedBy: "BNCLRA75C41H223Z",
		Created: created, Expires: created.AddDate(0, 0, 30),
	}
}

func createGrant(t *testing.T, s state.AccessStore, g state.Grant) {
	t.Helper()
	if err := s.CreateGrant(t.Context(), g); err != nil {
		t.Fatalf("CreateGrant(%q): %v", g.ID, err)
	}
}

// sameGrant reports whether a and b are equal, their times being the same
// instants.
func sameGrant(a, b state.Grant) bool {
	return a.ID == b.ID && a.Person == b.Person && a.Path == b.Path && a.Comune == b.Comune &&
		a.Write == b.Write && a.Reason == b.Reason && a.GrantedBy == b.GrantedBy &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.Email == b.Email
}

// checkGrants checks that Grants(f) returns want, in order.
func checkGrants(t *testing.T, s state.AccessStore, f state.GrantFilter, want ...state.Grant) {
	t.Helper()
	got, err := s.Grants(t.Context(), f)
	if err != nil {
		t.Fatalf("Grants(%+v): %v", f, err)
	}
	if !slices.EqualFunc(got, want, sameGrant) {
		t.Errorf("Grants(%+v) =\n%s\nwant\n%s", f, fmtGrants(got), fmtGrants(want))
	}
}

func fmtGrants(gs []state.Grant) string {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "\t%+q to %+q on %+q (%+q) write %v, %+q by %+q, created %v expires %v, e-mail %+q\n",
			g.ID, g.Person, g.Path, g.Comune, g.Write, g.Reason, g.GrantedBy, g.Created, g.Expires, g.Email)
	}
	return b.String()
}

func testGrantRoundTrip(t *testing.T, open func(*testing.T) state.AccessStore) {
	n := now()
	write := newGrant("g-1", "RSSMRA80A01H501U", "/guastalla/2019/PC-2019-0042", n)
	write.Write = true
	short := newGrant("g-2", "RSSMRA80A01H501U", "/luzzara", n)
	short.Expires = n.Add(time.Microsecond)
	zone := newGrant("g-3", "RSSMRA80A01H501U", "/guastalla", n.In(time.FixedZone("CEST", 2*3600)))
	email := newGrant("g-6", "RSSMRA80A01H501U", "/guastalla/2019/PC-2019-0042", n)
	email.Email = "studio.rossi@example.it"
	tests := []struct {
		name string
		g    state.Grant
	}{
		{"read", newGrant("g-0", "RSSMRA80A01H501U", "/guastalla/2019/PC-2019-0042", n)},
		{"write", write},
		{"one microsecond long", short},
		{"in another zone", zone},
		{"an e-mail address", email},
		{"non-ASCII path", newGrant("g-4", "RSSMRA80A01H501U", "/reggio-emilia/2020/Città vecchia – «è» 日本語 🏛️", n)},
		{"quotes and wildcards", state.Grant{
			ID: `g'5"%_\`, Person: `o'brien`, Path: `/a/b'c"%_\`, Comune: "a", Reason: `prot. "7"`, GrantedBy: `'`,
			Created: n, Expires: n.Add(time.Hour),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			createGrant(t, s, tt.g)
			checkGrants(t, s, state.GrantFilter{Person: tt.g.Person}, tt.g)
			checkGrants(t, s, state.GrantFilter{}, tt.g)
		})
	}
}

// testGrantIDUnique: creating a grant never replaces another.
func testGrantIDUnique(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	g := newGrant("g-1", "RSSMRA80A01H501U", "/guastalla/2019/PC-2019-0042", n)
	createGrant(t, s, g)
	dup := newGrant(g.ID, "VRDGPP13R10B293J", "/luzzara", n.Add(time.Hour))
	dup.Write = true
	for _, d := range []state.Grant{dup, g} {
		if err := s.CreateGrant(t.Context(), d); !errors.Is(err, state.ErrExists) {
			t.Errorf("CreateGrant of an ID in use: error = %v, want ErrExists", err)
		}
	}
	checkGrants(t, s, state.GrantFilter{}, g)
}

// testGrantWithoutExpiry: grants are time-limited, and one without an
// expiry is refused rather than stored as permanent.
func testGrantWithoutExpiry(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	g := newGrant("g-1", "RSSMRA80A01H501U", "/guastalla", now())
	g.Expires = time.Time{}
	if err := s.CreateGrant(t.Context(), g); err == nil {
		t.Error("CreateGrant of a grant without an expiry succeeded")
	}
	checkGrants(t, s, state.GrantFilter{})
}

func testGrantsFilter(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const rossi, verdi = "RSSMRA80A01H501U", "VRDGPP13R10B293J"
	// Created one minute apart, newest first, so that every listing below
	// is in the order of gs.
	gs := []state.Grant{
		newGrant("g-0", rossi, "/guastalla/2019/PC-2019-0042", n),
		newGrant("g-1", rossi, "/luzzara/2020/SCIA-2020-0007", n.Add(-1*time.Minute)),
		newGrant("g-2", verdi, "/guastalla/2021/PC-2021-0100", n.Add(-2*time.Minute)),
		newGrant("g-3", verdi, "/luzzara/2018", n.Add(-3*time.Minute)),
		newGrant("g-4", strings.ToLower(rossi), "/Guastalla/x", n.Add(-4*time.Minute)),
		newGrant("g-5", rossi, "/guastalla/2019", n.Add(-5*time.Minute)),
	}
	gs[3].Expires = n // expired at n
	gs[5].Expires = n.Add(-time.Hour)
	for _, i := range []int{3, 0, 5, 2, 4, 1} { // neither in time nor in ID order
		createGrant(t, s, gs[i])
	}
	pick := func(is ...int) []state.Grant {
		var out []state.Grant
		for _, i := range is {
			out = append(out, gs[i])
		}
		return out
	}
	tests := []struct {
		f    state.GrantFilter
		want []state.Grant
	}{
		{state.GrantFilter{}, gs},
		{state.GrantFilter{Person: rossi}, pick(0, 1, 5)},
		{state.GrantFilter{Person: verdi}, pick(2, 3)},
		{state.GrantFilter{Person: strings.ToLower(rossi)}, pick(4)}, // keys are compared exactly
		{state.GrantFilter{Person: "nobody"}, nil},
		{state.GrantFilter{Comune: "guastalla"}, pick(0, 2, 5)},
		{state.GrantFilter{Comune: "Guastalla"}, pick(4)},
		{state.GrantFilter{Comune: "luzzara"}, pick(1, 3)},
		{state.GrantFilter{Comune: "nowhere"}, nil},
		{state.GrantFilter{Person: rossi, Comune: "luzzara"}, pick(1)},
		{state.GrantFilter{Person: verdi, Comune: "Guastalla"}, nil},
		{state.GrantFilter{Live: true, Now: n}, pick(0, 1, 2, 4)},
		{state.GrantFilter{Person: rossi, Live: true, Now: n}, pick(0, 1)},
		{state.GrantFilter{Person: verdi, Live: true, Now: n}, pick(2)},
		{state.GrantFilter{Comune: "guastalla", Live: true, Now: n}, pick(0, 2)},
		{state.GrantFilter{Person: verdi, Comune: "luzzara", Live: true, Now: n}, nil},
		{state.GrantFilter{Now: n.AddDate(1, 0, 0)}, gs}, // Now alone selects nothing
	}
	for _, tt := range tests {
		checkGrants(t, s, tt.f, tt.want...)
	}
}

func testGrantsLive(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const person = "RSSMRA80A01H501U"
	g := newGrant("g-1", person, "/guastalla/2019/PC-2019-0042", n)
	createGrant(t, s, g)
	tests := []struct {
		at   time.Time
		live bool
	}{
		{n, true},
		{g.Expires.Add(-time.Microsecond), true},
		{g.Expires, false}, // Expires is the first instant it is dead
		{g.Expires.Add(time.Hour), false},
	}
	for _, tt := range tests {
		var want []state.Grant
		if tt.live {
			want = []state.Grant{g}
		}
		checkGrants(t, s, state.GrantFilter{Person: person, Live: true, Now: tt.at}, want...)
		checkGrants(t, s, state.GrantFilter{Live: true, Now: tt.at}, want...)
		checkGrants(t, s, state.GrantFilter{Person: person, Now: tt.at}, g) // listed all the same
	}
	// A zero Now would make every grant live; it is a caller's bug.
	if gs, err := s.Grants(t.Context(), state.GrantFilter{Person: person, Live: true}); err == nil {
		t.Errorf("Grants with Live and no Now = %+v, want an error", gs)
	}
}

func testGrantsOrder(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const person = "RSSMRA80A01H501U"
	// Newest first; grants created at the same instant by ID, in byte order.
	want := []state.Grant{
		newGrant("g-A", person, "/guastalla/a", n),
		newGrant("g-a", person, "/guastalla/b", n),
		newGrant("g-b", person, "/guastalla/c", n),
		newGrant("g-a2", person, "/guastalla/d", n.Add(-time.Microsecond)),
		newGrant("g-0", person, "/guastalla/e", n.Add(-time.Hour)),
		newGrant("g-9", person, "/guastalla/f", n.Add(-time.Hour)),
		newGrant("g-1", person, "/guastalla/g", n.AddDate(-1, 0, 0)),
	}
	for _, i := range []int{4, 1, 6, 0, 3, 5, 2} {
		createGrant(t, s, want[i])
	}
	checkGrants(t, s, state.GrantFilter{Person: person}, want...)
	checkGrants(t, s, state.GrantFilter{Person: person, Live: true, Now: n}, want[:6]...)
	checkGrants(t, s, state.GrantFilter{Comune: "guastalla"}, want...)
}

func testDeleteGrant(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const person = "RSSMRA80A01H501U"
	kept := newGrant("g-kept", person, "/guastalla/2019", n)
	gone := newGrant("g-gone", person, "/guastalla/2020", n)
	expired := newGrant("g-expired", person, "/guastalla/2021", n.AddDate(0, -2, 0))
	for _, g := range []state.Grant{kept, gone, expired} {
		createGrant(t, s, g)
	}
	tests := []struct {
		id  string
		err error
	}{
		{"g-gone", nil},
		{"g-gone", state.ErrNotFound}, // already revoked
		{"G-KEPT", state.ErrNotFound}, // IDs are compared exactly
		{"g-%", state.ErrNotFound},
		{"missing", state.ErrNotFound},
		{"", state.ErrNotFound},
		{"g-expired", nil}, // expired grants can be revoked too
	}
	for _, tt := range tests {
		err := s.DeleteGrant(t.Context(), tt.id)
		if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("DeleteGrant(%q): error = %v, want %v", tt.id, err, tt.err)
		}
	}
	checkGrants(t, s, state.GrantFilter{}, kept)

	// A revoked grant's ID can be given again.
	again := newGrant(gone.ID, person, "/luzzara", n.Add(time.Second))
	createGrant(t, s, again)
	checkGrants(t, s, state.GrantFilter{Person: person}, again, kept)
}

// The audit log.

// newRecord returns a successful GET of p by person at at, with a request
// ID of its own.
func newRecord(person, p string, at time.Time) state.AuditRecord {
	comune, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return state.AuditRecord{
		Time: at, RequestID: fmt.Sprintf("req-%s-%d", person, at.UnixNano()), Person: person,
		Credential: "session", Client: "192.0.2.10", Method: "GET", Path: p, Comune: comune,
		Status: 200, Bytes: 1234,
	}
}

func appendAudit(t *testing.T, s state.AccessStore, recs ...state.AuditRecord) {
	t.Helper()
	if err := s.AppendAudit(t.Context(), recs); err != nil {
		t.Fatalf("AppendAudit of %d records: %v", len(recs), err)
	}
}

// audit returns the records Audit(f) passes to its function, checking that
// their IDs increase.
func audit(t *testing.T, s state.AccessStore, f state.AuditFilter) []state.AuditRecord {
	t.Helper()
	var recs []state.AuditRecord
	if err := s.Audit(t.Context(), f, func(r state.AuditRecord) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("Audit(%+v): %v", f, err)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].ID <= recs[i-1].ID {
			t.Errorf("Audit(%+v): ID %d follows ID %d", f, recs[i].ID, recs[i-1].ID)
		}
	}
	return recs
}

// sameRecord reports whether a and b are equal but for their IDs, their
// times being the same instants.
func sameRecord(a, b state.AuditRecord) bool {
	a.ID, b.ID = 0, 0
	return a.Time.Equal(b.Time) && a.Key == b.Key && a.RequestID == b.RequestID && a.Person == b.Person &&
		a.Credential == b.Credential && a.Client == b.Client && a.Method == b.Method &&
		a.Path == b.Path && a.Target == b.Target && a.Destination == b.Destination && a.Comune == b.Comune &&
		a.Status == b.Status && a.Bytes == b.Bytes
}

// checkAudit checks that Audit(f) passes want, in order.
func checkAudit(t *testing.T, s state.AccessStore, f state.AuditFilter, want ...state.AuditRecord) {
	t.Helper()
	if got := audit(t, s, f); !slices.EqualFunc(got, want, sameRecord) {
		t.Errorf("Audit(%+v) =\n%s\nwant\n%s", f, fmtRecords(got), fmtRecords(want))
	}
}

func fmtRecords(recs []state.AuditRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\t%d %+q %v %+q %+q %+q %+q %s %+q [%+q] → %+q (%+q) %d %d bytes\n",
			r.ID, r.Key, r.Time, r.RequestID, r.Person, r.Credential, r.Client, r.Method, r.Path, r.Target, r.Destination,
			r.Comune, r.Status, r.Bytes)
	}
	return b.String()
}

func testAuditRoundTrip(t *testing.T, open func(*testing.T) state.AccessStore) {
	n := now()
	move := state.AuditRecord{
		Time: n, RequestID: "01JD6Z9Q3W8Y2K7M4N5P6R7S8T", Person: "RSSMRA80A01H501U", Credential: "ap-7f3a",
		Client: "2001:db8::1", Method: "MOVE", Path: "/guastalla/2019/PC-2019-0042/Relazione tecnica.pdf",
		Destination: "/guastalla/2019/PC-2019-0042/Relazione tecnica – rev. 2.pdf", Comune: "guastalla",
		Status: 201, Key: "9f2c4e7a1b3d5f60718293a4b5c6d7e8",
		Target: "/guastalla/2019/PC-2019-0042/Relazione%20tecnica.pdf?x=%2e%2e",
	}
	refused := state.AuditRecord{Time: n, RequestID: "r", Client: "198.51.100.7", Method: "PROPFIND", Path: "/luzzara", Comune: "luzzara", Status: 401}
	large := newRecord("admin", "/guastalla/archivio.zip", n)
	written := newRecord("RSSMRA80A01H501U", "/guastalla/2019/PC-2019-0042/tavola.dwg", n)
	written.Method, written.Status = "PUT", 201
	written.SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	large.Credential, large.Bytes, large.Status = "local:admin", math.MaxInt64, 206
	unicode := newRecord("RSSMRA80A01H501U", "/reggio-emilia/2020/Città – «vecchia»/日本語 🏛️.dwg", n)
	unicode.Destination = "/reggio-emilia/2020/Città – «nuova»/è.dwg"
	quotes := newRecord(`o'brien`, `/a/b'c"%_\`, n)
	quotes.RequestID, quotes.Client = `'"`, `\`
	zone := newRecord("p", "/guastalla", n.In(time.FixedZone("CEST", 2*3600)))
	old := newRecord("p", "/guastalla", n.AddDate(-60, 0, 0))
	old.Bytes, old.Status = -1, 0 // whatever the caller means by them
	tests := []struct {
		name string
		r    state.AuditRecord
	}{
		{"a MOVE with every field", move},
		{"a refusal without a person", refused},
		{"the largest size", large},
		{"non-ASCII paths", unicode},
		{"quotes and wildcards", quotes},
		{"in another zone", zone},
		{"before 1970, negative size", old},
		{"a write with its SHA-256", written},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			appendAudit(t, s, tt.r)
			checkAudit(t, s, state.AuditFilter{}, tt.r)
		})
	}
}

func testAppendAudit(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	comuni := []string{"guastalla", "luzzara", "reggiolo", "gualtieri"}
	people := []string{"RSSMRA80A01H501U", "VRDGPP13R10B293J", ""}
	recs := make([]state.AuditRecord, 500)
	for i := range recs {
		recs[i] = newRecord(people[i%len(people)], fmt.Sprintf("/%s/%d/PC-%04d", comuni[i%len(comuni)], 2000+i%25, i), n.Add(time.Duration(i)*time.Millisecond))
		recs[i].Status = 200 + i%7
		recs[i].Bytes = int64(i) << 20
		recs[i].ID = 7 // ignored: the store assigns IDs
	}
	given := slices.Clone(recs)
	appendAudit(t, s, recs...) // in one call
	if !slices.Equal(recs, given) {
		t.Error("AppendAudit changed the records it was given")
	}
	got := audit(t, s, state.AuditFilter{})
	if !slices.EqualFunc(got, recs, sameRecord) {
		t.Fatalf("Audit after appending %d records returned %d, or others", len(recs), len(got))
	}
	if got[0].ID <= 0 {
		t.Errorf("first ID = %d, want > 0", got[0].ID)
	}

	// A second batch comes after the first, and empty ones change nothing.
	more := []state.AuditRecord{newRecord("p", "/a", n), newRecord("q", "/b", n.Add(-time.Hour))}
	appendAudit(t, s, more...)
	appendAudit(t, s)
	appendAudit(t, s, []state.AuditRecord{}...)
	all := audit(t, s, state.AuditFilter{})
	if want := append(slices.Clone(recs), more...); !slices.EqualFunc(all, want, sameRecord) {
		t.Fatalf("Audit after a second batch returned %d records, want %d, in order", len(all), len(want))
	}
	if all[len(recs)].ID <= got[len(got)-1].ID {
		t.Errorf("ID of the second batch %d ≤ last ID of the first %d", all[len(recs)].ID, got[len(got)-1].ID)
	}
}

// testAuditOrder: records come in the order they were appended, which is not
// that of their times when the writers' clocks disagree.
func testAuditOrder(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	first := []state.AuditRecord{
		newRecord("p", "/a/1", n.Add(2*time.Second)),
		newRecord("p", "/a/2", n),
		newRecord("p", "/a/3", n.Add(time.Second)),
	}
	second := []state.AuditRecord{newRecord("p", "/a/4", n.Add(-time.Hour))}
	appendAudit(t, s, first...)
	appendAudit(t, s, second...)
	want := append(slices.Clone(first), second...)
	checkAudit(t, s, state.AuditFilter{}, want...)
	checkAudit(t, s, state.AuditFilter{Person: "p", Comune: "a"}, want...)
	checkAudit(t, s, state.AuditFilter{Since: n.Add(-time.Hour), Until: n.Add(time.Hour)}, want...)
}

func testAuditFilter(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	const rossi, verdi = "RSSMRA80A01H501U", "VRDGPP13R10B293J"
	at := func(i int) time.Time { return n.Add(time.Duration(i) * time.Second) }
	recs := []state.AuditRecord{
		newRecord(rossi, "/guastalla/2019", at(0)),
		newRecord(rossi, "/luzzara/2020", at(1)),
		newRecord("", "/guastalla/2021", at(2)), // did not authenticate
		newRecord(verdi, "/guastalla/2022", at(3)),
		newRecord(rossi, "/Guastalla/2023", at(4)),
		newRecord(verdi, "/luzzara/2024", at(5)),
	}
	appendAudit(t, s, recs...)
	pick := func(is ...int) []state.AuditRecord {
		var out []state.AuditRecord
		for _, i := range is {
			out = append(out, recs[i])
		}
		return out
	}
	tests := []struct {
		f    state.AuditFilter
		want []state.AuditRecord
	}{
		{state.AuditFilter{}, recs},
		{state.AuditFilter{Comune: "guastalla"}, pick(0, 2, 3)},
		{state.AuditFilter{Comune: "Guastalla"}, pick(4)},
		{state.AuditFilter{Comune: "nowhere"}, nil},
		{state.AuditFilter{Person: rossi}, pick(0, 1, 4)},
		{state.AuditFilter{Person: strings.ToLower(rossi)}, nil},
		{state.AuditFilter{Comune: "guastalla", Person: verdi}, pick(3)},
		{state.AuditFilter{Comune: "luzzara", Person: rossi}, pick(1)},
		{state.AuditFilter{Since: at(2)}, pick(2, 3, 4, 5)}, // inclusive
		{state.AuditFilter{Since: at(2).Add(time.Microsecond)}, pick(3, 4, 5)},
		{state.AuditFilter{Until: at(2)}, pick(0, 1)}, // exclusive
		{state.AuditFilter{Until: at(2).Add(time.Microsecond)}, pick(0, 1, 2)},
		{state.AuditFilter{Since: at(1), Until: at(4)}, pick(1, 2, 3)},
		{state.AuditFilter{Since: at(3), Until: at(3)}, nil},
		{state.AuditFilter{Since: at(4), Until: at(1)}, nil},
		{state.AuditFilter{Since: at(5).Add(time.Microsecond)}, nil},
		{state.AuditFilter{Until: at(0)}, nil},
		{state.AuditFilter{Comune: "luzzara", Since: at(2)}, pick(5)},
		{state.AuditFilter{Person: rossi, Since: at(1), Until: at(5)}, pick(1, 4)},
		{state.AuditFilter{Comune: "guastalla", Person: rossi, PathPrefix: "/guastalla", Since: at(0), Until: at(1)}, pick(0)},
	}
	for _, tt := range tests {
		checkAudit(t, s, tt.f, tt.want...)
	}
}

// testAuditStatus: a status selects the records of the requests answered
// with it, alone or with the other fields.
func testAuditStatus(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	at := func(i int) time.Time { return n.Add(time.Duration(i) * time.Second) }
	rec := func(person, p string, i, status int) state.AuditRecord {
		r := newRecord(person, p, at(i))
		r.Status = status
		return r
	}
	recs := []state.AuditRecord{
		rec("RSSMRA80A01H501U", "/guastalla/2019", 0, 200),
		rec("RSSMRA80A01H501U", "/guastalla/2020", 1, 403),
		rec("", "/guastalla/2021", 2, 401),
		rec("VRDGPP13R10B293J", "/luzzara/2022", 3, 403),
		rec("VRDGPP13R10B293J", "/guastalla/2023", 4, 403),
		rec("VRDGPP13R10B293J", "/guastalla/2024", 5, 404),
	}
	appendAudit(t, s, recs...)
	pick := func(is ...int) []state.AuditRecord {
		var out []state.AuditRecord
		for _, i := range is {
			out = append(out, recs[i])
		}
		return out
	}
	for _, tt := range []struct {
		f    state.AuditFilter
		want []state.AuditRecord
	}{
		{state.AuditFilter{Status: 403}, pick(1, 3, 4)},
		{state.AuditFilter{Status: 200}, pick(0)},
		{state.AuditFilter{Status: 500}, nil},
		{state.AuditFilter{Status: 403, Comune: "guastalla"}, pick(1, 4)},
		{state.AuditFilter{Status: 403, Comune: "guastalla", Since: at(2), Until: at(5)}, pick(4)},
		{state.AuditFilter{Status: 403, Person: "VRDGPP13R10B293J"}, pick(3, 4)},
		{state.AuditFilter{Status: 401, PathPrefix: "/guastalla"}, pick(2)},
	} {
		checkAudit(t, s, tt.f, tt.want...)
	}
}

// testAuditPathPrefix: a prefix selects the records of a subtree, and none
// of a sibling whose name begins with the same characters.
func testAuditPathPrefix(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	paths := []string{
		"/",
		"/a",
		"/a/b",
		"/a/b/c",
		"/a/b/c/d.pdf",
		"/a/bc",
		"/a/b c",   // ' ' sorts before '/'
		"/a/b-x",   // as does '-'
		"/a/b.txt", // and '.'
		"/a/b0",    // '0' is the byte after '/'
		"/a/bx/y",
		"/a/b_/y",
		"/a/b%/y",
		"/a/c",
		"/ab",
		"/A/b",
		"/b",
		"/città/è",
		"/città/è/ü.pdf",
		"/cittào",
		"", // a request refused before its path was known
	}
	var recs []state.AuditRecord
	for i, p := range paths {
		recs = append(recs, newRecord("p", p, n.Add(time.Duration(i)*time.Millisecond)))
	}
	appendAudit(t, s, recs...)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"/", paths},
		{"", paths},
		{"/a", []string{"/a", "/a/b", "/a/b/c", "/a/b/c/d.pdf", "/a/bc", "/a/b c", "/a/b-x", "/a/b.txt", "/a/b0", "/a/bx/y", "/a/b_/y", "/a/b%/y", "/a/c"}},
		{"/a/b", []string{"/a/b", "/a/b/c", "/a/b/c/d.pdf"}},
		{"/a/b/c", []string{"/a/b/c", "/a/b/c/d.pdf"}},
		{"/a/b/c/d.pdf", []string{"/a/b/c/d.pdf"}},
		{"/a/bc", []string{"/a/bc"}},
		{"/a/b_", []string{"/a/b_/y"}}, // no wildcard
		{"/a/b%", []string{"/a/b%/y"}},
		{"/A", []string{"/A/b"}}, // case-sensitive
		{"/città", []string{"/città/è", "/città/è/ü.pdf"}},
		{"/città/è", []string{"/città/è", "/città/è/ü.pdf"}},
		{"/missing", nil},
	}
	for _, tt := range tests {
		f := state.AuditFilter{PathPrefix: tt.prefix}
		var got []string
		for _, r := range audit(t, s, f) {
			got = append(got, r.Path)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Audit(%+v) paths = %+q, want %+q", f, got, tt.want)
		}
	}
}

// testAuditStop: fn's error stops the iteration and is returned. Stopping
// early many times over checks that no early stop leaks what a store needs
// for the next query.
func testAuditStop(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	var recs []state.AuditRecord
	for i := range 10 {
		recs = append(recs, newRecord("p", fmt.Sprintf("/a/%d", i), n.Add(time.Duration(i)*time.Second)))
	}
	appendAudit(t, s, recs...)
	errStop := errors.New("stop")
	for _, stopAt := range []int{1, 4, 10} {
		for range 20 {
			calls := 0
			err := s.Audit(t.Context(), state.AuditFilter{}, func(r state.AuditRecord) error {
				calls++
				if calls == stopAt {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("Audit with fn failing at record %d: error = %v, want fn's", stopAt, err)
			}
			if calls != stopAt {
				t.Fatalf("Audit with fn failing at record %d called it %d times", stopAt, calls)
			}
		}
	}
	checkAudit(t, s, state.AuditFilter{}, recs...)
}

// testAuditWhileWriting: while fn runs, the store still takes writes, so
// that a long export does not stop the audit writer (or anything else).
func testAuditWhileWriting(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	first := []state.AuditRecord{newRecord("p", "/a/1", n), newRecord("p", "/a/2", n)}
	appendAudit(t, s, first...)
	written := newRecord("q", "/b", n)
	calls := 0
	err := s.Audit(t.Context(), state.AuditFilter{Person: "p"}, func(state.AuditRecord) error {
		calls++
		if calls > 1 {
			return nil
		}
		// Bounded, so that a store that blocks writers fails the test
		// rather than hanging it.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := s.AppendAudit(ctx, []state.AuditRecord{written}); err != nil {
			return fmt.Errorf("AppendAudit while Audit runs: %w", err)
		}
		if err := s.CreateGrant(ctx, newGrant("g-1", "p", "/a", n)); err != nil {
			return fmt.Errorf("CreateGrant while Audit runs: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(first) {
		t.Errorf("Audit called fn %d times, want %d", calls, len(first))
	}
	checkAudit(t, s, state.AuditFilter{}, append(first, written)...)
}

func testDeleteAuditBefore(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	at := func(i int) time.Time { return n.Add(time.Duration(i) * time.Second) }
	// Appended out of time order: retention goes by Time, not by ID.
	var recs []state.AuditRecord
	for _, i := range []int{3, 0, 7, 1, 9, 5, 2, 8, 4, 6} {
		recs = append(recs, newRecord("p", fmt.Sprintf("/a/%d", i), at(i)))
	}
	appendAudit(t, s, recs...)
	kept := func(from int) []state.AuditRecord {
		var out []state.AuditRecord
		for _, r := range recs {
			if !r.Time.Before(at(from)) {
				out = append(out, r)
			}
		}
		return out
	}
	maxID := slices.MaxFunc(audit(t, s, state.AuditFilter{}), func(a, b state.AuditRecord) int {
		return cmp.Compare(a.ID, b.ID)
	}).ID
	steps := []struct {
		before time.Time
		want   []state.AuditRecord
	}{
		{n.Add(-time.Hour), recs}, // nothing that old
		{at(0), recs},             // Time == t is not before t
		{at(0).Add(time.Microsecond), kept(1)},
		{at(5), kept(5)},
		{at(5), kept(5)}, // again: nothing more
		{at(3), kept(5)}, // an earlier time: nothing more
		{at(9).Add(time.Microsecond), nil},
	}
	for _, st := range steps {
		if err := s.DeleteAuditBefore(t.Context(), st.before); err != nil {
			t.Fatalf("DeleteAuditBefore(%v): %v", st.before.Sub(n), err)
		}
		checkAudit(t, s, state.AuditFilter{}, st.want...)
	}

	// IDs are never reused, not even those of the newest records deleted.
	later := newRecord("p", "/a/later", at(10))
	appendAudit(t, s, later)
	got := audit(t, s, state.AuditFilter{})
	if len(got) != 1 || !sameRecord(got[0], later) {
		t.Fatalf("Audit after appending to an emptied log =\n%s", fmtRecords(got))
	}
	if got[0].ID <= maxID {
		t.Errorf("ID after emptying the log = %d, want > %d, the largest before", got[0].ID, maxID)
	}
}

// testConcurrentAppendAudit has goroutines append batches at once: every
// record is kept, once, with an ID of its own.
func testConcurrentAppendAudit(t *testing.T, open func(*testing.T) state.AccessStore) {
	const writers, batches, size = 8, 5, 50
	s := open(t)
	n := now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := make([]state.AuditRecord, size)
				for i := range recs {
					recs[i] = newRecord(fmt.Sprintf("w%d", w), fmt.Sprintf("/a/%d/%d", b, i), n)
					recs[i].RequestID = fmt.Sprintf("%d-%d-%d", w, b, i)
				}
				if err := s.AppendAudit(t.Context(), recs); err != nil {
					t.Errorf("AppendAudit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool)
	for _, r := range audit(t, s, state.AuditFilter{}) { // IDs checked to increase
		if seen[r.RequestID] {
			t.Errorf("request %s logged twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
	if len(seen) != writers*batches*size {
		t.Errorf("%d records logged, want %d", len(seen), writers*batches*size)
	}
	// Each writer's records keep their order.
	for w := range writers {
		var got []string
		for _, r := range audit(t, s, state.AuditFilter{Person: fmt.Sprintf("w%d", w)}) {
			got = append(got, r.RequestID)
		}
		if !slices.IsSortedFunc(got, cmpRequestID) {
			t.Errorf("writer %d's records out of order: %q", w, got)
		}
	}
}

// cmpRequestID orders the request IDs testConcurrentAppendAudit gives,
// "writer-batch-index", by batch and index.
func cmpRequestID(a, b string) int {
	var wa, ba, ia, wb, bb, ib int
	fmt.Sscanf(a, "%d-%d-%d", &wa, &ba, &ia)
	fmt.Sscanf(b, "%d-%d-%d", &wb, &bb, &ib)
	return cmp.Or(cmp.Compare(ba, bb), cmp.Compare(ia, ib))
}

// testAuditKeyOnce: a record whose key the log holds is not stored again,
// whether it comes in a later call (a batch shipped twice) or twice in one;
// the others of the batch are, in order; records without a key all are.
func testAuditKeyOnce(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	n := now()
	keyed := func(key, p string, i int) state.AuditRecord {
		r := newRecord("RSSMRA80A01H501U", p, n.Add(time.Duration(i)*time.Second))
		r.Key = key
		return r
	}
	a, b, c := keyed("k-a", "/guastalla/a", 0), keyed("k-b", "/guastalla/b", 1), keyed("k-c", "/guastalla/c", 2)
	plain := newRecord("p", "/luzzara/x", n)
	appendAudit(t, s, a, b)
	appendAudit(t, s, a, b, c, plain)  // shipped again, with more after it
	appendAudit(t, s, c, plain, plain) // plain records are always new
	d := keyed("k-d", "/guastalla/d", 3)
	appendAudit(t, s, d, d)
	checkAudit(t, s, state.AuditFilter{}, a, b, c, plain, plain, plain, d)
}

// testAuditValidText: invalid UTF-8 and NUL in any text field are stored as
// state.ValidText makes them, in both stores alike, and a filter with the
// same bytes selects them.
func testAuditValidText(t *testing.T, open func(*testing.T) state.AccessStore) {
	s := open(t)
	r := newRecord("RSS\xffMRA", "/guastalla/\xc0\xae\xc0\xae/x\x00y", now())
	r.Target, r.Destination, r.Client, r.Key = "/guastalla/%c0%ae%c0%ae/x%00y", "/guastalla/\xe2\x82", "\x00", "k\xfe"
	appendAudit(t, s, r)
	want := r.Valid()
	if want.Path != "/guastalla/\ufffd\ufffd\ufffd\ufffd/x\ufffdy" || want.Person != "RSS\ufffdMRA" {
		t.Fatalf("Valid made path %+q, person %+q", want.Path, want.Person)
	}
	checkAudit(t, s, state.AuditFilter{}, want)
	checkAudit(t, s, state.AuditFilter{Person: r.Person, PathPrefix: r.Path}, want)
	checkAudit(t, s, state.AuditFilter{PathPrefix: "/guastalla/\xc0\xae\xc0\xae"}, want)
}
