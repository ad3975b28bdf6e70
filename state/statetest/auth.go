package statetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// RunAuth runs the conformance suite for state.AuthStore, each case in a
// subtest on a store of its own. open returns a new, empty store; as
// AuthStore has no Close method, open arranges with t.Cleanup for whatever
// closing the store needs. Like Run, the suite uses whole microseconds.
func RunAuth(t *testing.T, open func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.Store)
	}{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionExpiry", testSessionExpiry},
		{"SessionIDUnique", testSessionIDUnique},
		{"TouchSession", testTouchSession},
		{"DeleteSession", testDeleteSession},
		{"Flow", testFlow},
		{"FlowExpiry", testFlowExpiry},
		{"ConcurrentTakeFlow", testConcurrentTakeFlow},
		{"AppPasswordRoundTrip", testAppPasswordRoundTrip},
		{"AppPasswordByHash", testAppPasswordByHash},
		{"AppPasswordExpiry", testAppPasswordExpiry},
		{"AppPasswordUnique", testAppPasswordUnique},
		{"AppPasswords", testAppPasswords},
		{"DeleteAppPassword", testDeleteAppPassword},
		{"TouchAppPasswords", testTouchAppPasswords},
		{"Attempts", testAttempts},
		{"ConcurrentAddAttempt", testConcurrentAddAttempt},
		{"DeleteExpired", testDeleteExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Sessions.

// newSession returns a session of person created at created, live for 12
// hours. Its ID is, as the gateway's are, the hex SHA-256 of a random secret.
func newSession(person string, created time.Time) state.Session {
	id := sha256.Sum256([]byte(rand.Text()))
	return state.Session{
		ID:       hex.EncodeToString(id[:]),
		Person:   person,
		Display:  "Mario Rossi",
		ACR:      "https://www.spid.gov.it/SpidL2",
		Issuer:   "https://login.bassareggiana.it/realms/spid",
		CSRF:     rand.Text(),
		Created:  created,
		LastSeen: created,
		Expires:  created.Add(12 * time.Hour),
	}
}

func createSession(t *testing.T, s state.AuthStore, ss state.Session) {
	t.Helper()
	if err := s.CreateSession(t.Context(), ss); err != nil {
		t.Fatalf("CreateSession(%+v): %v", ss, err)
	}
}

// sameSession reports whether a and b are equal, their times being the same
// instants.
func sameSession(a, b state.Session) bool {
	return a.ID == b.ID && a.Person == b.Person && a.Display == b.Display && a.ACR == b.ACR &&
		a.Issuer == b.Issuer && a.CSRF == b.CSRF &&
		a.Created.Equal(b.Created) && a.LastSeen.Equal(b.LastSeen) && a.Expires.Equal(b.Expires)
}

// checkSession checks that Session(want.ID, at) returns want.
func checkSession(t *testing.T, s state.AuthStore, want state.Session, at time.Time) {
	t.Helper()
	got, err := s.Session(t.Context(), want.ID, at)
	if err != nil {
		t.Fatalf("Session(%q): %v", want.ID, err)
	}
	if !sameSession(got, want) {
		t.Errorf("Session(%q) =\n%+v\nwant\n%+v", want.ID, got, want)
	}
}

// checkNoSession checks that Session(id, at) is ErrNotFound.
func checkNoSession(t *testing.T, s state.AuthStore, id string, at time.Time) {
	t.Helper()
	if _, err := s.Session(t.Context(), id, at); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Session(%q) error = %v, want ErrNotFound", id, err)
	}
}

func testSessionRoundTrip(t *testing.T, open func(*testing.T) state.Store) {
	n := now()
	full := newSession("RSSMRA80A01H501U", n.Add(-time.Minute))
	full.Display = "Anna Maria D'Angelo – «Città» 日本語 🏛️"
	full.Issuer = "https://login.bassareggiana.it/realms/spid/" + strings.Repeat("x", 2000)
	full.LastSeen = n
	local := newSession("admin", n)
	local.Display, local.ACR, local.Issuer = "", "", ""
	tests := []struct {
		name    string
		session state.Session
	}{
		{"every field", full},
		{"local account", local},
		{"quotes and backslashes", state.Session{
			ID: `a'b"c\d%_`, Person: `o'brien`, Display: `"x" \ 'y'`, ACR: "1", Issuer: "t", CSRF: `'"`,
			Created: n, LastSeen: n, Expires: n.Add(time.Second),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			createSession(t, s, tt.session)
			checkSession(t, s, tt.session, n)
		})
	}
}

func testSessionExpiry(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	ss := newSession("p", n) // expires at n+12h
	createSession(t, s, ss)
	tests := []struct {
		at   time.Time
		live bool
	}{
		{n, true},
		{ss.Expires.Add(-time.Microsecond), true},
		{ss.Expires, false}, // Expires is the first instant it is dead
		{ss.Expires.Add(time.Hour), false},
	}
	for _, tt := range tests {
		if tt.live {
			checkSession(t, s, ss, tt.at)
		} else {
			checkNoSession(t, s, ss.ID, tt.at)
		}
	}
	checkNoSession(t, s, "0000000000000000000000000000000000000000000000000000000000000000", n)
}

// testSessionIDUnique: creating a session never replaces another.
func testSessionIDUnique(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	ss := newSession("p", n)
	createSession(t, s, ss)
	other := newSession("q", n)
	other.ID = ss.ID
	if err := s.CreateSession(t.Context(), other); err == nil {
		t.Error("CreateSession with an ID in use succeeded")
	}
	checkSession(t, s, ss, n)
}

func testTouchSession(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	ss, other := newSession("p", n), newSession("q", n)
	createSession(t, s, ss)
	createSession(t, s, other)
	steps := []struct {
		at   time.Time
		want time.Time // LastSeen after the touch
	}{
		{n.Add(10 * time.Minute), n.Add(10 * time.Minute)},
		{n.Add(5 * time.Minute), n.Add(10 * time.Minute)}, // never backwards
		{n.Add(10 * time.Minute), n.Add(10 * time.Minute)},
		{n.Add(time.Hour), n.Add(time.Hour)},
	}
	for _, st := range steps {
		if err := s.TouchSession(t.Context(), ss.ID, st.at); err != nil {
			t.Fatalf("TouchSession(%v): %v", st.at.Sub(n), err)
		}
		ss.LastSeen = st.want // and nothing else changes: not Expires, above all
		checkSession(t, s, ss, n)
	}
	checkSession(t, s, other, n)
	if err := s.TouchSession(t.Context(), "missing", n); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("TouchSession of a missing session: error = %v, want ErrNotFound", err)
	}
}

