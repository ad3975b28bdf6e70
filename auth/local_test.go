package auth

import (
	"errors"
	"testing"
	"time"
)

func TestLocalAccounts(t *testing.T) {
	h, err := HashPassword("segreta")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewLocalAccounts(map[string]string{"demo": h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pass string
		ok               bool
	}{
		{"right", "demo", "segreta", true},
		{"right again (cached)", "demo", "segreta", true},
		{"wrong password", "demo", "segreto", false},
		{"unknown user", "nessuno", "segreta", false},
		{"empty password", "demo", "", false},
		{"case matters", "Demo", "segreta", false},
	}
	for _, tt := range tests {
		err := a.Verify(t.Context(), tt.user, tt.pass)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify(%q, %q) = %v", tt.name, tt.user, tt.pass, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: error %v is not ErrBadCredentials", tt.name, err)
		}
	}
	// The cache expires.
	a.now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := a.Verify(t.Context(), "demo", "segreta"); err != nil {
		t.Errorf("after cache expiry: %v", err)
	}
}

func TestNewLocalAccountsRefusesBadHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=65536,t=2,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=2,p=2$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, err := NewLocalAccounts(map[string]string{"x": h}, nil); err == nil {
			t.Errorf("hash %q accepted", h)
		}
	}
}
