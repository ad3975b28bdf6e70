package harness

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	oidcTestResource = "https://faldone.test/dav"
	oidcTestAudience = "faldone-dav"
)

func startTestOIDC(t *testing.T) *OIDCProvider {
	t.Helper()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return StartOIDC(t, OIDCConfig{
		Clients: []OIDCClient{
			{ID: "faldone", Secret: "segreto-di-prova-faldone-0123456789",
				RedirectURIs:           []string{"http://127.0.0.1:1/oidc/callback"},
				PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/"},
				DefaultResource:        oidcTestResource},
			{ID: "faldone-pkjwt", PrivateKey: ecKey, KeyID: "chiave-1",
				RedirectURIs: []string{"http://127.0.0.1:1/oidc/callback"}},
			{ID: "faldone-breve", Secret: "segreto-di-prova-breve-0123456789",
				RedirectURIs:    []string{"http://127.0.0.1:1/oidc/callback"},
				DefaultResource: oidcTestResource, AccessTokenTTL: 2 * time.Second},
		},
		Users: []OIDCUser{
			{ID: "rossi", FiscalNumber: "TINIT-RSSMRA80A01H223Y", GivenName: "Mario", FamilyName: "Rossi",
				Email: "mario.rossi@example.it", Groups: []string{"guastalla"}, Level: SpidL2},
			{ID: "bianchi", FiscalNumber: "TINIT-BNCLRA85M41F205X", GivenName: "Laura", FamilyName: "Bianchi",
				Level: SpidL1},
		},
		Resources: []OIDCResource{{Indicator: oidcTestResource, Audience: oidcTestAudience, Scope: "dav"}},
	})
}