func testDeleteSession(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	ss, other := newSession("p", n), newSession("p", n)
	createSession(t, s, ss)
	createSession(t, s, other)
	for i := range 2 { // a missing session is no error
		if err := s.DeleteSession(t.Context(), ss.ID); err != nil {
			t.Fatalf("DeleteSession #%d: %v", i+1, err)
		}
		checkNoSession(t, s, ss.ID, n)
	}
	checkSession(t, s, other, n)
}

// Sign-in flows.

func saveFlow(t *testing.T, s state.AuthStore, st string, data []byte, expires time.Time) {
	t.Helper()
	if err := s.SaveFlow(t.Context(), st, data, expires); err != nil {
		t.Fatalf("SaveFlow(%q): %v", st, err)
	}
}

// checkTake checks that TakeFlow(st, at) returns want, or ErrNotFound if
// want is nil. An empty want matches empty or nil data.
func checkTake(t *testing.T, s state.AuthStore, st string, at time.Time, want []byte) {
	t.Helper()
	got, err := s.TakeFlow(t.Context(), st, at)
	switch {
	case want == nil && !errors.Is(err, state.ErrNotFound):
		t.Errorf("TakeFlow(%q) = %q, %v; want ErrNotFound", st, got, err)
	case want == nil:
	case err != nil:
		t.Errorf("TakeFlow(%q): %v", st, err)
	case !bytes.Equal(got, want):
		t.Errorf("TakeFlow(%q) = %q, want %q", st, got, want)
	}
}

func testFlow(t *testing.T, open func(*testing.T) state.Store) {
	n := now()
	tests := []struct {
		name string
		data []byte
	}{
		{"json", []byte(`{"verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","nonce":"n-0S6_WzA2Mj","return":"/guastalla/2019?x=è"}`)},
		{"binary", []byte("\x00\x01\xff\xfe\x00 NUL and \xe8")},
		{"empty", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			st, other := rand.Text(), rand.Text()
			saveFlow(t, s, st, tt.data, n.Add(10*time.Minute))
			saveFlow(t, s, other, []byte("other"), n.Add(10*time.Minute))
			checkTake(t, s, st, n, tt.data)
			checkTake(t, s, st, n, nil) // a state value works once
			checkTake(t, s, other, n, []byte("other"))
			checkTake(t, s, "unknown", n, nil)
		})
	}
}

