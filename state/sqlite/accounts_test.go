package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestAccountStore(t *testing.T) {
	statetest.RunAccounts(t, func(t *testing.T) state.AccountStore {
		return openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func TestAccountsReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now() // nanoseconds, in the local zone
	zone := time.FixedZone("CEST", 2*3600)
	accounts := []state.Account{
		{Name: "Città", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", Created: now.Add(-time.Hour), Updated: now.Add(-time.Hour)},
		{Name: "demo", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$YWJj$ZGVm", Created: now.In(zone), Updated: now.In(zone)},
	}
	changed := accounts[1]
	changed.PasswordHash, changed.Updated = "$argon2id$v=19$m=65536,t=3,p=4$Z2hp$amts", now.Add(time.Minute+1)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for _, a := range append(accounts, state.Account{Name: "gone", PasswordHash: "x", Created: now, Updated: now}) {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount(%q): %v", a.Name, err)
		}
	}
	if err := s.SetAccountPassword(ctx, changed.Name, changed.PasswordHash, changed.Updated); err != nil {
		t.Fatalf("SetAccountPassword: %v", err)
	}
	if err := s.DeleteAccount(ctx, "gone"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openClosed(t, path)
	got, err := s.Accounts(ctx)
	if err != nil {
		t.Fatalf("Accounts after reopening: %v", err)
	}
	// Stored at nanosecond precision and returned in UTC: == on the structs
	// compares the instants and the zones.
	want := []state.Account{utcAccount(accounts[0]), utcAccount(changed)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Accounts after reopening =\n%+v\nwant\n%+v", got, want)
	}
	for _, a := range want {
		if got, err := s.Account(ctx, a.Name); err != nil || got != a {
			t.Errorf("Account(%q) after reopening = %+v, %v; want %+v", a.Name, got, err, a)
		}
	}
}

// utcAccount returns a with its times in UTC, as the store returns them.
func utcAccount(a state.Account) state.Account {
	a.Created, a.Updated = a.Created.UTC(), a.Updated.UTC()
	return a
}

// TestAccountIncomplete checks that accounts the store must not hold are
// refused, and that nothing is stored.
func TestAccountIncomplete(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Now()
	valid := state.Account{Name: "demo", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$YWJj$ZGVm", Created: now, Updated: now}
	tests := []struct {
		name string
		edit func(*state.Account)
	}{
		{"no Name", func(a *state.Account) { a.Name = "" }},
		{"a Name not UTF-8", func(a *state.Account) { a.Name = "caff\xe8" }},
		{"a NUL in Name", func(a *state.Account) { a.Name = "de\x00mo" }},
		{"no PasswordHash", func(a *state.Account) { a.PasswordHash = "" }},
		{"no Created", func(a *state.Account) { a.Created = time.Time{} }},
		{"no Updated", func(a *state.Account) { a.Updated = time.Time{} }},
	}
	for _, tt := range tests {
		a := valid
		tt.edit(&a)
		if err := s.CreateAccount(t.Context(), a); err == nil {
			t.Errorf("CreateAccount with %s succeeded", tt.name)
		}
	}
	if got, err := s.Accounts(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("Accounts after refused creations = %+v, %v; want none", got, err)
	}

	if err := s.CreateAccount(t.Context(), valid); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	setTests := []struct {
		name string
		hash string
		at   time.Time
	}{
		{"no hash", "", now.Add(time.Minute)},
		{"no time", "$argon2id$v=19$m=65536,t=3,p=4$Z2hp$amts", time.Time{}},
	}
	for _, tt := range setTests {
		if err := s.SetAccountPassword(t.Context(), valid.Name, tt.hash, tt.at); err == nil {
			t.Errorf("SetAccountPassword with %s succeeded", tt.name)
		}
	}
	if got, err := s.Account(t.Context(), valid.Name); err != nil || got != utcAccount(valid) {
		t.Errorf("Account after refused changes = %+v, %v; want %+v", got, err, valid)
	}
}
