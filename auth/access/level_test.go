package access

import (
	"testing"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/oidc"
)

func TestWriteLevel(t *testing.T) {
	for _, tt := range []struct {
		name string
		min  string
		id   auth.Identity
		want bool
	}{
		{"no minimum: a session without a level", "", auth.Identity{Method: "session"}, true},
		{"no minimum: a session at level 1", "", auth.Identity{Method: "session", ACR: oidc.SpidL1}, true},
		{"no minimum: any credential", "", auth.Identity{Method: "bearer"}, true},
		{"session below", oidc.SpidL2, auth.Identity{Method: "session", ACR: oidc.SpidL1}, false},
		{"session at", oidc.SpidL2, auth.Identity{Method: "session", ACR: oidc.SpidL2}, true},
		{"session above", oidc.SpidL2, auth.Identity{Method: "session", ACR: oidc.SpidL3}, true},
		{"a local account's session has no level", oidc.SpidL2, auth.Identity{Method: "session"}, false},
		{"session at an unknown level", oidc.SpidL1, auth.Identity{Method: "session", ACR: "https://example.it/livello-massimo"}, false},
		{"Bearer token below", oidc.SpidL3, auth.Identity{Method: "bearer", ACR: oidc.SpidL2}, false},
		{"Bearer token at", oidc.SpidL3, auth.Identity{Method: "bearer", ACR: oidc.SpidL3}, true},
		{"Bearer token without a level", oidc.SpidL1, auth.Identity{Method: "bearer"}, false},
		{"app password: carries no level", oidc.SpidL3, auth.Identity{Method: "app-password"}, true},
		{"local account over Basic: carries no level", oidc.SpidL3, auth.Identity{Method: "local"}, true},
		{"a credential that reports a level is judged by it", oidc.SpidL2, auth.Identity{Method: "app-password", ACR: oidc.SpidL1}, false},
		{"another way of signing in is bound", oidc.SpidL1, auth.Identity{Method: "certificate"}, false},
		{"no credential is bound", oidc.SpidL1, auth.Identity{}, false},
	} {
		l, err := NewWriteLevel(tt.min)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := l.Allows(tt.id); got != tt.want {
			t.Errorf("%s: min %q, %+v: Allows = %v, want %v", tt.name, tt.min, tt.id, got, tt.want)
		}
	}
	var zero WriteLevel
	if !zero.Allows(auth.Identity{Method: "session"}) {
		t.Error("the zero WriteLevel refuses a write: it sets no minimum")
	}
	for _, bad := range []string{"SpidL2", "2", "https://www.spid.gov.it/SpidL4", " " + oidc.SpidL2} {
		if _, err := NewWriteLevel(bad); err == nil {
			t.Errorf("NewWriteLevel(%q) accepted a minimum that is not a SPID level", bad)
		}
	}
}