func testFlowExpiry(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	expires := n.Add(10 * time.Minute)
	tests := []struct {
		at   time.Time
		live bool
	}{
		{n, true},
		{expires.Add(-time.Microsecond), true},
		{expires, false},
		{expires.Add(time.Hour), false},
	}
	for _, tt := range tests {
		st := rand.Text()
		saveFlow(t, s, st, []byte("x"), expires)
		want := []byte("x")
		if !tt.live {
			want = nil
		}
		checkTake(t, s, st, tt.at, want)
	}
}

// testConcurrentTakeFlow has goroutines race to take one flow: exactly one
// may get it.
func testConcurrentTakeFlow(t *testing.T, open func(*testing.T) state.Store) {
	const n = 20
	s := open(t)
	at := now()
	st, data := rand.Text(), []byte("the flow")
	saveFlow(t, s, st, data, at.Add(time.Minute))
	start := make(chan struct{})
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for range n {
		wg.Go(func() {
			<-start
			got, err := s.TakeFlow(t.Context(), st, at)
			switch {
			case err == nil:
				if !bytes.Equal(got, data) {
					t.Errorf("TakeFlow = %q, want %q", got, data)
				}
				mu.Lock()
				won++
				mu.Unlock()
			case !errors.Is(err, state.ErrNotFound):
				t.Errorf("TakeFlow: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of %d concurrent TakeFlows of one state succeeded, want 1", won, n)
	}
}

// App passwords.

// newAppPassword returns an app password of owner created at created, with
// a random ID and hash, that never expires and has never been used.
func newAppPassword(owner string, created time.Time) state.AppPassword {
	hash := sha256.Sum256([]byte(rand.Text()))
	return state.AppPassword{
		ID:      "ap-" + strings.ToLower(rand.Text()[:12]),
		Owner:   owner,
		Name:    "PC ufficio tecnico",
		Hash:    hash[:],
		Created: created,
	}
}

func createAppPassword(t *testing.T, s state.AuthStore, p state.AppPassword) {
	t.Helper()
	if err := s.CreateAppPassword(t.Context(), p); err != nil {
		t.Fatalf("CreateAppPassword(%+v): %v", p, err)
	}
}

// sameAppPassword reports whether a and b are equal, their times being the
// same instants. A nil and an empty Comuni are the same: all the owner's.
func sameAppPassword(a, b state.AppPassword) bool {
	return a.ID == b.ID && a.Owner == b.Owner && a.Name == b.Name && bytes.Equal(a.Hash, b.Hash) &&
		a.ReadOnly == b.ReadOnly && slices.Equal(a.Comuni, b.Comuni) &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.LastUsed.Equal(b.LastUsed)
}

// checkByHash checks that AppPasswordByHash(want.Hash, at) returns want.
func checkByHash(t *testing.T, s state.AuthStore, want state.AppPassword, at time.Time) {
	t.Helper()
	got, err := s.AppPasswordByHash(t.Context(), want.Hash, at)
	if err != nil {
		t.Fatalf("AppPasswordByHash(%x): %v", want.Hash, err)
	}
	if !sameAppPassword(got, want) {
		t.Errorf("AppPasswordByHash(%x) =\n%+v\nwant\n%+v", want.Hash, got, want)
	}
}

// checkNoHash checks that AppPasswordByHash(hash, at) is ErrNotFound.
func checkNoHash(t *testing.T, s state.AuthStore, hash []byte, at time.Time) {
	t.Helper()
	if p, err := s.AppPasswordByHash(t.Context(), hash, at); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("AppPasswordByHash(%x) = %+v, %v; want ErrNotFound", hash, p, err)
	}
}

// checkAppPasswords checks that AppPasswords(owner) returns want, in order.
func checkAppPasswords(t *testing.T, s state.AuthStore, owner string, want ...state.AppPassword) {
	t.Helper()
	got, err := s.AppPasswords(t.Context(), owner)
	if err != nil {
		t.Fatalf("AppPasswords(%q): %v", owner, err)
	}
	if !slices.EqualFunc(got, want, sameAppPassword) {
		t.Errorf("AppPasswords(%q) =\n%s\nwant\n%s", owner, fmtAppPasswords(got), fmtAppPasswords(want))
	}
}

func fmtAppPasswords(ps []state.AppPassword) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\t%+v\n", p)
	}
	return b.String()
}

