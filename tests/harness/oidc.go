package harness

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The SPID levels of assurance, as acr values.
const (
	SpidL1 = "https://www.spid.gov.it/SpidL1"
	SpidL2 = "https://www.spid.gov.it/SpidL2"
	SpidL3 = "https://www.spid.gov.it/SpidL3"
)

// FiscalNumberClaim names the person's fiscal number in the provider's ID
// tokens, userinfo answers and access tokens.
const FiscalNumberClaim = "https://attributes.eid.gov.it/fiscal_number"

// OIDCConfig configures the test OpenID Provider (tests/oidcprovider, npm
// oidc-provider). Scopes and the claims they release: openid → sub;
// profile → given_name, family_name, the fiscal number, groups;
// email → email, email_verified; groups → groups. Every released claim is in
// the ID token too, with acr (the account's Level).
type OIDCConfig struct {
	Clients   []OIDCClient
	Users     []OIDCUser
	Resources []OIDCResource

	// AccessTokenTTL is the lifetime of access tokens whose client and
	// resource set none; IDTokenTTL that of ID tokens. Default 5 minutes;
	// whole seconds.
	AccessTokenTTL time.Duration
	IDTokenTTL     time.Duration

	// LogoutAutoSubmit makes the end_session page confirm by itself (with
	// a script); otherwise a browser clicks the button with id "esci".
	LogoutAutoSubmit bool
}

// OIDCClient is a relying party registered with the provider.
type OIDCClient struct {
	ID string
	// Secret is the client secret for client_secret_basic (the default when
	// it is set) or client_secret_post.
	Secret string
	// PrivateKey, an *rsa.PrivateKey (RS256) or P-256 *ecdsa.PrivateKey
	// (ES256), makes it a private_key_jwt client: its public half is
	// registered as the client's jwks, with KeyID as "kid" (default: ID).
	PrivateKey crypto.Signer
	KeyID      string
	// AuthMethod is the token_endpoint_auth_method; default private_key_jwt
	// with PrivateKey, client_secret_basic with Secret, none otherwise.
	AuthMethod string

	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// GrantTypes default to authorization_code and refresh_token, and
	// client_credentials unless AuthMethod is none.
	GrantTypes []string

	// DefaultResource is the indicator of a Resource used when a request
	// names none: the access tokens of the code flow are then JWTs for it
	// (and cannot be used at userinfo). Empty: without a resource parameter
	// the access token is opaque and good for userinfo only.
	DefaultResource string
	// AccessTokenTTL, when set, overrides the resource's for this client.
	AccessTokenTTL time.Duration
}

// OIDCUser is an account that signs in by typing ID on the login page.
type OIDCUser struct {
	ID           string // the accountId and the sub
	FiscalNumber string // e.g. "TINIT-RSSMRA80A01H223Y"
	GivenName    string
	FamilyName   string
	Email        string
	Groups       []string
	// Level is the acr of every sign-in of this account, whatever the
	// request's acr_values ask: SpidL1, SpidL2 (default) or SpidL3.
	Level string
}

// OIDCResource is a resource server (RFC 8707) whose access tokens are
// JWTs signed with the provider's key (header typ "at+jwt"), carrying iss,
// sub, aud, exp, iat, jti, client_id, scope and, for a user, the fiscal
// number, acr and groups.
type OIDCResource struct {
	Indicator string // absolute URI, the "resource" parameter
	Audience  string // the tokens' aud; default Indicator
	Scope     string // space-separated scopes it accepts; default "dav"
	// AccessTokenTTL of its tokens; default OIDCConfig.AccessTokenTTL.
	AccessTokenTTL time.Duration
}

// OIDCProvider is a running test OpenID Provider.
type OIDCProvider struct {
	// Issuer is http://127.0.0.1:PORT; its discovery document is at
	// Issuer + "/.well-known/openid-configuration". Endpoints: /auth,
	// /token, /me (userinfo), /jwks, /session/end, /token/introspection,
	// /token/revocation; the login page is /interaction/UID.
	Issuer     string
	ConfigPath string

	cfg   OIDCConfig
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *SyncBuffer
	done  chan struct{}
}

