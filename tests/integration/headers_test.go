package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// formAction is the form-action directive of a Content-Security-Policy.
func formAction(csp string) string {
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "form-action ") {
			return strings.TrimPrefix(d, "form-action ")
		}
	}
	return ""
}

// TestHardeningHeaders: the pages' forms may post to the pages only (and
// signing out may go on to the provider's end-session endpoint); HSTS comes
// with every answer when Faldone serves TLS itself, and never over plain
// HTTP.
func TestHardeningHeaders(t *testing.T) {
	const hsts = "max-age=31536000"
	for _, tc := range []struct {
		name       string
		start      func(t *testing.T) (g *harness.Gateway, formAction string)
		wantHSTS   bool
		wantSecure bool
	}{
		{"plain HTTP", func(t *testing.T) (*harness.Gateway, string) {
			return harness.StartServe(t, ""), "'self'"
		}, false, false},
		{"TLS", func(t *testing.T) (*harness.Gateway, string) {
			dir := t.TempDir()
			if out, err := faldone(t, "", "cert", "--host", "127.0.0.1", "--out", dir); err != nil {
				t.Fatalf("faldone cert: %v\n%s", err, out)
			}
			cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			return harness.StartServeTLS(t, fmt.Sprintf("tls:\n  cert_file: %q\n  key_file: %q\n", cert, key), cert), "'self'"
		}, true, true},
		{"OpenID Provider with end-session endpoint", func(t *testing.T) (*harness.Gateway, string) {
			addr := harness.FreePort(t)
			base := "http://" + addr
			op := harness.StartOIDC(t, harness.OIDCConfig{Clients: []harness.OIDCClient{{ID: "faldone", Secret: "segreto-del-client-faldone-0123456789",
				RedirectURIs: []string{base + "/_/accedi/ritorno"}, PostLogoutRedirectURIs: []string{base + "/_/accedi"}}}})
			yaml := fmt.Sprintf("oidc:\n  issuer: %s\n  client_id: faldone\n  redirect_url: %s/_/accedi/ritorno\n", op.Issuer, base)
			g := harness.StartServeOn(t, addr, yaml, "FALDONE_OIDC_CLIENT_SECRET=segreto-del-client-faldone-0123456789")
			u, err := url.Parse(op.Issuer)
			if err != nil {
				t.Fatal(err)
			}
			return g, "'self' " + u.Scheme + "://" + u.Host
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, wantAction := tc.start(t)
			_, _, page := g.Status("GET", "/_/accedi", nil, "")
			if got := formAction(page.Get("Content-Security-Policy")); got != wantAction {
				t.Errorf("form-action %q, want %q (CSP %q)", got, wantAction, page.Get("Content-Security-Policy"))
			}
			_, _, dav := g.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, "")
			for what, h := range map[string]http.Header{"the sign-in page": page, "a PROPFIND": dav} {
				got := h.Get("Strict-Transport-Security")
				if tc.wantHSTS && got != hsts {
					t.Errorf("%s: Strict-Transport-Security %q, want %q", what, got, hsts)
				}
				if !tc.wantHSTS && got != "" {
					t.Errorf("%s: Strict-Transport-Security %q over plain HTTP", what, got)
				}
			}
		})
	}
}

// TestSignInFormToken: the sign-in form is accepted only with the token of
// its cookie (compared in constant time, as every token is).
func TestSignInFormToken(t *testing.T) {
	g := harness.StartServe(t, "")
	const tok = "gettone-del-modulo-0123456789"
	for _, tc := range []struct {
		name          string
		cookie, field string
		want          int
	}{
		{"no cookie", "", tok, http.StatusForbidden},
		{"empty both", "", "", http.StatusForbidden},
		{"another token", tok, tok + "x", http.StatusForbidden},
		{"shorter token", tok, tok[:10], http.StatusForbidden},
		{"the cookie's token", tok, tok, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"csrf": {tc.field}, "utente": {g.User}, "parola": {g.Pass}}
			req, err := http.NewRequest("POST", g.URL+"/_/accedi/locale", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "faldone_modulo", Value: tc.cookie})
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
