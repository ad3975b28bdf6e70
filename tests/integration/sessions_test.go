package integration

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSessionLimits: a session in use outlives sessions.idle however short
// it is, and ends once left idle; a new sign-in in the same browser ends the
// session it replaces; a session whose level of assurance is unknown (a
// local account's) may not make a read-write app password when
// access.min_write_acr is set, as it may not write itself.
func TestSessionLimits(t *testing.T) {
	const idle = 2 * time.Second
	g := harness.StartServe(t, `sessions: {idle: 2s, absolute: 1h}
access:
  min_write_acr: https://www.spid.gov.it/SpidL2
  assignments:
    - {person: tecnico, comune: guastalla, role: editor}
`)
	g.AddUser("tecnico", "password-del-tecnico")
	signedIn := func(b *harness.Browser) bool {
		t.Helper()
		code, body := b.Get("/_/profilo")
		return code == http.StatusOK && strings.Contains(body, "area personale")
	}

	t.Run("in use, it outlives the idle limit; idle, it ends", func(t *testing.T) {
		b := harness.NewBrowser(t, g)
		b.SignIn("tecnico", "password-del-tecnico")
		for end := time.Now().Add(3 * idle); time.Now().Before(end); time.Sleep(idle / 4) {
			if !signedIn(b) {
				t.Fatalf("a session in use ended before %v of use", 3*idle)
			}
		}
		// Left alone for the limit and a little more (the recording's
		// granularity, a tenth of it): it ends.
		time.Sleep(idle + idle/10 + 500*time.Millisecond)
		if signedIn(b) {
			t.Errorf("a session idle for longer than %v is still valid", idle)
		}
	})

	t.Run("a new sign-in ends the previous session", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := *g.Client()
		c.Jar = jar
		base, _ := url.Parse(g.URL)
		// A sign-in page open in a tab from before; the person signs in, then
		// signs in again from it.
		resp, err := c.Get(g.URL + "/_/accedi")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
		if m == nil {
			t.Fatal("no CSRF token on the sign-in page")
		}
		signIn := func() string {
			t.Helper()
			resp, err := c.PostForm(g.URL+"/_/accedi/locale", url.Values{"csrf": {string(m[1])}, "utente": {"tecnico"}, "parola": {"password-del-tecnico"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("sign-in: %d", resp.StatusCode)
			}
			for _, ck := range jar.Cookies(base) {
				if ck.Name == "faldone_sessione" {
					return ck.Value
				}
			}
			t.Fatal("no session cookie after the sign-in")
			return ""
		}
		first := signIn()
		second := signIn()
		if first == second {
			t.Fatal("the second sign-in kept the first session's cookie")
		}
		for _, tc := range []struct {
			name, cookie string
			want         bool
		}{{"first", first, false}, {"second", second, true}} {
			req, _ := http.NewRequest("GET", g.URL+"/_/profilo", nil)
			req.AddCookie(&http.Cookie{Name: "faldone_sessione", Value: tc.cookie})
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.StatusCode == http.StatusOK; got != tc.want {
				t.Errorf("the %s session's cookie: %d, want valid %v", tc.name, resp.StatusCode, tc.want)
			}
		}
	})

	t.Run("an unknown level makes read-only app passwords only", func(t *testing.T) {
		b := harness.NewBrowser(t, g)
		b.SignIn("tecnico", "password-del-tecnico")
		for _, tc := range []struct {
			permessi string
			want     int
		}{{"scrittura", http.StatusForbidden}, {"lettura", http.StatusOK}} {
			b.Get("/_/profilo")
			code, body := b.Post("/_/password", url.Values{"nome": {"PC " + tc.permessi}, "permessi": {tc.permessi}, "giorni": {"30"}})
			if code != tc.want {
				t.Errorf("app password %s from a session of unknown level: %d, want %d\n%.300s", tc.permessi, code, tc.want, body)
			}
			if tc.want == http.StatusForbidden && !strings.Contains(body, "Livello di sicurezza insufficiente") {
				t.Errorf("the refusal does not say why:\n%.300s", body)
			}
		}
	})
}
