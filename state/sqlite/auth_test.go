package sqlite

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestAuthStore(t *testing.T) {
	statetest.RunAuth(t, func(t *testing.T) state.Store {
		return openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

// openClosed opens the database at path and closes it when the test ends.
func openClosed(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestAuthReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now() // nanoseconds, in the local zone
	hash := sha256.Sum256([]byte("secret"))
	ss := state.Session{
		ID: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", Person: "RSSMRA80A01H501U",
		Display: "Mario Rossi – Città", ACR: "https://www.spid.gov.it/SpidL2", Issuer: "https://idp.example", CSRF: "c",
		Created: now, LastSeen: now.Add(time.Second), Expires: now.Add(12 * time.Hour),
	}
	p := state.AppPassword{
		ID: "ap-1", Owner: ss.Person, Name: "PC", Hash: hash[:], ReadOnly: true,
		Comuni: []string{"guastalla", "luzzara"}, Created: now, Expires: now.Add(24 * time.Hour),
	}
	never := state.AppPassword{ID: "ap-2", Owner: ss.Person, Name: "NAS", Hash: []byte{1}, Created: now.Add(-time.Hour)}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	for _, q := range []state.AppPassword{p, never} {
		if err := s.CreateAppPassword(ctx, q); err != nil {
			t.Fatalf("CreateAppPassword: %v", err)
		}
	}
	p.LastUsed = now.Add(time.Minute)
	if err := s.TouchAppPasswords(ctx, map[string]time.Time{p.ID: p.LastUsed}); err != nil {
		t.Fatalf("TouchAppPasswords: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openClosed(t, path)
	gotSession, err := s.Session(ctx, ss.ID, now)
	if err != nil {
		t.Fatalf("Session after reopening: %v", err)
	}
	// Stored at nanosecond precision and returned in UTC.
	for _, tm := range []time.Time{gotSession.Created, gotSession.LastSeen, gotSession.Expires} {
		if tm.Location() != time.UTC {
			t.Errorf("session time %v is not in UTC", tm)
		}
	}
	want := ss
	want.Created, want.LastSeen, want.Expires = ss.Created.UTC(), ss.LastSeen.UTC(), ss.Expires.UTC()
	if gotSession != want {
		t.Errorf("Session after reopening =\n%+v\nwant\n%+v", gotSession, want)
	}

	got, err := s.AppPasswords(ctx, ss.Person)
	if err != nil {
		t.Fatalf("AppPasswords after reopening: %v", err)
	}
	if want := []state.AppPassword{utcAppPassword(p), utcAppPassword(never)}; !slices.EqualFunc(got, want, equalAppPassword) {
		t.Errorf("AppPasswords after reopening =\n%+v\nwant\n%+v", got, want)
	}
	if got, err := s.AppPasswordByHash(ctx, p.Hash, now); err != nil || !equalAppPassword(got, utcAppPassword(p)) {
		t.Errorf("AppPasswordByHash after reopening = %+v, %v; want %+v", got, err, p)
	}
}

// utcAppPassword returns p with its times in UTC, as the store returns them.
func utcAppPassword(p state.AppPassword) state.AppPassword {
	p.Created, p.Expires, p.LastUsed = p.Created.UTC(), p.Expires.UTC(), p.LastUsed.UTC()
	return p
}

// equalAppPassword reports whether a and b are equal to the nanosecond and in
// the same time zone: stricter than the conformance suite, which allows a
// store to keep microseconds.
func equalAppPassword(a, b state.AppPassword) bool {
	return a.ID == b.ID && a.Owner == b.Owner && a.Name == b.Name && string(a.Hash) == string(b.Hash) &&
		a.ReadOnly == b.ReadOnly && slices.Equal(a.Comuni, b.Comuni) &&
		a.Created == b.Created && a.Expires == b.Expires && a.LastUsed == b.LastUsed
}

// TestComuniEncoding checks that an empty list is stored one way and read
// back as nil, however it was given.
func TestComuniEncoding(t *testing.T) {
	tests := []struct {
		comuni []string
		stored string
		back   []string
	}{
		{nil, `[]`, nil},
		{[]string{}, `[]`, nil},
		{[]string{""}, `[""]`, []string{""}},
		{[]string{"guastalla", "luzzara"}, `["guastalla","luzzara"]`, []string{"guastalla", "luzzara"}},
		{[]string{"a,b", `"q"`, "è"}, `["a,b","\"q\"","è"]`, []string{"a,b", `"q"`, "è"}},
	}
	for _, tt := range tests {
		stored, err := encodeComuni(tt.comuni)
		if err != nil || stored != tt.stored {
			t.Errorf("encodeComuni(%q) = %s, %v; want %s", tt.comuni, stored, err, tt.stored)
			continue
		}
		back, err := decodeComuni(stored)
		if err != nil || !slices.Equal(back, tt.back) || (back == nil) != (tt.back == nil) {
			t.Errorf("decodeComuni(%s) = %#v, %v; want %#v", stored, back, err, tt.back)
		}
	}
	if _, err := encodeComuni([]string{"\xff"}); err == nil {
		t.Error("encodeComuni of invalid UTF-8 succeeded")
	}
}

// TestAuthIncomplete checks that records missing what the store cannot do
// without are refused.
func TestAuthIncomplete(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Now()
	session := state.Session{ID: "s", Person: "p", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}
	p := state.AppPassword{ID: "a", Owner: "p", Hash: []byte{1}, Created: now}
	sessionTests := []struct {
		name string
		edit func(*state.Session)
	}{
		{"no Created", func(s *state.Session) { s.Created = time.Time{} }},
		{"no LastSeen", func(s *state.Session) { s.LastSeen = time.Time{} }},
		{"no Expires", func(s *state.Session) { s.Expires = time.Time{} }},
	}
	for _, tt := range sessionTests {
		ss := session
		tt.edit(&ss)
		if err := s.CreateSession(t.Context(), ss); err == nil {
			t.Errorf("CreateSession with %s succeeded", tt.name)
		}
	}
	passwordTests := []struct {
		name string
		edit func(*state.AppPassword)
	}{
		{"no Hash", func(p *state.AppPassword) { p.Hash = nil }},
		{"an empty Hash", func(p *state.AppPassword) { p.Hash = []byte{} }},
		{"no Created", func(p *state.AppPassword) { p.Created = time.Time{} }},
		{"invalid UTF-8 in Comuni", func(p *state.AppPassword) { p.Comuni = []string{"\xe8"} }},
	}
	for _, tt := range passwordTests {
		q := p
		tt.edit(&q)
		if err := s.CreateAppPassword(t.Context(), q); err == nil {
			t.Errorf("CreateAppPassword with %s succeeded", tt.name)
		}
	}
}

// TestAppPasswordByHashPlan checks that the lookup behind every WebDAV
// request is answered from an index, not by scanning the table.
func TestAppPasswordByHashPlan(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+appPasswordByHash, []byte{1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH app_passwords USING INDEX ") || !strings.Contains(plan[0], "(hash=?)") {
		t.Errorf("query plan of AppPasswordByHash = %q, want one indexed search on hash", plan)
	}
}

// BenchmarkAppPasswordByHash times the lookup that authenticates a WebDAV
// request, in a store holding 1,000 app passwords.
func BenchmarkAppPasswordByHash(b *testing.B) {
	const n = 1000
	ctx := b.Context()
	s := openClosed(b, filepath.Join(b.TempDir(), "state.db"))
	now := time.Now()
	hashes := make([][]byte, n)
	for i := range n {
		h := sha256.Sum256(fmt.Appendf(nil, "secret %d", i))
		hashes[i] = h[:]
		p := state.AppPassword{
			ID: fmt.Sprintf("ap-%d", i), Owner: fmt.Sprintf("person-%d", i%300), Name: "PC",
			Hash: hashes[i], Comuni: []string{"guastalla", "luzzara"},
			Created: now, Expires: now.Add(time.Hour),
		}
		if err := s.CreateAppPassword(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.AppPasswordByHash(ctx, hashes[i%n], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func TestExpiry(t *testing.T) {
	statetest.RunExpiry(t, func(t *testing.T) state.Store {
		return openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	})
}