func testAppPasswordRoundTrip(t *testing.T, open func(*testing.T) state.Store) {
	n := now()
	p := func(edit func(p *state.AppPassword)) state.AppPassword {
		p := newAppPassword("RSSMRA80A01H501U", n.Add(-time.Hour))
		edit(&p)
		return p
	}
	tests := []struct {
		name string
		p    state.AppPassword
	}{
		{"all the owner's comuni, never expires, never used", p(func(p *state.AppPassword) {})},
		{"empty comuni", p(func(p *state.AppPassword) { p.Comuni = []string{} })},
		{"two comuni, read-only", p(func(p *state.AppPassword) {
			p.Comuni = []string{"guastalla", "luzzara"}
			p.ReadOnly = true
		})},
		{"every field", p(func(p *state.AppPassword) {
			p.Name = "Portatile di Anna – «casa» 🏠"
			p.Comuni = []string{"luzzara", "Sant'Ilario d'Enza", "Castelnovo ne' Monti", "città \"vecchia\""}
			p.Expires = n.Add(90 * 24 * time.Hour)
			p.LastUsed = n.Add(-time.Minute)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			createAppPassword(t, s, tt.p)
			checkByHash(t, s, tt.p, n)
			checkAppPasswords(t, s, tt.p.Owner, tt.p)
		})
	}
}

func testAppPasswordByHash(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	a, b := newAppPassword("p", n), newAppPassword("q", n)
	createAppPassword(t, s, a)
	createAppPassword(t, s, b)
	checkByHash(t, s, a, n)
	checkByHash(t, s, b, n)
	flipped := slices.Clone(a.Hash)
	flipped[len(flipped)-1] ^= 1
	for _, h := range [][]byte{flipped, a.Hash[:len(a.Hash)-1], append(slices.Clone(a.Hash), 0), {}, nil} {
		checkNoHash(t, s, h, n)
	}
}

func testAppPasswordExpiry(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	p, never := newAppPassword("p", n), newAppPassword("p", n.Add(-time.Second))
	p.Expires = n.Add(time.Hour)
	createAppPassword(t, s, p)
	createAppPassword(t, s, never)
	tests := []struct {
		at   time.Time
		live bool
	}{
		{n, true},
		{p.Expires.Add(-time.Microsecond), true},
		{p.Expires, false},
		{p.Expires.Add(time.Hour), false},
	}
	for _, tt := range tests {
		if tt.live {
			checkByHash(t, s, p, tt.at)
		} else {
			checkNoHash(t, s, p.Hash, tt.at)
		}
		checkByHash(t, s, never, tt.at)
	}
	checkByHash(t, s, never, n.AddDate(100, 0, 0))
	// Listed, expired or not.
	checkAppPasswords(t, s, "p", p, never)
}

func testAppPasswordUnique(t *testing.T, open func(*testing.T) state.Store) {
	n := now()
	tests := []struct {
		name string
		edit func(p *state.AppPassword, first state.AppPassword)
	}{
		{"same ID", func(p *state.AppPassword, first state.AppPassword) { p.ID = first.ID }},
		{"same ID, another owner", func(p *state.AppPassword, first state.AppPassword) {
			p.ID, p.Owner = first.ID, "q"
		}},
		{"same hash", func(p *state.AppPassword, first state.AppPassword) { p.Hash = slices.Clone(first.Hash) }},
		{"same hash, another owner", func(p *state.AppPassword, first state.AppPassword) {
			p.Hash, p.Owner = slices.Clone(first.Hash), "q"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			first := newAppPassword("p", n)
			createAppPassword(t, s, first)
			dup := newAppPassword("p", n.Add(time.Second))
			dup.Name = "the duplicate"
			tt.edit(&dup, first)
			if err := s.CreateAppPassword(t.Context(), dup); err == nil {
				t.Fatalf("CreateAppPassword of %+v with %+v stored succeeded", dup, first)
			}
			checkByHash(t, s, first, n)
			if !bytes.Equal(dup.Hash, first.Hash) {
				checkNoHash(t, s, dup.Hash, n)
			}
			checkAppPasswords(t, s, "p", first)
			checkAppPasswords(t, s, "q")
		})
	}
}

func testAppPasswords(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	var mine []state.AppPassword // newest first
	for i := range 4 {
		p := newAppPassword("p", n.Add(-time.Duration(i)*time.Hour))
		p.Name = fmt.Sprintf("device %d", i)
		mine = append(mine, p)
	}
	mine[2].Expires = n.Add(-time.Minute) // expired ones are listed too
	theirs := newAppPassword("q", n.Add(time.Hour))
	// Created neither in order of creation time nor grouped by owner.
	for _, p := range []state.AppPassword{mine[2], theirs, mine[0], mine[3], mine[1]} {
		createAppPassword(t, s, p)
	}
	checkAppPasswords(t, s, "p", mine...)
	checkAppPasswords(t, s, "q", theirs)
	checkAppPasswords(t, s, "P") // owners are compared exactly
	checkAppPasswords(t, s, "nobody")
}

func testDeleteAppPassword(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	a1, a2 := newAppPassword("a", n), newAppPassword("a", n.Add(-time.Hour))
	expired := newAppPassword("a", n.Add(-2*time.Hour))
	expired.Expires = n.Add(-time.Hour)
	b1 := newAppPassword("b", n)
	for _, p := range []state.AppPassword{a1, a2, expired, b1} {
		createAppPassword(t, s, p)
	}

	tests := []struct {
		owner, id string
		err       error
	}{
		{"a", a1.ID, nil},
		{"a", a1.ID, state.ErrNotFound}, // already revoked
		{"a", b1.ID, state.ErrNotFound}, // another's
		{"b", a2.ID, state.ErrNotFound}, // another's
		{"a", "missing", state.ErrNotFound},
		{"a", expired.ID, nil},                           // listed, so it can be revoked
		{"", b1.ID, state.ErrNotFound},                   // no owner is not every owner
		{"A", a2.ID, state.ErrNotFound},                  // owners are compared exactly
		{"a", strings.ToUpper(a2.ID), state.ErrNotFound}, // and so are IDs
	}
	for _, tt := range tests {
		err := s.DeleteAppPassword(t.Context(), tt.owner, tt.id)
		if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("DeleteAppPassword(%q, %q): error = %v, want %v", tt.owner, tt.id, err, tt.err)
		}
	}
	checkNoHash(t, s, a1.Hash, n)
	checkByHash(t, s, a2, n)
	checkByHash(t, s, b1, n)
	checkAppPasswords(t, s, "a", a2)
	checkAppPasswords(t, s, "b", b1)
}

