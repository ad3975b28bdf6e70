package auth

import (
	"errors"
	"testing"
	"time"
)

// counting returns an Admit that admits every check and counts them.
func counting(n *int) Admit {
	return func() (func(), error) {
		*n++
		return func() {}, nil
	}
}

func TestLocalAccounts(t *testing.T) {
	h, err := HashPassword("segreta")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewLocalAccounts(map[string]string{"demo": h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// slow: whether the check needs a slow hash, and so is admitted first.
	tests := []struct {
		name, user, pass string
		ok, slow         bool
	}{
		{"right", "demo", "segreta", true, true},
		{"right again (cached)", "demo", "segreta", true, false},
		{"wrong password", "demo", "segreto", false, true},
		{"unknown user", "nessuno", "segreta", false, true},
		{"empty password", "demo", "", false, true},
		{"case matters", "Demo", "segreta", false, true},
	}
	for _, tt := range tests {
		var admitted int
		err := a.Verify(t.Context(), tt.user, tt.pass, counting(&admitted))
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify(%q, %q) = %v", tt.name, tt.user, tt.pass, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: error %v is not ErrBadCredentials", tt.name, err)
		}
		if want := map[bool]int{true: 1, false: 0}[tt.slow]; admitted != want {
			t.Errorf("%s: admitted %d slow checks, want %d", tt.name, admitted, want)
		}
	}
	// A refused check is not run: even the right password is not
	// recognized, and the refusal is the error.
	refused := errors.New("refused")
	a.now = func() time.Time { return time.Now().Add(time.Hour) } // the cache has expired
	for _, user := range []string{"demo", "nessuno"} {
		if err := a.Verify(t.Context(), user, "segreta", func() (func(), error) { return nil, refused }); !errors.Is(err, refused) {
			t.Errorf("Verify(%q) with the check refused: %v, want the refusal", user, err)
		}
	}
	// The cache expires.
	var admitted int
	if err := a.Verify(t.Context(), "demo", "segreta", counting(&admitted)); err != nil || admitted != 1 {
		t.Errorf("after cache expiry: %v, %d slow checks", err, admitted)
	}
}

func TestNewLocalAccountsRefusesBadHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=65536,t=2,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=2,p=2$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, err := NewLocalAccounts(map[string]string{"x": h}, nil); err == nil {
			t.Errorf("hash %q accepted", h)
		}
	}
}