func TestOIDCProvider(t *testing.T) {
	p := startTestOIDC(t)

	var disc map[string]any
	oidcGetJSON(t, p.Issuer+"/.well-known/openid-configuration", "", &disc)
	if disc["issuer"] != p.Issuer {
		t.Errorf("issuer %v, want %s", disc["issuer"], p.Issuer)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
		if s, _ := disc[k].(string); !strings.HasPrefix(s, p.Issuer+"/") {
			t.Errorf("%s = %v", k, disc[k])
		}
	}
	if !oidcHas(disc["code_challenge_methods_supported"], "S256") {
		t.Errorf("code_challenge_methods_supported = %v", disc["code_challenge_methods_supported"])
	}
	for _, acr := range []string{SpidL1, SpidL2, SpidL3} {
		if !oidcHas(disc["acr_values_supported"], acr) {
			t.Errorf("acr_values_supported = %v, want %s", disc["acr_values_supported"], acr)
		}
	}
	if !oidcHas(disc["claims_supported"], FiscalNumberClaim) {
		t.Errorf("claims_supported = %v", disc["claims_supported"])
	}

	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	oidcGetJSON(t, disc["jwks_uri"].(string), "", &jwks)
	if len(jwks.Keys) == 0 || jwks.Keys[0]["kid"] == "" {
		t.Fatalf("jwks: %v", jwks.Keys)
	}

	t.Run("LoginPage", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		sum := sha256.Sum256([]byte("verificatore-di-prova-0123456789-0123456789"))
		q := url.Values{"client_id": {"faldone"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:1/oidc/callback"}, "state": {"s"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		resp, err := hc.Get(p.Issuer + "/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/interaction/") ||
			!strings.Contains(page, `name="login"`) || !strings.Contains(page, `id="entra"`) {
			t.Fatalf("login page %s %s:\n%s", resp.Status, resp.Request.URL, page)
		}
		// Without PKCE the request is refused.
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err = hc.Get(p.Issuer + "/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
			t.Errorf("authorization without PKCE: %s %s", resp.Status, loc)
		}
	})

	t.Run("BearerJWT", func(t *testing.T) {
		tok := p.AccessToken(t, "faldone", "rossi")
		h, c := DecodeJWT(t, tok)
		if h["alg"] != "RS256" || h["typ"] != "at+jwt" {
			t.Errorf("header %v", h)
		}
		oidcVerifyRS256(t, tok, jwks.Keys)
		if c[FiscalNumberClaim] != "TINIT-RSSMRA80A01H223Y" || c["aud"] != oidcTestAudience ||
			c["iss"] != p.Issuer || c["sub"] != "rossi" || c["acr"] != SpidL2 || c["client_id"] != "faldone" {
			t.Errorf("claims %v", c)
		}
		if !oidcHas(c["groups"], "guastalla") {
			t.Errorf("groups %v", c["groups"])
		}
		if ttl := c["exp"].(float64) - c["iat"].(float64); ttl != 300 {
			t.Errorf("lifetime %v s, want 300", ttl)
		}
	})

	t.Run("ShortLived", func(t *testing.T) {
		_, c := DecodeJWT(t, p.AccessToken(t, "faldone-breve", "rossi"))
		if ttl := c["exp"].(float64) - c["iat"].(float64); ttl != 2 {
			t.Errorf("lifetime %v s, want 2", ttl)
		}
	})

	t.Run("IDTokenBelowLevel", func(t *testing.T) {
		// private_key_jwt client, no resource: an opaque access token for
		// userinfo, and the ID token carries acr and the fiscal number.
		tok := p.Login(t, OIDCLogin{Client: "faldone-pkjwt", Account: "bianchi", ACRValues: SpidL2})
		_, id := DecodeJWT(t, tok.IDToken)
		if id["acr"] != SpidL1 || id[FiscalNumberClaim] != "TINIT-BNCLRA85M41F205X" ||
			id["aud"] != "faldone-pkjwt" || id["given_name"] != "Laura" || id["nonce"] == nil {
			t.Errorf("ID token %v", id)
		}
		if strings.Count(tok.AccessToken, ".") == 2 {
			t.Errorf("access token without resource is a JWT: %s", tok.AccessToken)
		}
		var ui map[string]any
		oidcGetJSON(t, disc["userinfo_endpoint"].(string), tok.AccessToken, &ui)
		if ui["sub"] != "bianchi" || ui[FiscalNumberClaim] != "TINIT-BNCLRA85M41F205X" {
			t.Errorf("userinfo %v", ui)
		}
	})

	t.Run("SessionAndLogout", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		first := p.Login(t, OIDCLogin{Client: "faldone", Account: "rossi", Jar: jar})
		// The provider's session signs in again without the login page.
		p.Login(t, OIDCLogin{Client: "faldone", Account: "", Jar: jar})

		hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		q := url.Values{"id_token_hint": {first.IDToken}, "post_logout_redirect_uri": {"http://127.0.0.1:1/"}, "state": {"fine"}}
		resp, err := hc.Get(disc["end_session_endpoint"].(string) + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/>`).FindStringSubmatch(string(b))
		if resp.StatusCode != 200 || m == nil || !strings.Contains(string(b), `id="esci"`) {
			t.Fatalf("logout page %s:\n%s", resp.Status, b)
		}
		// What clicking #esci sends.
		resp, err = hc.PostForm(m[1], url.Values{"xsrf": {m[2]}, "logout": {"yes"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "http://127.0.0.1:1/?state=fine" {
			t.Fatalf("logout answer %s %s", resp.Status, loc)
		}
		// The session is gone: the login page comes back.
		resp, err = hc.Get(p.Issuer + "/auth?" + url.Values{"client_id": {"faldone"}, "response_type": {"code"},
			"scope": {"openid"}, "redirect_uri": {"http://127.0.0.1:1/oidc/callback"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/interaction/") {
			t.Errorf("after logout /auth went to %s", loc)
		}
	})

	t.Run("ClientCredentials", func(t *testing.T) {
		_, c := DecodeJWT(t, p.ClientCredentials(t, "faldone", "").AccessToken)
		if c["sub"] != "faldone" || c["aud"] != oidcTestAudience || c[FiscalNumberClaim] != nil {
			t.Errorf("claims %v", c)
		}
	})
}

func oidcGetJSON(t *testing.T, u, bearer string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", u, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func oidcHas(list any, s string) bool {
	l, _ := list.([]any)
	return slices.Contains(l, any(s))
}

// oidcVerifyRS256 checks tok's signature with the JWKS key its kid names.
func oidcVerifyRS256(t *testing.T, tok string, keys []map[string]string) {
	t.Helper()
	h, _ := DecodeJWT(t, tok)
	for _, k := range keys {
		if k["kid"] != h["kid"] || k["kty"] != "RSA" {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k["n"])
		e, _ := base64.RawURLEncoding.DecodeString(k["e"])
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		i := strings.LastIndex(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		sum := sha256.Sum256([]byte(tok[:i]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("signature: %v", err)
		}
		return
	}
	t.Fatalf("no JWKS key for kid %v", h["kid"])
}