func testTouchAppPasswords(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	a, b, c := newAppPassword("p", n), newAppPassword("p", n.Add(-time.Second)), newAppPassword("p", n.Add(-2*time.Second))
	c.LastUsed = n.Add(-time.Hour)
	for _, p := range []state.AppPassword{a, b, c} {
		createAppPassword(t, s, p)
	}
	steps := []struct {
		used map[string]time.Time
		// want are the LastUsed times after the touch, by ID.
		want map[string]time.Time
	}{
		{nil, map[string]time.Time{a.ID: {}, b.ID: {}, c.ID: c.LastUsed}},
		{map[string]time.Time{}, map[string]time.Time{a.ID: {}, b.ID: {}, c.ID: c.LastUsed}},
		{
			map[string]time.Time{a.ID: n.Add(time.Minute), c.ID: n.Add(2 * time.Minute), "unknown": n.Add(3 * time.Minute)},
			map[string]time.Time{a.ID: n.Add(time.Minute), b.ID: {}, c.ID: n.Add(2 * time.Minute)},
		},
		{ // never backwards
			map[string]time.Time{a.ID: n.Add(30 * time.Second), b.ID: n.Add(5 * time.Minute), c.ID: n.Add(2 * time.Minute)},
			map[string]time.Time{a.ID: n.Add(time.Minute), b.ID: n.Add(5 * time.Minute), c.ID: n.Add(2 * time.Minute)},
		},
		{
			map[string]time.Time{a.ID: n.Add(time.Hour), b.ID: n.Add(-time.Hour)},
			map[string]time.Time{a.ID: n.Add(time.Hour), b.ID: n.Add(5 * time.Minute), c.ID: n.Add(2 * time.Minute)},
		},
	}
	for i, st := range steps {
		if err := s.TouchAppPasswords(t.Context(), st.used); err != nil {
			t.Fatalf("step %d: TouchAppPasswords(%v): %v", i, st.used, err)
		}
		var want []state.AppPassword
		for _, p := range []state.AppPassword{a, b, c} {
			p.LastUsed = st.want[p.ID] // and nothing else changes
			checkByHash(t, s, p, n)
			want = append(want, p)
		}
		checkAppPasswords(t, s, "p", want...)
	}
}

