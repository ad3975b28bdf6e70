package statetest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// RunAccounts runs the conformance suite for state.AccountStore, each case
// in a subtest on a store of its own. open returns a new, empty store and,
// as for RunAuth, arranges with t.Cleanup for closing it. The suite uses
// whole microseconds.
func RunAccounts(t *testing.T, open func(t *testing.T) state.AccountStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) state.AccountStore)
	}{
		{"AccountRoundTrip", testAccountRoundTrip},
		{"AccountExists", testAccountExists},
		{"ConcurrentCreateAccount", testConcurrentCreateAccount},
		{"Accounts", testAccounts},
		{"SetAccountPassword", testSetAccountPassword},
		{"DeleteAccount", testDeleteAccount},
		{"MissingAccount", testMissingAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// names are account names that a store must keep apart and return as given:
// they differ only in case, in Unicode normalization (precomposed "è" and
// "e" with a combining grave accent), or by characters outside ASCII and
// the Basic Multilingual Plane.
var names = []string{
	"admin",
	"Admin",
	"ADMIN",
	"demo",
	"servizio-backup",
	"servizio.backup@guastalla",
	"caffè",
	"caffe\u0300",
	"Città di Reggio nell'Emilia",
	"Ærø",
	"日本語",
	"🏛️ municipio",
	"with space",
}

// phc returns an argon2id hash in the PHC string format, of a random
// password: the store keeps it as an opaque string.
func phc() string {
	salt, key := make([]byte, 16), make([]byte, 32)
	rand.Read(salt)
	rand.Read(key)
	return fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// newAccount returns an account with the name, created and last updated at
// created.
func newAccount(name string, created time.Time) state.Account {
	return state.Account{Name: name, PasswordHash: phc(), Created: created, Updated: created}
}

func createAccount(t *testing.T, s state.AccountStore, a state.Account) {
	t.Helper()
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount(%q): %v", a.Name, err)
	}
}

// sameAccount reports whether a and b are equal, their times being the same
// instants.
func sameAccount(a, b state.Account) bool {
	return a.Name == b.Name && a.PasswordHash == b.PasswordHash &&
		a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated)
}

// checkAccount checks that Account(want.Name) returns want.
func checkAccount(t *testing.T, s state.AccountStore, want state.Account) {
	t.Helper()
	got, err := s.Account(t.Context(), want.Name)
	if err != nil {
		t.Fatalf("Account(%q): %v", want.Name, err)
	}
	if !sameAccount(got, want) {
		t.Errorf("Account(%q) =\n%+v\nwant\n%+v", want.Name, got, want)
	}
}

// checkNoAccount checks that Account(name) is ErrNotFound.
func checkNoAccount(t *testing.T, s state.AccountStore, name string) {
	t.Helper()
	if a, err := s.Account(t.Context(), name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Account(%q) = %+v, %v; want ErrNotFound", name, a, err)
	}
}

// checkAccounts checks that Accounts returns want, in order.
func checkAccounts(t *testing.T, s state.AccountStore, want ...state.Account) {
	t.Helper()
	got, err := s.Accounts(t.Context())
	if err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	if !slices.EqualFunc(got, want, sameAccount) {
		t.Errorf("Accounts =\n%s\nwant\n%s", fmtAccounts(got), fmtAccounts(want))
	}
}

func fmtAccounts(as []state.Account) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\t%+q %s created %v updated %v\n", a.Name, a.PasswordHash, a.Created, a.Updated)
	}
	return b.String()
}

func testAccountRoundTrip(t *testing.T, open func(*testing.T) state.AccountStore) {
	n := now()
	tests := []struct {
		name string
		a    state.Account
	}{
		{"plain", newAccount("demo", n)},
		{"updated after created", state.Account{
			Name: "servizio-backup", PasswordHash: phc(), Created: n.AddDate(-1, 0, 0), Updated: n,
		}},
		{"times before 1970", state.Account{
			Name: "storico", PasswordHash: phc(), Created: n.AddDate(-100, 0, 0), Updated: n.AddDate(-99, 0, 0),
		}},
		{"in another zone", state.Account{
			Name: "fuso", PasswordHash: phc(), Created: n.In(time.FixedZone("CEST", 2*3600)), Updated: n,
		}},
		{"long hash", state.Account{
			Name: "lungo", PasswordHash: phc() + strings.Repeat("A", 4<<10), Created: n, Updated: n,
		}},
	}
	for _, name := range names {
		tests = append(tests, struct {
			name string
			a    state.Account
		}{fmt.Sprintf("name %+q", name), newAccount(name, n)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			createAccount(t, s, tt.a)
			checkAccount(t, s, tt.a)
			checkAccounts(t, s, tt.a)
		})
	}
}

