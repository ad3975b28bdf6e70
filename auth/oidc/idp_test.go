package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

const (
	testClientID = "faldone"
	testSecret   = "s3cret-never-logged"
	testRedirect = "https://faldone.example/auth/callback"
	testSub      = "pairwise-7f3a"
	testKID      = "idp-1"
	testCF       = "RSSMRA85T10A562S"
	clientKID    = "faldone-1"
)

type testKeys struct {
	idp       *rsa.PrivateKey // signs the provider's tokens, published as testKID
	stranger  *rsa.PrivateKey // not published: its tokens must be refused
	clientRSA *rsa.PrivateKey
	clientEC  *ecdsa.PrivateKey
}

// keys are generated once: RSA key generation is slow under -race.
var keys = sync.OnceValue(func() testKeys {
	rsaKey := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return testKeys{idp: rsaKey(), stranger: rsaKey(), clientRSA: rsaKey(), clientEC: ec}
})

// grant is what the provider remembers of an authorization request.
type grant struct {
	nonce, challenge, method, redirect string
}

// testIdP is an OpenID provider: go-oidc's oidctest serves discovery and
// keys; this adds the token, userinfo and logout endpoints.
type testIdP struct {
	t    *testing.T
	srv  *httptest.Server
	keys testKeys

	mu sync.Mutex
	// Set by tests before use.
	endSession bool                      // advertise end_session_endpoint
	issParam   bool                      // advertise that answers carry iss (RFC 9207)
	auth       AuthMethod                // how the token endpoint authenticates the client
	clientKey  crypto.PublicKey          // for private_key_jwt
	clientAlg  jose.SignatureAlgorithm   // for private_key_jwt
	mint       func(nonce string) string // makes the ID token for a grant
	userinfo   map[string]any            // userinfo claims besides sub
	// Kept by the provider.
	grants        map[string]grant
	accessTokens  map[string]bool
	jtis          map[string]bool
	refusal       string // why the token endpoint last refused
	userinfoCalls int
}

func newIdP(t *testing.T) *testIdP {
	t.Helper()
	p := &testIdP{
		t:            t,
		keys:         keys(),
		endSession:   true,
		auth:         ClientSecretBasic,
		grants:       make(map[string]grant),
		accessTokens: make(map[string]bool),
		jtis:         make(map[string]bool),
	}
	o := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{
		PublicKey: p.keys.idp.Public(), KeyID: testKID, Algorithm: gooidc.RS256,
	}}}
	mux := http.NewServeMux()
	mux.Handle("/", o)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.serveDiscovery(w, r, o)
	})
	mux.HandleFunc("POST /token", p.serveToken)
	mux.HandleFunc("GET /userinfo", p.serveUserInfo)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	o.SetIssuer(p.srv.URL)
	p.mint = func(nonce string) string { return p.sign(p.claims(nonce)) }
	return p
}

func (p *testIdP) URL() string { return p.srv.URL }

func (p *testIdP) userinfoCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userinfoCalls
}

func (p *testIdP) lastRefusal() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusal
}

// serveDiscovery adds to oidctest's document the endpoints it lacks.
func (p *testIdP) serveDiscovery(w http.ResponseWriter, r *http.Request, o http.Handler) {
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc["userinfo_endpoint"] = p.URL() + "/userinfo"
	p.mu.Lock()
	if p.endSession {
		doc["end_session_endpoint"] = p.URL() + "/logout?realm=bassa"
	}
	if p.issParam {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

// authorize plays the browser and the person at the authorization endpoint:
// it remembers the request and returns the answer's state and code.
func (p *testIdP) authorize(authURL string) (state, code string) {
	p.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		p.t.Fatalf("auth URL: %v", err)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != testClientID {
		p.t.Fatalf("auth URL: response_type %q client_id %q", q.Get("response_type"), q.Get("client_id"))
	}
	code = rand.Text()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grants[code] = grant{
		nonce:     q.Get("nonce"),
		challenge: q.Get("code_challenge"),
		method:    q.Get("code_challenge_method"),
		redirect:  q.Get("redirect_uri"),
	}
	return q.Get("state"), code
}

func (p *testIdP) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	refuse := func(code string, reason error) {
		p.refusal = reason.Error()
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": p.refusal})
	}
	f := r.PostForm
	if err := p.checkClient(r); err != nil {
		refuse("invalid_client", err)
		return
	}
	g, ok := p.grants[f.Get("code")]
	delete(p.grants, f.Get("code"))
	switch {
	case f.Get("grant_type") != "authorization_code":
		refuse("unsupported_grant_type", errors.New("grant_type"))
	case !ok:
		refuse("invalid_grant", errors.New("unknown code"))
	case f.Get("redirect_uri") != g.redirect:
		refuse("invalid_grant", errors.New("redirect_uri differs"))
	case g.method != "S256" || oauth2.S256ChallengeFromVerifier(f.Get("code_verifier")) != g.challenge:
		refuse("invalid_grant", errors.New("PKCE verifier does not match the challenge"))
	default:
		at := rand.Text()
		p.accessTokens[at] = true
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": at,
			"token_type":   "Bearer",
			"expires_in":   300,
			"id_token":     p.mint(g.nonce),
		})
	}
}