func testDeleteExpired(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	earlier := n.Add(-24 * time.Hour)

	// Each kind of record: one expired long ago, one expiring exactly at n
	// (expired at n), one expiring just after n, and one live for long.
	var deadSessions, liveSessions []state.Session
	for i, expires := range []time.Time{n.Add(-time.Hour), n, n.Add(time.Microsecond), n.Add(time.Hour)} {
		ss := newSession("p", earlier)
		ss.Expires = expires
		createSession(t, s, ss)
		if i < 2 {
			deadSessions = append(deadSessions, ss)
		} else {
			liveSessions = append(liveSessions, ss)
		}
	}
	flows := make(map[string]bool) // state value -> live
	for i, expires := range []time.Time{n.Add(-time.Hour), n, n.Add(time.Microsecond), n.Add(time.Hour)} {
		st := rand.Text()
		saveFlow(t, s, st, []byte(st), expires)
		flows[st] = i >= 2
	}
	var livePasswords []state.AppPassword // newest first
	for i, expires := range []time.Time{n.Add(-time.Hour), n, n.Add(time.Microsecond), n.Add(time.Hour), {}} {
		p := newAppPassword("p", earlier.Add(-time.Duration(i)*time.Minute))
		p.Expires = expires
		createAppPassword(t, s, p)
		if i >= 2 {
			livePasswords = append(livePasswords, p)
		}
	}
	other := newSession("q", earlier) // another person's, live
	other.Expires = n.Add(time.Hour)
	createSession(t, s, other)
	// Attempt counts whose windows end long before n, exactly at n, and
	// after n, each counted twice.
	attempts := map[string]time.Duration{"morto": time.Hour, "a-n": 24 * time.Hour, "vivo": 25 * time.Hour}
	for _, key := range slices.Sorted(maps.Keys(attempts)) {
		addAttempt(t, s, key, earlier, attempts[key])
		addAttempt(t, s, key, earlier, attempts[key])
	}

	if err := s.DeleteExpired(t.Context(), n); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}

	// Asked at an earlier time, a store still holding the expired records
	// would return them.
	for _, ss := range deadSessions {
		checkNoSession(t, s, ss.ID, earlier)
	}
	for _, ss := range append(liveSessions, other) {
		checkSession(t, s, ss, earlier)
	}
	for _, st := range slices.Sorted(maps.Keys(flows)) {
		want := []byte(st)
		if !flows[st] {
			want = nil
		}
		checkTake(t, s, st, earlier, want)
	}
	checkAppPasswords(t, s, "p", livePasswords...)
	for _, p := range livePasswords {
		checkByHash(t, s, p, earlier)
	}
	// Counted again at the time of the first two, a count still held
	// would go on from 2.
	for key, want := range map[string]int{"morto": 1, "a-n": 1, "vivo": 3} {
		if got, _ := addAttempt(t, s, key, earlier, attempts[key]); got != want {
			t.Errorf("attempts under %q after DeleteExpired: count %d, want %d", key, got, want)
		}
	}

	// Nothing expired is left: a second run finds nothing to do.
	if err := s.DeleteExpired(t.Context(), n); err != nil {
		t.Fatalf("DeleteExpired again: %v", err)
	}
	checkAppPasswords(t, s, "p", livePasswords...)
}

// Attempt counts.

func addAttempt(t *testing.T, s state.AuthStore, key string, at time.Time, window time.Duration) (int, time.Time) {
	t.Helper()
	n, ends, err := s.AddAttempt(t.Context(), key, at, window)
	if err != nil {
		t.Fatalf("AddAttempt(%q, %v, %v): %v", key, at, window, err)
	}
	return n, ends
}

