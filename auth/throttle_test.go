package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/bassareggiana/faldone/state/sqlite"
)

// cheapHash is an argon2id hash with the smallest parameters parseHash
// takes, so that a unit test can check thousands of passwords.
func cheapHash(t *testing.T, password string) string {
	t.Helper()
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, 1, 8, 1, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// throttleFixture is a store shared by replicas (Authenticators), each with
// its own Throttle and LocalAccounts, as processes would have, with the
// accounts alice and bob, an app password of alice's, and Bearer tokens.
type throttleFixture struct {
	replicas []*Authenticator
	appPass  string
}

const (
	alicePass   = "la-parola-di-alice"
	bobPass     = "la-parola-di-bob"
	goodBearer  = "token-valido"
	aliceBearer = "ALICE"
)

func newThrottleFixture(t *testing.T, replicas int) *throttleFixture {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "faldone.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	apps, err := NewAppPasswords(store, make([]byte, 32), log)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := apps.Create(t.Context(), NewAppPassword{Owner: "alice", Name: "PC"})
	if err != nil {
		t.Fatal(err)
	}
	f := &throttleFixture{appPass: secret}
	hashes := map[string]string{"alice": cheapHash(t, alicePass), "bob": cheapHash(t, bobPass)}
	for range replicas {
		local, err := NewLocalAccounts(hashes, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.replicas = append(f.replicas, &Authenticator{
			Local: local, Apps: apps, Throttle: NewThrottle(store), Log: log,
			Bearer: func(ctx context.Context, token string) (Identity, error) {
				if token != goodBearer {
					return Identity{}, errors.New("bad signature")
				}
				return Identity{Name: aliceBearer, Method: "bearer"}, nil
			},
		})
	}
	return f
}

// basic authenticates user and pass from addr through replica i and
// returns the status the middleware would answer with.
func (f *throttleFixture) basic(t *testing.T, i int, addr, user, pass string) int {
	t.Helper()
	r := httptest.NewRequest("PROPFIND", "/", nil)
	r.RemoteAddr = net.JoinHostPort(addr, "40000")
	r.SetBasicAuth(user, pass)
	return f.status(t, i, r)
}

func (f *throttleFixture) bearer(t *testing.T, addr, token string) int {
	t.Helper()
	r := httptest.NewRequest("PROPFIND", "/", nil)
	r.RemoteAddr = net.JoinHostPort(addr, "40000")
	r.Header.Set("Authorization", "Bearer "+token)
	return f.status(t, 0, r)
}

func (f *throttleFixture) status(t *testing.T, i int, r *http.Request) int {
	t.Helper()
	w := httptest.NewRecorder()
	a := f.replicas[i]
	_, err := a.Authenticate(w, r)
	if err == nil {
		return http.StatusOK
	}
	a.refuse(w, r, err)
	if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	return w.Code
}

// forget empties every replica's cache of verified passwords, so that the
// next right password is a slow check again.
func (f *throttleFixture) forget() {
	for _, a := range f.replicas {
		l := a.Local.(*LocalAccounts)
		l.mu.Lock()
		clear(l.cache)
		l.mu.Unlock()
	}
}

// count tallies statuses.
func count(codes ...int) map[int]int {
	m := map[int]int{}
	for _, c := range codes {
		m[c]++
	}
	return m
}

func TestThrottle(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *throttleFixture)
	}{
		{"PairAllowance", func(t *testing.T, f *throttleFixture) {
			var codes []int
			for i := range 15 {
				codes = append(codes, f.basic(t, 0, "10.0.0.1", "alice", fmt.Sprint("sbagliata-", i)))
			}
			if got := count(codes...); got[401] != pairLimit || got[429] != 15-pairLimit {
				t.Errorf("15 guesses from one address: %v, want %d × 401 then 429", codes, pairLimit)
			}
			if c := f.basic(t, 0, "10.0.0.1", "alice", alicePass); c != 429 {
				t.Errorf("right password from the guessing address: %d, want 429", c)
			}
			if c := f.basic(t, 0, "10.0.0.2", "alice", alicePass); c != 200 {
				t.Errorf("right password from another address: %d, want 200", c)
			}
		}},
		{"SimultaneousGuesses", func(t *testing.T, f *throttleFixture) {
			// Counted before the hash: of 200 at once, the pair's
			// allowance is checked, the rest refused.
			codes := make([]int, 200)
			var wg sync.WaitGroup
			for i := range codes {
				wg.Go(func() { codes[i] = f.basic(t, 0, "10.0.0.1", "alice", fmt.Sprint("sbagliata-", i)) })
			}
			wg.Wait()
			if got := count(codes...); got[401] > pairLimit || got[401]+got[429] != len(codes) {
				t.Errorf("200 simultaneous guesses: %v, want at most %d × 401, the rest 429", got, pairLimit)
			}
		}},
		{"DistributedLockOut", func(t *testing.T, f *throttleFixture) {
			// Ten wrong passwords from each of ten addresses, alternately
			// through two replicas sharing the store.
			var codes []int
			for a := range 10 {
				for i := range 10 {
					codes = append(codes, f.basic(t, i%2, fmt.Sprint("10.0.1.", a), "alice", fmt.Sprint("sbagliata-", a, i)))
				}
			}
			// The first 50 checks make the account hot; from then on each
			// address gets pairLimitHot.
			checked := accountLimit + (100-accountLimit)/pairLimit*pairLimitHot
			if got := count(codes...); got[401] != checked || got[429] != 100-checked {
				t.Errorf("100 guesses from 10 addresses on 2 replicas: %v, want %d × 401, the rest 429", got, checked)
			}
			for _, tt := range []struct {
				name, addr, user, pass string
				replica                int
			}{
				{"password from a fresh address", "10.0.2.1", "alice", alicePass, 0},
				{"password from a fresh address, other replica", "10.0.2.2", "alice", alicePass, 1},
				{"app password from a guessing address", "10.0.1.9", "alice", f.appPass, 0},
				{"a colleague's password from a guessing address", "10.0.1.9", "bob", bobPass, 1},
			} {
				if c := f.basic(t, tt.replica, tt.addr, tt.user, tt.pass); c != 200 {
					t.Errorf("%s: %d, want 200", tt.name, c)
				}
			}
			// The owner keeps her allowance from a fresh address even
			// while the account is under attack, a typo included.
			f.forget()
			for i, pass := range []string{"refuso", alicePass} {
				if c := f.basic(t, 0, "10.0.2.3", "alice", pass); c != []int{401, 200}[i] {
					t.Errorf("owner's attempt %d from a fresh address: %d", i, c)
				}
			}
		}},
		{"SuccessClearsPair", func(t *testing.T, f *throttleFixture) {
			// Without the clearing, the pair would use up its allowance
			// in the fourth round.
			for round := range 6 {
				for i := range 2 {
					if c := f.basic(t, round%2, "10.0.0.1", "bob", fmt.Sprint("refuso-", i)); c != 401 {
						t.Fatalf("round %d, typo %d: %d, want 401", round, i, c)
					}
				}
				if c := f.basic(t, 0, "10.0.0.1", "bob", bobPass); c != 200 {
					t.Fatalf("round %d, right password: %d, want 200", round, c)
				}
				f.forget() // next round: a slow check again
			}
		}},
		{"NATColleagues", func(t *testing.T, f *throttleFixture) {
			// One attacker behind the office's address sprays guesses at
			// many accounts: the address is under attack.
			for i := range 12 {
				f.basic(t, 0, "10.0.0.1", fmt.Sprint("RSSMRA80A01H", 100+i), "sbagliata")
			}
			for i := range 30 {
				f.bearer(t, "10.0.0.1", fmt.Sprint("falso-", i))
			}
			if c := f.bearer(t, "10.0.0.1", "falso"); c != 429 {
				t.Errorf("a bad Bearer token from the address: %d, want 429", c)
			}
			if c := f.basic(t, 0, "10.0.0.1", "alice", "fld_falsa"); c != 429 {
				t.Errorf("a bad app password from the address: %d, want 429", c)
			}
			for _, tt := range []struct {
				name string
				code func() int
			}{
				{"valid Bearer token", func() int { return f.bearer(t, "10.0.0.1", goodBearer) }},
				{"app password", func() int { return f.basic(t, 1, "10.0.0.1", "alice", f.appPass) }},
				{"password", func() int { return f.basic(t, 1, "10.0.0.1", "bob", bobPass) }},
				{"password after a typo", func() int {
					if c := f.basic(t, 0, "10.0.0.1", "alice", "refuso"); c != 401 {
						t.Errorf("a colleague's typo: %d, want 401", c)
					}
					return f.basic(t, 0, "10.0.0.1", "alice", alicePass)
				}},
			} {
				if c := tt.code(); c != 200 {
					t.Errorf("a colleague's %s from the address: %d, want 200", tt.name, c)
				}
			}
		}},
		{"IPv6Prefix", func(t *testing.T, f *throttleFixture) {
			// Addresses of one /64 count as one.
			var codes []int
			for i := range pairLimit + 1 {
				codes = append(codes, f.basic(t, 0, fmt.Sprintf("2001:db8::%x", i+1), "alice", "sbagliata"))
			}
			if codes[pairLimit] != 429 {
				t.Errorf("guesses from one /64: %v, want 429 at the end", codes)
			}
			if c := f.basic(t, 0, "2001:db8:0:1::1", "alice", "sbagliata"); c != 401 {
				t.Errorf("a guess from another /64: %d, want 401", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newThrottleFixture(t, 2)) })
	}
}

// TestThrottleSlots: no more than slowChecks hashes run at once; one that
// waits too long is refused with 429 and Retry-After, not run.
func TestThrottleSlots(t *testing.T) {
	f := newThrottleFixture(t, 1)
	th := f.replicas[0].Throttle
	th.wait = 50 * time.Millisecond
	var releases []func()
	for i := range slowChecks {
		release, err := th.Admit(t.Context(), fmt.Sprint("utente-", i), "10.0.0.1")
		if err != nil {
			t.Fatalf("check %d of %d: %v", i, slowChecks, err)
		}
		releases = append(releases, release)
	}
	start := time.Now()
	_, err := th.Admit(t.Context(), "altro", "10.0.0.2")
	var te errThrottled
	if !errors.As(err, &te) || te.wait <= 0 || time.Since(start) < th.wait {
		t.Errorf("a check over the slots: %v after %v, want errThrottled after %v", err, time.Since(start), th.wait)
	}
	if c := f.basic(t, 0, "10.0.0.3", "alice", alicePass); c != 429 {
		t.Errorf("a password while the slots are taken: %d, want 429", c)
	}
	if c := f.basic(t, 0, "10.0.0.3", "alice", f.appPass); c != 200 {
		t.Errorf("an app password while the slots are taken: %d, want 200", c)
	}
	releases[0]()
	if c := f.basic(t, 0, "10.0.0.3", "alice", alicePass); c != 200 {
		t.Errorf("a password once a slot is free: %d, want 200", c)
	}
	releases[1]()
}