// checkClient authenticates the client by the configured method, refusing
// any credential another method would send.
func (p *testIdP) checkClient(r *http.Request) error {
	f := r.PostForm
	if id := f.Get("client_id"); id != "" && id != testClientID {
		return fmt.Errorf("client_id %q", id)
	}
	id, secret, basic := r.BasicAuth()
	switch p.auth {
	case ClientSecretBasic:
		if !basic || id != testClientID || secret != testSecret {
			return errors.New("no or wrong basic credentials")
		}
		if f.Has("client_secret") || f.Has("client_assertion") {
			return errors.New("credentials in the body too")
		}
	case ClientSecretPost:
		if basic || f.Get("client_id") != testClientID || f.Get("client_secret") != testSecret {
			return errors.New("no or wrong credentials in the body")
		}
	case PrivateKeyJWT:
		if basic || f.Has("client_secret") {
			return errors.New("a secret was sent")
		}
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return fmt.Errorf("client_assertion_type %q", f.Get("client_assertion_type"))
		}
		return p.checkAssertion(f.Get("client_assertion"))
	}
	return nil
}

// checkAssertion verifies a private_key_jwt client assertion (RFC 7523 3).
func (p *testIdP) checkAssertion(raw string) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{p.clientAlg})
	if err != nil {
		return fmt.Errorf("assertion: %w", err)
	}
	if h := tok.Headers[0]; h.KeyID != clientKID {
		return fmt.Errorf("assertion kid %q", h.KeyID)
	}
	var c jwt.Claims
	if err := tok.Claims(p.clientKey, &c); err != nil {
		return fmt.Errorf("assertion signature: %w", err)
	}
	tokenURL := p.URL() + "/token"
	err = c.ValidateWithLeeway(jwt.Expected{
		Issuer:      testClientID,
		Subject:     testClientID,
		AnyAudience: jwt.Audience{tokenURL},
		Time:        time.Now(),
	}, 0)
	if err != nil {
		return fmt.Errorf("assertion claims: %w", err)
	}
	if c.Expiry == nil || c.IssuedAt == nil || c.Expiry.Time().Sub(c.IssuedAt.Time()) > 5*time.Minute {
		return errors.New("assertion lifetime missing or too long")
	}
	if c.ID == "" || p.jtis[c.ID] {
		return errors.New("assertion jti missing or replayed")
	}
	p.jtis[c.ID] = true
	return nil
}

func (p *testIdP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfoCalls++
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !p.accessTokens[at] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	doc := map[string]any{"sub": testSub}
	maps.Copy(doc, p.userinfo)
	writeJSON(w, http.StatusOK, doc)
}

// claims returns a complete set of ID token claims for Mario Rossi.
func (p *testIdP) claims(nonce string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":         p.URL(),
		"aud":         testClientID,
		"sub":         testSub,
		"iat":         now.Unix(),
		"exp":         now.Add(5 * time.Minute).Unix(),
		"acr":         SpidL2,
		"given_name":  "Mario",
		"family_name": "Rossi",
		"email":       "mario.rossi@example.it",
		"groups":      []any{"sue-guastalla"},
		"https://attributes.eid.gov.it/fiscal_number": "TINIT-" + testCF,
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return c
}

// sign signs claims with the provider's published key.
func (p *testIdP) sign(c map[string]any) string {
	return signWith(p.keys.idp, testKID, c)
}

func signWith(key crypto.PrivateKey, kid string, c map[string]any) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return oidctest.SignIDToken(key, kid, gooidc.RS256, string(b))
}

// signTyped signs claims as a JWT whose header has the given typ, as
// RFC 9068's access tokens ("at+jwt") have.
func signTyped(key crypto.Signer, kid, typ string, c map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", kid))
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	jws, err := s.Sign(b)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

// unsigned returns claims as a JWT with "alg": "none".
func unsigned(c map[string]any) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(b) + "."
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newRP returns a relying party of p, with a client secret and SpidL2
// required, changed by edit when not nil.
func newRP(t *testing.T, p *testIdP, edit func(*Config)) *RP {
	t.Helper()
	cfg := Config{
		Issuer:       p.URL(),
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RedirectURL:  testRedirect,
		MinACR:       SpidL2,
		HTTPClient:   p.srv.Client(),
	}
	if edit != nil {
		edit(&cfg)
	}
	rp, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rp
}

// login runs a whole sign-in and returns Finish's result and the code used.
func login(t *testing.T, p *testIdP, rp *RP, store FlowStore) (Person, Tokens, string, error) {
	t.Helper()
	authURL, f, err := rp.Begin(t.Context(), "")
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := store.SaveFlow(t.Context(), f.State, f); err != nil {
		t.Fatalf("SaveFlow: %v", err)
	}
	state, code := p.authorize(authURL)
	person, tokens, err := rp.Finish(t.Context(), store, state, code, "")
	return person, tokens, code, err
}

// mario is the person the default claims describe.
func mario(p *testIdP, acr string) Person {
	return Person{
		FiscalNumber: testCF,
		GivenName:    "Mario",
		FamilyName:   "Rossi",
		Email:        "mario.rossi@example.it",
		Groups:       []string{"sue-guastalla"},
		ACR:          acr,
		Issuer:       p.URL(),
		Subject:      testSub,
	}
}

func without(c map[string]any, names ...string) map[string]any {
	c = maps.Clone(c)
	for _, n := range names {
		delete(c, n)
	}
	return c
}
