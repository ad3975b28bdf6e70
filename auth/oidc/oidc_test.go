package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

func TestFinish(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		// claims edits the ID token's claims; sign signs them (default:
		// with the provider's published key).
		claims   func(c map[string]any) map[string]any
		sign     func(p *testIdP, c map[string]any) string
		userinfo map[string]any
		want     string // the acr of the Person expected, when wantErr is nil
		wantErr  error
		// userinfo is asked only when the ID token lacks an attribute.
		wantUserInfoCalls int
	}{
		{name: "ok", want: SpidL2},
		{
			name:    "wrong audience",
			claims:  func(c map[string]any) map[string]any { c["aud"] = "another-client"; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name: "authorized party is another client",
			claims: func(c map[string]any) map[string]any {
				c["aud"], c["azp"] = []string{testClientID, "another-client"}, "another-client"
				return c
			},
			wantErr: ErrInvalidToken,
		},
		{
			name:    "wrong issuer",
			claims:  func(c map[string]any) map[string]any { c["iss"] = "https://idp.example"; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "expired token",
			claims:  func(c map[string]any) map[string]any { c["exp"] = time.Now().Add(-time.Minute).Unix(); return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "unknown key id",
			sign:    func(p *testIdP, c map[string]any) string { return signWith(p.keys.stranger, "stranger-1", c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "published key id, other key",
			sign:    func(p *testIdP, c map[string]any) string { return signWith(p.keys.stranger, testKID, c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "alg none",
			sign:    func(_ *testIdP, c map[string]any) string { return unsigned(c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "access token hash mismatch",
			claims:  func(c map[string]any) map[string]any { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA"; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "no subject",
			claims:  func(c map[string]any) map[string]any { return without(c, "sub") },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "wrong nonce",
			claims:  func(c map[string]any) map[string]any { c["nonce"] = "not-the-flows-nonce"; return c },
			wantErr: ErrBadNonce,
		},
		{
			name:    "no nonce",
			claims:  func(c map[string]any) map[string]any { return without(c, "nonce") },
			wantErr: ErrBadNonce,
		},
		{
			name: "missing fiscal number",
			claims: func(c map[string]any) map[string]any {
				return without(c, "https://attributes.eid.gov.it/fiscal_number")
			},
			wantErr:           ErrNoFiscalNumber,
			wantUserInfoCalls: 1,
		},
		{
			name: "malformed fiscal number",
			claims: func(c map[string]any) map[string]any {
				c["https://attributes.eid.gov.it/fiscal_number"] = "mario.rossi"
				return c
			},
			wantErr: ErrBadFiscalNumber,
		},
		{
			name:    "acr below required",
			claims:  func(c map[string]any) map[string]any { c["acr"] = SpidL1; return c },
			wantErr: ErrACRTooLow,
		},
		{
			name:    "acr missing",
			claims:  func(c map[string]any) map[string]any { return without(c, "acr") },
			wantErr: ErrACRTooLow,
		},
		{
			name:    "acr unknown",
			claims:  func(c map[string]any) map[string]any { c["acr"] = "urn:example:loa:high"; return c },
			wantErr: ErrACRTooLow,
		},
		{
			name:   "acr above required",
			claims: func(c map[string]any) map[string]any { c["acr"] = SpidL3; return c },
			want:   SpidL3,
		},
		{
			name:   "no acr required",
			cfg:    func(c *Config) { c.MinACR = "" },
			claims: func(c map[string]any) map[string]any { c["acr"] = SpidL1; return c },
			want:   SpidL1,
		},
		{
			name:   "custom acr levels",
			cfg:    func(c *Config) { c.ACRLevels, c.MinACR = []string{"loa1", "loa2"}, "loa2" },
			claims: func(c map[string]any) map[string]any { c["acr"] = "loa2"; return c },
			want:   "loa2",
		},
		{
			name: "TINIT- prefix and case normalized",
			claims: func(c map[string]any) map[string]any {
				c["https://attributes.eid.gov.it/fiscal_number"] = " tinit-" + strings.ToLower(testCF)
				return c
			},
			want: SpidL2,
		},
		{
			name: "fiscal number from userinfo",
			claims: func(c map[string]any) map[string]any {
				return without(c, "https://attributes.eid.gov.it/fiscal_number")
			},
			userinfo:          map[string]any{"fiscal_number": "TINIT-" + testCF},
			want:              SpidL2,
			wantUserInfoCalls: 1,
		},
		{
			name: "fiscal number from userinfo about another subject",
			claims: func(c map[string]any) map[string]any {
				return without(c, "https://attributes.eid.gov.it/fiscal_number")
			},
			userinfo:          map[string]any{"sub": "someone-else", "fiscal_number": "TINIT-" + testCF},
			wantErr:           ErrUserInfo,
			wantUserInfoCalls: 1,
		},
		{
			name: "attributes renamed by a broker",
			cfg: func(c *Config) {
				c.Claims = ClaimNames{FiscalNumber: []string{"codice_fiscale"}, GivenName: "nome", FamilyName: "cognome", Groups: "ruoli"}
			},
			claims: func(c map[string]any) map[string]any {
				c = without(c, "https://attributes.eid.gov.it/fiscal_number", "given_name", "family_name", "groups")
				c["codice_fiscale"], c["nome"], c["cognome"] = testCF, "Mario", "Rossi"
				c["ruoli"] = "sue-guastalla"
				return c
			},
			want: SpidL2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIdP(t)
			p.userinfo = tc.userinfo
			p.mint = func(nonce string) string {
				c := p.claims(nonce)
				if tc.claims != nil {
					c = tc.claims(c)
				}
				if tc.sign != nil {
					return tc.sign(p, c)
				}
				return p.sign(c)
			}
			rp := newRP(t, p, tc.cfg)

			got, tokens, code, err := login(t, p, rp, NewMemFlowStore(time.Minute))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Finish: got error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				t.Logf("refused: %v", err)
				for _, secret := range []string{code, testSecret} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q reveals a code or secret", err)
					}
				}
			} else {
				if want := mario(p, tc.want); !reflect.DeepEqual(got, want) {
					t.Errorf("Finish: got %+v, want %+v", got, want)
				}
				if time.Until(tokens.Expiry) <= 0 {
					t.Errorf("Finish: tokens %+v lack the ID token's expiry", tokens)
				}
			}
			if p.userinfoCount() != tc.wantUserInfoCalls {
				t.Errorf("userinfo asked %d times, want %d", p.userinfoCount(), tc.wantUserInfoCalls)
			}
		})
	}
}

// RFC 9207: an answer that names another issuer is refused, and so is one
// that names none when the provider says it always does.
func TestFinishIssuer(t *testing.T) {
	tests := []struct {
		name     string
		issParam bool
		iss      func(p *testIdP) string
		wantErr  error
	}{
		{"the provider's own name", true, func(p *testIdP) string { return p.URL() }, nil},
		{"another issuer", true, func(*testIdP) string { return "https://idp.example.org" }, ErrBadIssuer},
		{"another issuer, not advertised", false, func(*testIdP) string { return "https://idp.example.org" }, ErrBadIssuer},
		{"none, though advertised", true, func(*testIdP) string { return "" }, ErrBadIssuer},
		{"none, from a provider that never sends it", false, func(*testIdP) string { return "" }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIdP(t)
			p.issParam = tc.issParam
			rp := newRP(t, p, nil)
			store := NewMemFlowStore(time.Minute)
			authURL, f, _ := rp.Begin(t.Context(), "")
			if err := store.SaveFlow(t.Context(), f.State, f); err != nil {
				t.Fatal(err)
			}
			state, code := p.authorize(authURL)
			_, _, err := rp.Finish(t.Context(), store, state, code, tc.iss(p))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Finish: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// A state works once, for a limited time, and only if it was issued.
func TestFinishState(t *testing.T) {
	tests := []struct {
		name string
		// run returns Finish's error after preparing what the case needs.
		run func(t *testing.T, p *testIdP, rp *RP) error
	}{
		{
			name: "unknown state",
			run: func(t *testing.T, p *testIdP, rp *RP) error {
				authURL, _, _ := rp.Begin(t.Context(), "") // flow not saved
				state, code := p.authorize(authURL)
				_, _, err := rp.Finish(t.Context(), NewMemFlowStore(time.Minute), state, code, "")
				return err
			},
		},
		{
			name: "empty state",
			run: func(t *testing.T, p *testIdP, rp *RP) error {
				_, _, err := rp.Finish(t.Context(), NewMemFlowStore(time.Minute), "", "code", "")
				return err
			},
		},
		{
			name: "replayed state",
			run: func(t *testing.T, p *testIdP, rp *RP) error {
				store := NewMemFlowStore(time.Minute)
				authURL, f, _ := rp.Begin(t.Context(), "")
				if err := store.SaveFlow(t.Context(), f.State, f); err != nil {
					t.Fatal(err)
				}
				state, code := p.authorize(authURL)
				if _, _, err := rp.Finish(t.Context(), store, state, code, ""); err != nil {
					t.Fatalf("first Finish: %v", err)
				}
				_, _, err := rp.Finish(t.Context(), store, state, code, "")
				return err
			},
		},
		{
			// The store keeps flows for a day; the RP accepts them for ten
			// minutes, whatever the store.
			name: "expired flow",
			run: func(t *testing.T, p *testIdP, rp *RP) error {
				store := NewMemFlowStore(24 * time.Hour)
				authURL, f, _ := rp.Begin(t.Context(), "")
				f.Created = f.Created.Add(-11 * time.Minute)
				if err := store.SaveFlow(t.Context(), f.State, f); err != nil {
					t.Fatal(err)
				}
				state, code := p.authorize(authURL)
				_, _, err := rp.Finish(t.Context(), store, state, code, "")
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIdP(t)
			rp := newRP(t, p, nil)
			err := tc.run(t, p, rp)
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("Finish: got error %v, want %v", err, ErrBadState)
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestBegin(t *testing.T) {
	p := newIdP(t)
	rp := newRP(t, p, nil)
	authURL, f, err := rp.Begin(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for param, want := range map[string]string{
		"response_type":         "code",
		"client_id":             testClientID,
		"redirect_uri":          testRedirect,
		"scope":                 "openid profile email",
		"state":                 f.State,
		"nonce":                 f.Nonce,
		"code_challenge_method": "S256",
		"code_challenge":        oauth2.S256ChallengeFromVerifier(f.Verifier),
		"acr_values":            SpidL2,
	} {
		if got := q.Get(param); got != want {
			t.Errorf("auth URL %s = %q, want %q", param, got, want)
		}
	}
	if q.Has("code_verifier") {
		t.Error("auth URL reveals the PKCE verifier")
	}
	if time.Since(f.Created) > time.Minute {
		t.Errorf("flow created at %v", f.Created)
	}
	_, g, _ := rp.Begin(t.Context(), "")
	if g.State == f.State || g.Nonce == f.Nonce || g.Verifier == f.Verifier {
		t.Error("two flows share a random value")
	}
}

// The token endpoint checks the verifier against the challenge of the
// authorization request: a flow with another verifier is refused.
func TestPKCE(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verifier func(f Flow) string
		wantErr  error
	}{
		{name: "verifier matches", verifier: func(f Flow) string { return f.Verifier }},
		{name: "other verifier", verifier: func(Flow) string { return oauth2.GenerateVerifier() }, wantErr: ErrExchange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIdP(t)
			rp := newRP(t, p, nil)
			store := NewMemFlowStore(time.Minute)
			authURL, f, _ := rp.Begin(t.Context(), "")
			f.Verifier = tc.verifier(f)
			if err := store.SaveFlow(t.Context(), f.State, f); err != nil {
				t.Fatal(err)
			}
			state, code := p.authorize(authURL)
			_, _, err := rp.Finish(t.Context(), store, state, code, "")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Finish: got error %v, want %v (provider: %q)", err, tc.wantErr, p.lastRefusal())
			}
			if err != nil {
				t.Logf("refused: %v", err)
			}
		})
	}
}

func TestClientAuth(t *testing.T) {
	k := keys()
	tests := []struct {
		name   string
		method AuthMethod
		cfg    func(*Config)
		pub    crypto.PublicKey
		alg    jose.SignatureAlgorithm
	}{
		{name: "client_secret_basic", method: ClientSecretBasic},
		{name: "client_secret_post", method: ClientSecretPost, cfg: func(c *Config) { c.AuthMethod = ClientSecretPost }},
		{
			name: "private_key_jwt RS256", method: PrivateKeyJWT,
			cfg: func(c *Config) { c.ClientSecret, c.PrivateKey, c.KeyID = "", k.clientRSA, clientKID },
			pub: k.clientRSA.Public(), alg: jose.RS256,
		},
		{
			name: "private_key_jwt ES256", method: PrivateKeyJWT,
			cfg: func(c *Config) { c.ClientSecret, c.PrivateKey, c.KeyID = "", k.clientEC, clientKID },
			pub: k.clientEC.Public(), alg: jose.ES256,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIdP(t)
			p.auth, p.clientKey, p.clientAlg = tc.method, tc.pub, tc.alg
			rp := newRP(t, p, tc.cfg)
			store := NewMemFlowStore(time.Minute)
			// Twice: a second assertion must have its own jti.
			for range 2 {
				if _, _, _, err := login(t, p, rp, store); err != nil {
					t.Fatalf("Finish: %v (provider: %q)", err, p.lastRefusal())
				}
			}
		})
	}

	t.Run("provider refuses", func(t *testing.T) {
		p := newIdP(t)
		p.auth = PrivateKeyJWT
		p.clientKey, p.clientAlg = k.clientEC.Public(), jose.ES256
		// The client signs with a key the provider does not know.
		rp := newRP(t, p, func(c *Config) { c.ClientSecret, c.PrivateKey, c.KeyID = "", k.clientRSA, clientKID })
		_, _, _, err := login(t, p, rp, NewMemFlowStore(time.Minute))
		if !errors.Is(err, ErrExchange) {
			t.Fatalf("Finish: got error %v, want %v", err, ErrExchange)
		}
		if strings.Contains(err.Error(), p.lastRefusal()) {
			t.Errorf("error %q repeats the token endpoint's description", err)
		}
	})
}

func TestVerifyBearer(t *testing.T) {
	const audience = "faldone-dav"
	tests := []struct {
		name    string
		cfg     func(*Config)
		claims  func(c map[string]any) map[string]any
		sign    func(p *testIdP, c map[string]any) string
		want    string // acr of the Person expected, when wantErr is nil
		wantErr error
	}{
		{name: "right audience", want: SpidL2},
		{
			name: "typ application/at+jwt, any case",
			sign: func(p *testIdP, c map[string]any) string {
				return signTyped(p.keys.idp, testKID, "Application/AT+JWT", c)
			},
			want: SpidL2,
		},
		{
			name:    "wrong audience",
			claims:  func(c map[string]any) map[string]any { c["aud"] = testClientID; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "ID token (typ JWT) when no bearer audience is set",
			cfg:     func(c *Config) { c.BearerAudience = "" },
			claims:  func(c map[string]any) map[string]any { c["aud"] = testClientID; return c },
			sign:    func(p *testIdP, c map[string]any) string { return signTyped(p.keys.idp, testKID, "JWT", c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "no typ",
			sign:    func(p *testIdP, c map[string]any) string { return p.sign(c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "at+jwt carrying a nonce",
			claims:  func(c map[string]any) map[string]any { c["nonce"] = "n-0123"; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "no subject",
			claims:  func(c map[string]any) map[string]any { return without(c, "sub") },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "expired",
			claims:  func(c map[string]any) map[string]any { c["exp"] = time.Now().Add(-time.Second).Unix(); return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "wrong issuer",
			claims:  func(c map[string]any) map[string]any { c["iss"] = "https://idp.example"; return c },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "unknown key id",
			sign:    func(p *testIdP, c map[string]any) string { return signWith(p.keys.stranger, "stranger-1", c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "alg none",
			sign:    func(_ *testIdP, c map[string]any) string { return unsigned(c) },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "not a JWT",
			sign:    func(*testIdP, map[string]any) string { return "opaque-access-token" },
			wantErr: ErrInvalidToken,
		},
		{
			name:    "acr below required",
			claims:  func(c map[string]any) map[string]any { c["acr"] = SpidL1; return c },
			wantErr: ErrACRTooLow,
		},
		{
			name:    "no acr when a level is required",
			claims:  func(c map[string]any) map[string]any { return without(c, "acr") },
			wantErr: ErrACRTooLow,
		},
		{
			name:   "no acr when no level is required",
			cfg:    func(c *Config) { c.MinACR = "" },
			claims: func(c map[string]any) map[string]any { return without(c, "acr") },
			want:   "",
		},
		{
			name: "missing fiscal number",
			claims: func(c map[string]any) map[string]any {
				return without(c, "https://attributes.eid.gov.it/fiscal_number")
			},
			wantErr: ErrNoFiscalNumber,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newIdP(t)
			rp := newRP(t, p, func(c *Config) {
				c.BearerAudience = audience
				if tc.cfg != nil {
					tc.cfg(c)
				}
			})
			c := p.claims("")
			c["aud"] = audience
			if tc.claims != nil {
				c = tc.claims(c)
			}
			raw := signTyped(p.keys.idp, testKID, "at+jwt", c)
			if tc.sign != nil {
				raw = tc.sign(p, c)
			}
			got, err := rp.VerifyBearer(t.Context(), raw)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyBearer: got error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				t.Logf("refused: %v", err)
				if strings.Contains(err.Error(), raw) {
					t.Errorf("error %q reveals the token", err)
				}
				return
			}
			if want := mario(p, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("VerifyBearer: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestEndSessionURL(t *testing.T) {
	for _, tc := range []struct {
		name       string
		endSession bool
		redirect   string
		want       url.Values // nil: no URL
	}{
		{
			name: "with return", endSession: true, redirect: "https://faldone.example/bye",
			want: url.Values{"realm": {"bassa"}, "client_id": {testClientID}, "post_logout_redirect_uri": {"https://faldone.example/bye"}},
		},
		{
			name: "without", endSession: true,
			want: url.Values{"realm": {"bassa"}, "client_id": {testClientID}},
		},
		{name: "provider without end_session_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIdP(t)
			p.endSession = tc.endSession
			rp := newRP(t, p, nil)
			got, ok := rp.EndSessionURL(tc.redirect)
			if ok != (tc.want != nil) {
				t.Fatalf("EndSessionURL: ok = %v, URL %q", ok, got)
			}
			if !ok {
				return
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if base := p.URL() + "/logout"; u.Scheme+"://"+u.Host+u.Path != base {
				t.Errorf("EndSessionURL: %q, want it at %q", got, base)
			}
			if !reflect.DeepEqual(u.Query(), tc.want) {
				t.Errorf("EndSessionURL query: got %v, want %v", u.Query(), tc.want)
			}
		})
	}
}

func TestNewRefusesConfig(t *testing.T) {
	p := newIdP(t)
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := keys()
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }},
		{"no client ID", func(c *Config) { c.ClientID = "" }},
		{"no redirect URL", func(c *Config) { c.RedirectURL = "" }},
		{"no credentials", func(c *Config) { c.ClientSecret = "" }},
		{"secret and key", func(c *Config) { c.PrivateKey = k.clientRSA }},
		{"key for a secret method", func(c *Config) { c.ClientSecret, c.PrivateKey, c.AuthMethod = "", k.clientRSA, ClientSecretPost }},
		{"secret for private_key_jwt", func(c *Config) { c.AuthMethod = PrivateKeyJWT }},
		{"unknown method", func(c *Config) { c.AuthMethod = "tls_client_auth" }},
		{"short RSA key", func(c *Config) { c.ClientSecret, c.PrivateKey = "", smallRSA }},
		{"P-384 key", func(c *Config) { c.ClientSecret, c.PrivateKey = "", p384 }},
		{"unranked MinACR", func(c *Config) { c.MinACR = "SpidL2" }},
		{"wrong issuer", func(c *Config) { c.Issuer = p.URL() + "/other" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{
				Issuer:       p.URL(),
				ClientID:     testClientID,
				ClientSecret: testSecret,
				RedirectURL:  testRedirect,
				MinACR:       SpidL2,
			}
			tc.edit(&cfg)
			if _, err := New(t.Context(), cfg); err == nil {
				t.Fatal("New accepted the configuration")
			} else if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func TestNormalizeFiscalNumber(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"RSSMRA85T10A562S", "RSSMRA85T10A562S"},
		{"TINIT-RSSMRA85T10A562S", "RSSMRA85T10A562S"},
		{"tinit-rssmra85t10a562s", "RSSMRA85T10A562S"},
		{"TiNiT-RSSMRA85T10A562S", "RSSMRA85T10A562S"},
		{"  TINIT-RSSMRA85T10A562S\n", "RSSMRA85T10A562S"},
		{"TINIT- RSSMRA85T10A562S", "RSSMRA85T10A562S"},
		{"RSSMRA85T10A56NS", "RSSMRA85T10A56NS"}, // omocodia
		{"RSSMRALRTMLASNMS", "RSSMRALRTMLASNMS"}, // every digit replaced
		{"TINIT-01234567890", "01234567890"},     // legal person
		{"", ""},
		{"TINIT-", ""},
		{"TINITRSSMRA85T10A562S", ""},
		{"RSSMRA85T10A562", ""},
		{"RSSMRA85T10A562SX", ""},
		{"RSSMRA85Z10A562S", ""}, // no month Z
		{"RSSMRA85T10A5A2S", ""}, // A replaces no digit
		{"RSSMR485T10A562S", ""},
		{"0123456789", ""},
		{"rssmra85t10a562ſ", ""}, // ſ upper-cases to S
		{"TINIT-mario.rossi", ""},
	} {
		got, err := NormalizeFiscalNumber(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("NormalizeFiscalNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrBadFiscalNumber) {
			t.Errorf("NormalizeFiscalNumber(%q): error %v, want %v", tc.in, err, ErrBadFiscalNumber)
		}
	}
}

func TestACRRank(t *testing.T) {
	levels := []string{SpidL1, SpidL2, SpidL3}
	for _, tc := range []struct {
		acr, min string
		ok       bool
	}{
		{SpidL1, SpidL2, false},
		{SpidL2, SpidL2, true},
		{SpidL3, SpidL2, true},
		{SpidL3, SpidL3, true},
		{SpidL1, SpidL1, true},
		{"", SpidL1, false},
		{"https://www.spid.gov.it/SpidL4", SpidL1, false},
		{"https://www.spid.gov.it/spidl3", SpidL1, false},
	} {
		if got := acrRank(levels, tc.acr) >= acrRank(levels, tc.min); got != tc.ok {
			t.Errorf("%q at least %q: got %v, want %v", tc.acr, tc.min, got, tc.ok)
		}
	}
}

func TestMemFlowStore(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		saved   *Flow // nil: nothing saved
		takes   int   // how many times TakeFlow is called
		wantErr error // of the last TakeFlow
	}{
		{name: "taken", saved: &Flow{State: "s", Created: now}, takes: 1},
		{name: "taken twice", saved: &Flow{State: "s", Created: now}, takes: 2, wantErr: ErrBadState},
		{name: "expired", saved: &Flow{State: "s", Created: now.Add(-2 * time.Minute)}, takes: 1, wantErr: ErrBadState},
		{name: "never saved", takes: 1, wantErr: ErrBadState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewMemFlowStore(time.Minute)
			if tc.saved != nil {
				if err := s.SaveFlow(t.Context(), "s", *tc.saved); err != nil {
					t.Fatal(err)
				}
			}
			var (
				got Flow
				err error
			)
			for range tc.takes {
				got, err = s.TakeFlow(t.Context(), "s")
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("TakeFlow: got error %v, want %v", err, tc.wantErr)
			}
			if err == nil && got != *tc.saved {
				t.Errorf("TakeFlow: got %+v, want %+v", got, *tc.saved)
			}
		})
	}

	t.Run("state saved twice", func(t *testing.T) {
		s := NewMemFlowStore(time.Minute)
		if err := s.SaveFlow(t.Context(), "s", Flow{State: "s", Created: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFlow(t.Context(), "s", Flow{State: "s", Created: now}); err == nil {
			t.Error("SaveFlow overwrote a flow")
		}
	})

	t.Run("expired flows swept", func(t *testing.T) {
		s := NewMemFlowStore(time.Minute)
		for _, st := range []string{"a", "b"} {
			if err := s.SaveFlow(t.Context(), st, Flow{State: st, Created: now.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		s.nextSweep = time.Time{}
		if err := s.SaveFlow(t.Context(), "c", Flow{State: "c", Created: now}); err != nil {
			t.Fatal(err)
		}
		if len(s.flows) != 1 {
			t.Errorf("%d flows kept, want 1", len(s.flows))
		}
	})
}