// OIDCTokens is a token endpoint answer.
type OIDCTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// OIDCLogin is a sign-in that OIDCProvider.Login performs without a
// browser, through the same pages a browser sees.
type OIDCLogin struct {
	Client  string // client ID
	Account string // OIDCUser.ID typed at the login page
	// Scope defaults to "openid profile email groups" plus the resource's
	// scopes when a resource applies.
	Scope string
	// Resource is sent as the resource parameter; default the client's
	// DefaultResource.
	Resource  string
	ACRValues string     // e.g. SpidL2
	Extra     url.Values // more authorization request parameters
	// Jar keeps the provider's cookies (its session); nil means a new one.
	// Pass the same jar to sign in again without the login page or to end
	// the session at /session/end.
	Jar http.CookieJar
}

var oidcReadyRE = regexp.MustCompile(`^oidc-provider listening on (http://127\.0\.0\.1:\d+)$`)

// StartOIDC starts the test OpenID Provider with cfg on a free loopback
// port and stops it when the test ends. It installs the provider's npm
// packages first when they are missing or do not match package-lock.json.
func StartOIDC(t testing.TB, cfg OIDCConfig) *OIDCProvider {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("oidc: node is needed to run the test OpenID Provider: %v", err)
	}
	if err := NpmCI(oidcDir()); err != nil {
		t.Fatal(err)
	}
	// Read here so that go test's cache sees a change to the server.
	if _, err := os.ReadFile(filepath.Join(oidcDir(), "server.mjs")); err != nil {
		t.Fatalf("oidc: %v", err)
	}
	file, err := oidcFileConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "oidc-provider.json")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}

	p := &OIDCProvider{ConfigPath: path, cfg: cfg, log: &SyncBuffer{}, done: make(chan struct{})}
	cmd := exec.Command(node, "server.mjs", "--config", path, "--port", "0", "--watch-stdin")
	cmd.Dir = oidcDir()
	cmd.Stderr = p.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The provider exits when this pipe closes: with Stop, or with us.
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("oidc: start node: %v", err)
	}
	p.cmd = cmd
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := oidcReadyRE.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
				continue
			}
			p.log.Write([]byte("stdout: " + line + "\n"))
		}
	}()
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	select {
	case p.Issuer = <-ready:
	case <-p.done:
		t.Fatalf("oidc: the provider exited before listening (%v):\n%s", cmd.ProcessState, p.Log())
	case <-time.After(90 * time.Second): // node starts slowly on a loaded machine
		t.Fatalf("oidc: the provider did not start listening in 90 s:\n%s", p.Log())
	}
	return p
}

// Stop ends the provider and waits for it.
func (p *OIDCProvider) Stop() {
	if p.cmd == nil {
		return
	}
	p.stdin.Close() // with --watch-stdin, the provider also ends when it closes
	StopProcess(p.cmd.Process, p.done, 10*time.Second)
	p.cmd = nil
}

// Log returns what the provider wrote so far: its warnings, errors and one
// line per request.
func (p *OIDCProvider) Log() string { return p.log.String() }

