package auth_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/state/sqlite"
)

// BenchmarkAuthenticateAppPassword measures what authentication adds to one
// WebDAV request that carries an app password: a keyed hash and one indexed
// lookup in the state store (the embedded SQLite), among 1,000 passwords.
// Budget: well under 100 µs.
func BenchmarkAuthenticateAppPassword(b *testing.B) {
	store, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "faldone.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	apps, err := auth.NewAppPasswords(store, make([]byte, 32), log)
	if err != nil {
		b.Fatal(err)
	}
	var secret string
	for i := range 1000 {
		s, _, err := apps.Create(b.Context(), auth.NewAppPassword{Owner: "RSSMRA80A01H223Y", Name: "dispositivo", Expires: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if i == 500 {
			secret = s
		}
	}
	a := &auth.Authenticator{Apps: apps, Throttle: auth.NewThrottle(store), Log: log}
	req := httptest.NewRequest("PROPFIND", "/guastalla/", nil)
	req.SetBasicAuth("RSSMRA80A01H223Y", secret)
	w := httptest.NewRecorder()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Authenticate(w, req); err != nil {
			b.Fatal(err)
		}
	}
}