// testAttempts: counts go up by one per attempt within a window, restart
// at 1 when the window has ended, are kept apart by key, and go when
// cleared.
func testAttempts(t *testing.T, open func(*testing.T) state.Store) {
	s := open(t)
	n := now()
	const w = 5 * time.Minute
	steps := []struct {
		key      string
		at       time.Time
		want     int
		wantEnds time.Time
	}{
		{"indirizzo:127.0.0.1", n, 1, n.Add(w)},
		{"indirizzo:127.0.0.1", n.Add(time.Second), 2, n.Add(w)},
		{"indirizzo:127.0.0.2", n.Add(time.Second), 1, n.Add(time.Second + w)},
		{"indirizzo:127.0.0.1", n.Add(w - time.Microsecond), 3, n.Add(w)},
		// The window ends at n+w: an attempt then starts a new one.
		{"indirizzo:127.0.0.1", n.Add(w), 1, n.Add(2 * w)},
		{"indirizzo:127.0.0.1", n.Add(w + time.Second), 2, n.Add(2 * w)},
		{"indirizzo:127.0.0.2", n.Add(2 * time.Second), 2, n.Add(time.Second + w)},
	}
	for i, st := range steps {
		got, ends := addAttempt(t, s, st.key, st.at, w)
		if got != st.want || !ends.Equal(st.wantEnds) {
			t.Errorf("step %d: AddAttempt(%q) = %d, ends %v; want %d, ends %v", i, st.key, got, ends, st.want, st.wantEnds)
		}
		// Reading does not count, and finds the count until the window ends.
		for _, r := range []struct {
			at   time.Time
			want int
		}{{st.at, st.want}, {st.at, st.want}, {st.wantEnds.Add(-time.Microsecond), st.want}, {st.wantEnds, 0}} {
			if got, err := s.Attempts(t.Context(), st.key, r.at); err != nil || got != r.want {
				t.Errorf("step %d: Attempts(%q, %v) = %d, %v; want %d", i, st.key, r.at, got, err, r.want)
			}
		}
	}
	if got, err := s.Attempts(t.Context(), "mai-visto", n); err != nil || got != 0 {
		t.Errorf("Attempts of a missing key = %d, %v; want 0", got, err)
	}
	if err := s.ClearAttempts(t.Context(), "indirizzo:127.0.0.1"); err != nil {
		t.Fatalf("ClearAttempts: %v", err)
	}
	if err := s.ClearAttempts(t.Context(), "mai-visto"); err != nil {
		t.Errorf("ClearAttempts of a missing key: %v", err)
	}
	if got, err := s.Attempts(t.Context(), "indirizzo:127.0.0.1", n.Add(w+2*time.Second)); err != nil || got != 0 {
		t.Errorf("Attempts after ClearAttempts = %d, %v; want 0", got, err)
	}
	if got, _ := addAttempt(t, s, "indirizzo:127.0.0.1", n.Add(w+2*time.Second), w); got != 1 {
		t.Errorf("after ClearAttempts: count %d, want 1", got)
	}
	if got, _ := addAttempt(t, s, "indirizzo:127.0.0.2", n.Add(3*time.Second), w); got != 3 {
		t.Errorf("another key after ClearAttempts: count %d, want 3", got)
	}
	if _, _, err := s.AddAttempt(t.Context(), "k", n, 0); err == nil {
		t.Errorf("AddAttempt with a zero window: no error")
	}
}

// testConcurrentAddAttempt: concurrent attempts under one key each get a
// count of their own, 1 to n, as the throttle's reservation needs.
func testConcurrentAddAttempt(t *testing.T, open func(*testing.T) state.Store) {
	const n = 40
	s := open(t)
	at := now()
	start := make(chan struct{})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]int{}
	)
	for range n {
		wg.Go(func() {
			<-start
			got, _, err := s.AddAttempt(t.Context(), "account:ROSSI", at, time.Minute)
			if err != nil {
				t.Errorf("AddAttempt: %v", err)
				return
			}
			mu.Lock()
			seen[got]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	for i := 1; i <= n; i++ {
		if seen[i] != 1 {
			t.Errorf("%d concurrent AddAttempts: count %d returned %d times, want once (%v)", n, i, seen[i], seen)
		}
	}
}