func testAccountExists(t *testing.T, open func(*testing.T) state.AccountStore) {
	s := open(t)
	n := now()
	first := newAccount("admin", n)
	createAccount(t, s, first)
	dup := newAccount("admin", n.Add(time.Hour))
	if err := s.CreateAccount(t.Context(), dup); !errors.Is(err, state.ErrExists) {
		t.Errorf("CreateAccount of a second %q: error = %v, want ErrExists", dup.Name, err)
	}
	if err := s.CreateAccount(t.Context(), first); !errors.Is(err, state.ErrExists) {
		t.Errorf("CreateAccount of %q again: error = %v, want ErrExists", first.Name, err)
	}
	checkAccount(t, s, first) // untouched by the refused creations
	checkAccounts(t, s, first)
	other := newAccount("Admin", n) // another account, names being case-sensitive
	createAccount(t, s, other)
	checkAccount(t, s, first)
	checkAccount(t, s, other)
}

// testConcurrentCreateAccount has goroutines race to create one name:
// exactly one may succeed, and its account is the one stored.
func testConcurrentCreateAccount(t *testing.T, open func(*testing.T) state.AccountStore) {
	const n = 20
	s := open(t)
	at := now()
	accounts := make([]state.Account, n)
	for i := range accounts {
		accounts[i] = newAccount("demo", at)
	}
	start := make(chan struct{})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner []state.Account
	)
	for _, a := range accounts {
		wg.Go(func() {
			<-start
			switch err := s.CreateAccount(t.Context(), a); {
			case err == nil:
				mu.Lock()
				winner = append(winner, a)
				mu.Unlock()
			case !errors.Is(err, state.ErrExists):
				t.Errorf("CreateAccount: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winner) != 1 {
		t.Fatalf("%d of %d concurrent CreateAccounts of one name succeeded, want 1", len(winner), n)
	}
	checkAccount(t, s, winner[0])
}

func testAccounts(t *testing.T, open func(*testing.T) state.AccountStore) {
	s := open(t)
	n := now()
	checkAccounts(t, s) // none yet
	var want []state.Account
	for i, name := range names {
		want = append(want, newAccount(name, n.Add(time.Duration(i)*time.Second)))
	}
	// Created last to first: neither in the order of the names nor in that
	// of the times, so that a listing by either is caught.
	for _, a := range slices.Backward(want) {
		createAccount(t, s, a)
	}
	slices.SortFunc(want, func(a, b state.Account) int { return strings.Compare(a.Name, b.Name) })
	checkAccounts(t, s, want...)
}

func testSetAccountPassword(t *testing.T, open func(*testing.T) state.AccountStore) {
	s := open(t)
	n := now()
	a, b := newAccount("demo", n.Add(-time.Hour)), newAccount("Demo", n.Add(-time.Hour))
	createAccount(t, s, a)
	createAccount(t, s, b)
	steps := []struct {
		hash string
		at   time.Time
	}{
		{phc(), n},
		{phc(), n.Add(time.Minute)},
		{a.PasswordHash, n.Add(2 * time.Minute)}, // back to the first one
	}
	for i, st := range steps {
		if err := s.SetAccountPassword(t.Context(), a.Name, st.hash, st.at); err != nil {
			t.Fatalf("step %d: SetAccountPassword(%q): %v", i, a.Name, err)
		}
		want := a
		want.PasswordHash, want.Updated = st.hash, st.at // and Created stays
		checkAccount(t, s, want)
		checkAccount(t, s, b) // names are compared exactly
		checkAccounts(t, s, b, want)
	}

	for _, name := range []string{"missing", "DEMO", "demo ", ""} {
		if err := s.SetAccountPassword(t.Context(), name, phc(), n); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("SetAccountPassword(%q): error = %v, want ErrNotFound", name, err)
		}
		checkNoAccount(t, s, name) // not created by the attempt
	}
}

func testDeleteAccount(t *testing.T, open func(*testing.T) state.AccountStore) {
	s := open(t)
	n := now()
	admin, demo, caffe := newAccount("admin", n), newAccount("demo", n), newAccount("caffè", n)
	for _, a := range []state.Account{admin, demo, caffe} {
		createAccount(t, s, a)
	}
	tests := []struct {
		name string
		err  error
	}{
		{"admin", nil},
		{"admin", state.ErrNotFound}, // already deleted
		{"Demo", state.ErrNotFound},  // names are compared exactly
		{"caffe\u0300", state.ErrNotFound},
		{"missing", state.ErrNotFound},
		{"", state.ErrNotFound},
		{"caffè", nil},
	}
	for _, tt := range tests {
		err := s.DeleteAccount(t.Context(), tt.name)
		if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("DeleteAccount(%q): error = %v, want %v", tt.name, err, tt.err)
		}
	}
	checkNoAccount(t, s, admin.Name)
	checkNoAccount(t, s, caffe.Name)
	checkAccount(t, s, demo)
	checkAccounts(t, s, demo)

	// A deleted name can be taken again, by a new account.
	again := newAccount("admin", n.Add(time.Hour))
	createAccount(t, s, again)
	checkAccount(t, s, again)
	checkAccounts(t, s, again, demo)
}

func testMissingAccount(t *testing.T, open func(*testing.T) state.AccountStore) {
	s := open(t)
	for _, name := range []string{"demo", "", "admin"} {
		checkNoAccount(t, s, name) // in an empty store
	}
	createAccount(t, s, newAccount("admin", now()))
	for _, name := range []string{"Admin", "ADMIN", "admin ", " admin", "admi", "admin2", "adm%", "adm_n", ""} {
		checkNoAccount(t, s, name)
	}
}
