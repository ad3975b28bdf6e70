package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestBearerAccessTokensOnly: of the JWTs the real OpenID Provider issues,
// only access tokens (RFC 9068, typ at+jwt) open the drive as Bearer; the
// ID tokens of a sign-in, though signed by the provider for the gateway's
// own client id (the default bearer audience), are refused.
func TestBearerAccessTokensOnly(t *testing.T) {
	const rossiCF = "RSSMRA80A01H223Y"
	addr := harness.FreePort(t)
	base := "http://" + addr
	// The resource's audience is the gateway's client id, which is also the
	// audience of its ID tokens: only the token type tells them apart.
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{
			{ID: "faldone", Secret: "segreto-del-client-faldone-0123456789", RedirectURIs: []string{base + "/_/accedi/ritorno"}},
			{ID: "script", Secret: "segreto-dello-script-0123456789", RedirectURIs: []string{"http://127.0.0.1/cb"}, DefaultResource: "https://faldone.example/dav"},
		},
		Users: []harness.OIDCUser{
			{ID: "rossi", FiscalNumber: "TINIT-" + rossiCF, GivenName: "Mario", FamilyName: "Rossi", Level: harness.SpidL2},
		},
		Resources: []harness.OIDCResource{{Indicator: "https://faldone.example/dav", Audience: "faldone"}},
	})
	g := harness.StartServeOn(t, addr, fmt.Sprintf(`oidc:
  issuer: %s
  client_id: faldone
  redirect_url: %s/_/accedi/ritorno
  min_acr: %s
access:
  assignments:
    - {person: %s, comune: guastalla, role: reader}
`, op.Issuer, base, harness.SpidL2, rossiCF), "FALDONE_OIDC_CLIENT_SECRET=segreto-del-client-faldone-0123456789")

	script := op.Login(t, harness.OIDCLogin{Client: "script", Account: "rossi", Resource: "https://faldone.example/dav"})
	gateway := op.Login(t, harness.OIDCLogin{Client: "faldone", Account: "rossi"})
	if h, _ := harness.DecodeJWT(t, script.AccessToken); h["typ"] != "at+jwt" {
		t.Fatalf("the provider's access token has typ %v, want at+jwt", h["typ"])
	}
	if _, p := harness.DecodeJWT(t, gateway.IDToken); p["aud"] != "faldone" && !audHas(p["aud"], "faldone") {
		t.Fatalf("the gateway's ID token has audience %v, want its client id", p["aud"])
	}
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"access token", script.AccessToken, http.StatusMultiStatus},
		{"ID token of the same sign-in", script.IDToken, http.StatusUnauthorized},
		{"ID token of the gateway's own client", gateway.IDToken, http.StatusUnauthorized},
		{"client credentials, no person", op.ClientCredentials(t, "script", "").AccessToken, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("PROPFIND", g.URL+"/", nil)
			req.Header.Set("Depth", "1")
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("PROPFIND with the %s: %d, want %d", tc.name, resp.StatusCode, tc.want)
			}
		})
	}
	if !strings.Contains(g.Log(), "not an access token") {
		t.Errorf("the refusal of the ID token is not in the log:\n%s", g.Log())
	}
}

func audHas(aud any, want string) bool {
	list, _ := aud.([]any)
	for _, a := range list {
		if a == want {
			return true
		}
	}
	return false
}