// Login signs l.Account in to l.Client with the authorization code flow and
// PKCE, filling the provider's login form as a browser would, and returns
// the token endpoint's answer. It fails the test on any error.
func (p *OIDCProvider) Login(t testing.TB, l OIDCLogin) OIDCTokens {
	t.Helper()
	c := p.client(t, l.Client)
	if len(c.RedirectURIs) == 0 {
		t.Fatalf("oidc: client %s has no redirect URI", c.ID)
	}
	redirect := c.RedirectURIs[0]
	resource := l.Resource
	if resource == "" {
		resource = c.DefaultResource
	}
	scope := l.Scope
	if scope == "" {
		scope = "openid profile email groups"
		if r := p.resource(resource); r != nil {
			scope += " " + oidcOr(r.Scope, "dav")
		}
	}
	verifier := oidcRandom()
	challenge := sha256.Sum256([]byte(verifier))
	state := oidcRandom()
	q := url.Values{
		"client_id":             {c.ID},
		"response_type":         {"code"},
		"redirect_uri":          {redirect},
		"scope":                 {scope},
		"state":                 {state},
		"nonce":                 {oidcRandom()},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	if resource != "" {
		q.Set("resource", resource)
	}
	if l.ACRValues != "" {
		q.Set("acr_values", l.ACRValues)
	}
	for k, v := range l.Extra {
		q[k] = v
	}

	jar := l.Jar
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if oidcSameEndpoint(req.URL.String(), redirect) {
				return http.ErrUseLastResponse
			}
			if len(via) > 20 {
				return errors.New("too many redirects")
			}
			return nil
		}}

	resp, body := oidcDo(t, hc, "GET", p.Issuer+"/auth?"+q.Encode(), nil, p)
	// With a session in Jar the provider answers at once; else it shows
	// the login page.
	if resp.StatusCode == http.StatusOK {
		action := regexp.MustCompile(`<form id="accesso" method="post" action="([^"]+)"`).FindStringSubmatch(body)
		if action == nil {
			t.Fatalf("oidc: no login form at %s:\n%s", resp.Request.URL, body)
		}
		loginURL, err := resp.Request.URL.Parse(html.UnescapeString(action[1]))
		if err != nil {
			t.Fatal(err)
		}
		resp, body = oidcDo(t, hc, "POST", loginURL.String(), url.Values{"login": {l.Account}}, p)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !oidcSameEndpoint(loc, redirect) {
		t.Fatalf("oidc: sign-in of %q did not come back to %s: %s %s\n%s\n%s", l.Account, redirect, resp.Status, loc, body, p.Log())
	}
	back, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if e := back.Query().Get("error"); e != "" {
		t.Fatalf("oidc: authorization error %s: %s", e, back.Query().Get("error_description"))
	}
	if back.Query().Get("state") != state {
		t.Fatalf("oidc: state mismatch in %s", loc)
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {back.Query().Get("code")},
		"redirect_uri":  {redirect},
		"code_verifier": {verifier},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	return p.token(t, c, form)
}

// AccessToken signs account in to client (see Login) and returns the
// access token: a JWT for the client's DefaultResource, or for the only
// configured resource, to send as "Authorization: Bearer".
func (p *OIDCProvider) AccessToken(t testing.TB, clientID, account string) string {
	t.Helper()
	resource := p.client(t, clientID).DefaultResource
	if resource == "" && len(p.cfg.Resources) == 1 {
		resource = p.cfg.Resources[0].Indicator
	}
	if resource == "" {
		t.Fatalf("oidc: client %s has no DefaultResource and there is not exactly one resource", clientID)
	}
	tok := p.Login(t, OIDCLogin{Client: clientID, Account: account, Resource: resource}).AccessToken
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("oidc: access token %q is not a JWT", tok)
	}
	return tok
}

// ClientCredentials returns the client_credentials grant's answer for
// resource (default: the client's DefaultResource): a JWT access token
// whose sub is the client ID, with no person in it.
func (p *OIDCProvider) ClientCredentials(t testing.TB, clientID, resource string) OIDCTokens {
	t.Helper()
	c := p.client(t, clientID)
	form := url.Values{"grant_type": {"client_credentials"}}
	if resource == "" {
		resource = c.DefaultResource
	}
	if resource != "" {
		form.Set("resource", resource)
		if r := p.resource(resource); r != nil {
			form.Set("scope", oidcOr(r.Scope, "dav"))
		}
	}
	return p.token(t, c, form)
}

// DecodeJWT returns a JWT's header and payload, unverified.
func DecodeJWT(t testing.TB, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact serialization: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, payload
}

