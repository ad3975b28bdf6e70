package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
)

// onceStore is the state store's one-time records, and what was saved in
// them.
type onceStore struct {
	inner interface {
		SaveFlow(ctx context.Context, key string, data []byte, expires time.Time) error
		TakeFlow(ctx context.Context, key string, now time.Time) ([]byte, error)
	}
	saved [][]byte
}

func (o *onceStore) SaveFlow(ctx context.Context, key string, data []byte, expires time.Time) error {
	o.saved = append(o.saved, append([]byte(key+"="), data...))
	return o.inner.SaveFlow(ctx, key, data, expires)
}

func (o *onceStore) TakeFlow(ctx context.Context, key string, now time.Time) ([]byte, error) {
	return o.inner.TakeFlow(ctx, key, now)
}

var secretRE = regexp.MustCompile(`id="segreto" readonly value="(fld_[A-Za-z0-9_-]+)"`)

// TestAppPasswordShownOnce: creating an app password is a post that
// redirects (303) to the page that shows its secret; that page shows it
// once: a reload neither makes another password nor shows the secret
// again, and says it was shown. The secret is shown to the session that
// made it only, and the store never holds it readable.
func TestAppPasswordShownOnce(t *testing.T) {
	var (
		apps *auth.AppPasswords
		once *onceStore
	)
	p := newPages(t, func(p *pages, c *Config) {
		var err error
		if apps, err = auth.NewAppPasswords(p.store, bytes.Repeat([]byte{7}, 32), c.Log); err != nil {
			t.Fatal(err)
		}
		once = &onceStore{inner: p.store}
		c.Apps, c.Once = apps, once
		c.Comuni = []Comune{{ID: "guastalla", Name: "Guastalla"}}
	})
	ed := p.signIn("editore")
	create := func(b *person, name string) string {
		t.Helper()
		w := b.do("POST", "/_/password", url.Values{"nome": {name}, "permessi": {"lettura"}, "giorni": {"30"}, "comune": {"guastalla"}}, nil)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, createdPage+"?c=") {
			t.Fatalf("create: %d to %q, want 303 to %s\n%s", w.Code, loc, createdPage, w.Body.String())
		}
		if strings.Contains(w.Body.String(), "fld_") {
			t.Fatal("the post's answer carries the secret")
		}
		return loc
	}
	count := func() int {
		t.Helper()
		list, err := apps.List(t.Context(), "editore")
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	loc := create(ed, "PC ufficio")
	w := ed.do("GET", loc, nil, nil)
	m := secretRE.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("the page after the redirect: %d\n%s", w.Code, w.Body.String())
	}
	secret := m[1]
	if _, err := apps.Verify(t.Context(), "editore", secret); err != nil {
		t.Errorf("the secret shown is not the password's: %v", err)
	}
	body := w.Body.String()
	for _, want := range []string{"PC ufficio", "--vfs-cache-mode writes", `id="esci"`, `id="torna"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page misses %s", want)
		}
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the secret's page may be kept: Cache-Control %q", cc)
	}
	for _, rec := range once.saved {
		if bytes.Contains(rec, []byte(secret)) || bytes.Contains(rec, []byte("PC ufficio")) {
			t.Errorf("the store holds the secret readable: %q", rec)
		}
	}

	// Reloaded: shown already, nothing made.
	for i := 0; i < 2; i++ {
		w = ed.do("GET", loc, nil, nil)
		if w.Code != http.StatusGone || strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), "fld_") ||
			!strings.Contains(w.Body.String(), "già stata mostrata") {
			t.Errorf("reload %d: %d\n%s", i+1, w.Code, w.Body.String())
		}
	}
	if n := count(); n != 1 {
		t.Errorf("%d app passwords after the reloads, want 1", n)
	}

	// Another session of the same person, or a token with another key,
	// shows nothing, and the secret is gone for the one that made it too.
	for _, tt := range []struct {
		name  string
		other *person
		token func(string) string
	}{
		{"another session", p.signIn("editore"), func(l string) string { return l }},
		{"another key", ed, func(l string) string {
			return l[:len(l)-4] + "AAAA"
		}},
		{"no key", ed, func(l string) string { return l[:strings.Index(l, ".")] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loc := create(ed, "PC "+tt.name)
			w := tt.other.do("GET", tt.token(loc), nil, nil)
			if w.Code != http.StatusGone || strings.Contains(w.Body.String(), "fld_") {
				t.Errorf("%d\n%s", w.Code, w.Body.String())
			}
			if tt.name != "no key" {
				if w := ed.do("GET", loc, nil, nil); w.Code != http.StatusGone || strings.Contains(w.Body.String(), "fld_") {
					t.Errorf("taken once, then shown: %d", w.Code)
				}
			}
		})
	}

	// Signed out, the page sends to the sign-in, and back.
	w = (&person{p: p, cookie: &http.Cookie{Name: "altro", Value: "x"}}).do("GET", create(ed, "PC portatile"), nil, nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/_/accedi?dopo=") {
		t.Errorf("signed out: %d %q", w.Code, w.Header().Get("Location"))
	}
}