func (p *OIDCProvider) token(t testing.TB, c OIDCClient, form url.Values) OIDCTokens {
	t.Helper()
	method := oidcAuthMethod(c)
	req, err := http.NewRequest("POST", p.Issuer+"/token", nil)
	if err != nil {
		t.Fatal(err)
	}
	switch method {
	case "client_secret_basic":
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case "private_key_jwt":
		a, err := oidcClientAssertion(c, p.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		form.Set("client_id", c.ID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	default:
		form.Set("client_id", c.ID)
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("oidc: token request: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidc: token request: %s %s\n%s", resp.Status, b, p.Log())
	}
	var tok OIDCTokens
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatalf("oidc: token answer %s: %v", b, err)
	}
	return tok
}

func (p *OIDCProvider) client(t testing.TB, id string) OIDCClient {
	t.Helper()
	for _, c := range p.cfg.Clients {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("oidc: no client %q in the configuration", id)
	return OIDCClient{}
}

func (p *OIDCProvider) resource(indicator string) *OIDCResource {
	for i, r := range p.cfg.Resources {
		if r.Indicator == indicator {
			return &p.cfg.Resources[i]
		}
	}
	return nil
}

func oidcDo(t testing.TB, hc *http.Client, method, u string, form url.Values, p *OIDCProvider) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("oidc: %s %s: %v\n%s", method, u, err, p.Log())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// oidcSameEndpoint reports whether u is the redirect URI ref, whatever its
// query.
func oidcSameEndpoint(u, ref string) bool {
	a, err1 := url.Parse(u)
	b, err2 := url.Parse(ref)
	return err1 == nil && err2 == nil && a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path
}

func oidcAuthMethod(c OIDCClient) string {
	switch {
	case c.AuthMethod != "":
		return c.AuthMethod
	case c.PrivateKey != nil:
		return "private_key_jwt"
	case c.Secret != "":
		return "client_secret_basic"
	}
	return "none"
}

// oidcFileConfig renders cfg as the JSON that server.mjs reads
// (tests/oidcprovider/README.md).
func oidcFileConfig(cfg OIDCConfig) ([]byte, error) {
	secs := func(d time.Duration) int {
		if d <= 0 {
			return 0
		}
		return int(max(time.Second, d.Round(time.Second)) / time.Second)
	}
	clients := []map[string]any{}
	for _, c := range cfg.Clients {
		m := map[string]any{
			"client_id":                  c.ID,
			"token_endpoint_auth_method": oidcAuthMethod(c),
			"redirect_uris":              oidcList(c.RedirectURIs),
			"post_logout_redirect_uris":  oidcList(c.PostLogoutRedirectURIs),
			"grant_types":                c.GrantTypes,
		}
		if len(c.GrantTypes) == 0 {
			gt := []string{"authorization_code", "refresh_token"}
			if oidcAuthMethod(c) != "none" {
				gt = append(gt, "client_credentials")
			}
			m["grant_types"] = gt
		}
		if c.Secret != "" {
			m["client_secret"] = c.Secret
		}
		if c.PrivateKey != nil {
			jwk, err := oidcPublicJWK(c.PrivateKey, oidcOr(c.KeyID, c.ID))
			if err != nil {
				return nil, fmt.Errorf("oidc: client %s: %w", c.ID, err)
			}
			m["jwks"] = map[string]any{"keys": []any{jwk}}
		}
		if c.DefaultResource != "" {
			m["default_resource"] = c.DefaultResource
		}
		if s := secs(c.AccessTokenTTL); s > 0 {
			m["access_token_ttl"] = s
		}
		clients = append(clients, m)
	}
	users := map[string]any{}
	for _, u := range cfg.Users {
		m := map[string]any{"acr": oidcOr(u.Level, SpidL2)}
		for k, v := range map[string]string{FiscalNumberClaim: u.FiscalNumber, "given_name": u.GivenName,
			"family_name": u.FamilyName, "email": u.Email} {
			if v != "" {
				m[k] = v
			}
		}
		if u.Groups != nil {
			m["groups"] = u.Groups
		}
		users[u.ID] = m
	}
	resources := []map[string]any{}
	for _, r := range cfg.Resources {
		m := map[string]any{"indicator": r.Indicator, "audience": oidcOr(r.Audience, r.Indicator), "scope": oidcOr(r.Scope, "dav")}
		if s := secs(r.AccessTokenTTL); s > 0 {
			m["access_token_ttl"] = s
		}
		resources = append(resources, m)
	}
	ttl := map[string]int{}
	if s := secs(cfg.AccessTokenTTL); s > 0 {
		ttl["access_token"] = s
	}
	if s := secs(cfg.IDTokenTTL); s > 0 {
		ttl["id_token"] = s
	}
	return json.MarshalIndent(map[string]any{
		"clients": clients, "users": users, "resources": resources, "ttl": ttl,
		"logout_auto_submit": cfg.LogoutAutoSubmit,
	}, "", "  ")
}

func oidcList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func oidcOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func oidcRandom() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func oidcPublicJWK(key crypto.Signer, kid string) (map[string]string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA key is not on P-256")
		}
		pt, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, err
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
			"x": b64(pt[1:33]), "y": b64(pt[33:])}, nil
	}
	return nil, fmt.Errorf("unsupported client key type %T", key)
}

// oidcClientAssertion signs an RFC 7523 client assertion for c.
func oidcClientAssertion(c OIDCClient, issuer string) (string, error) {
	alg := "RS256"
	if _, ok := c.PrivateKey.(*ecdsa.PrivateKey); ok {
		alg = "ES256"
	}
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": oidcOr(c.KeyID, c.ID)})
	payload, _ := json.Marshal(map[string]any{"iss": c.ID, "sub": c.ID, "aud": issuer,
		"jti": oidcRandom(), "iat": now, "exp": now + 60})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	h := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := c.PrivateKey.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:]); err != nil {
			return "", err
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return "", err
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	default:
		return "", fmt.Errorf("unsupported client key type %T", c.PrivateKey)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// oidcDir is the folder of the provider's server.mjs and npm packages.
func oidcDir() string { return filepath.Join(Root(), "tests", "oidcprovider") }
