// Package oidc signs people in through OpenID Connect (SPID, directly or
// through a broker) as a relying party: the authorization code flow with
// PKCE, state and nonce; verification of ID tokens and of JWTs presented as
// Bearer; the person's attributes keyed on the fiscal number; logout.
package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// RP is a relying party of one provider. It is safe for concurrent use.
type RP struct {
	cfg      Config
	provider *gooidc.Provider
	oauth    oauth2.Config
	idTokens *gooidc.IDTokenVerifier
	bearer   *gooidc.IDTokenVerifier
	// endSession is the provider's end_session_endpoint, nil if it has none.
	endSession *url.URL
	// assertions signs private_key_jwt client assertions; nil otherwise.
	assertions jose.Signer
	// issParam: the provider names itself in every authorization answer
	// (RFC 9207), so an answer without its name is refused.
	issParam bool
}

// Tokens are what the gateway learns of a sign-in's tokens. The raw ID
// token is not among them: once verified it is needed no more (logout names
// the client instead of sending it back), and kept it would be a secret at
// rest and in logout URLs.
type Tokens struct {
	// Expiry is the ID token's expiry.
	Expiry time.Time
}

// assertionLifetime is short because a client assertion is used at once;
// it only has to survive clock skew.
const assertionLifetime = time.Minute

// New reads the provider's discovery document and returns a relying party.
func New(ctx context.Context, cfg Config) (*RP, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	rp := &RP{cfg: cfg}
	ctx = rp.clientContext(ctx)
	rp.provider, err = gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}

	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		IssParam   bool     `json:"authorization_response_iss_parameter_supported"`
		JWKS       string   `json:"jwks_uri"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := rp.provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: discovery document: %w", err)
	}
	rp.issParam = meta.IssParam
	if meta.JWKS == "" {
		return nil, errors.New("oidc: discovery document: no jwks_uri")
	}
	if meta.EndSession != "" {
		u, err := url.Parse(meta.EndSession)
		if err != nil || !u.IsAbs() {
			return nil, errors.New("oidc: discovery document: end_session_endpoint is not an absolute URL")
		}
		rp.endSession = u
	}

	endpoint := rp.provider.Endpoint()
	switch cfg.AuthMethod {
	case ClientSecretBasic:
		endpoint.AuthStyle = oauth2.AuthStyleInHeader
	case ClientSecretPost, PrivateKeyJWT:
		// With no secret, oauth2 sends only client_id in the body; the
		// assertion goes alongside it.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	rp.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  cfg.RedirectURL,
		Scopes:       cfg.Scopes,
	}
	if cfg.AuthMethod == PrivateKeyJWT {
		alg, err := signingAlg(cfg.PrivateKey)
		if err != nil {
			return nil, err
		}
		opts := (&jose.SignerOptions{}).WithType("JWT")
		if cfg.KeyID != "" {
			opts = opts.WithHeader("kid", cfg.KeyID)
		}
		rp.assertions, err = jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cfg.PrivateKey}, opts)
		if err != nil {
			return nil, fmt.Errorf("oidc: client assertion signer: %w", err)
		}
	}

	// The verifiers accept the asymmetric algorithms that discovery names
	// (never "none", never a shared secret), and share the provider's keys.
	algs := signingAlgs(meta.Algs)
	keys := newKeySet(meta.JWKS, cfg.HTTPClient, algs)
	rp.idTokens = gooidc.NewVerifier(cfg.Issuer, keys, &gooidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algs})
	rp.bearer = gooidc.NewVerifier(cfg.Issuer, keys, &gooidc.Config{ClientID: cfg.BearerAudience, SupportedSigningAlgs: algs})
	return rp, nil
}

// signingAlgs keeps the algorithms of a discovery document that sign with a
// public key; a provider that names none uses RS256, as OpenID Connect says.
func signingAlgs(advertised []string) []string {
	var out []string
	for _, a := range advertised {
		switch a {
		case gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.ES256, gooidc.ES384, gooidc.ES512,
			gooidc.PS256, gooidc.PS384, gooidc.PS512, gooidc.EdDSA:
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return []string{gooidc.RS256}
	}
	return out
}

// clientContext makes go-oidc and oauth2 use the configured HTTP client.
func (rp *RP) clientContext(ctx context.Context) context.Context {
	if rp.cfg.HTTPClient == nil {
		return ctx
	}
	return gooidc.ClientContext(ctx, rp.cfg.HTTPClient)
}

// Begin starts a sign-in: it returns the URL to redirect the browser to and
// the Flow the caller must save, keyed by f.State, until Finish. hint, when
// not empty, names the identity provider the person chose, for the broker
// (Config.HintParam). The context
// and the error are for requests that later versions may make (pushed
// authorization requests); today Begin makes none.
func (rp *RP) Begin(ctx context.Context, hint string) (authURL string, f Flow, err error) {
	f = Flow{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Created:  time.Now(),
	}
	opts := []oauth2.AuthCodeOption{
		gooidc.Nonce(f.Nonce),
		oauth2.S256ChallengeOption(f.Verifier),
	}
	if len(rp.cfg.ACRValues) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(rp.cfg.ACRValues, " ")))
	}
	if hint != "" && rp.cfg.HintParam != "" {
		opts = append(opts, oauth2.SetAuthURLParam(rp.cfg.HintParam, hint))
	}
	return rp.oauth.AuthCodeURL(f.State, opts...), f, nil
}

// Finish completes a sign-in with the state, code and iss of the provider's
// answer: it takes the flow from store (so each state works once), exchanges
// the code, verifies the ID token, its nonce and its level of assurance, and
// reads the person's attributes from the ID token and, for those missing
// there, from the userinfo endpoint.
func (rp *RP) Finish(ctx context.Context, store FlowStore, state, code, iss string) (Person, Tokens, error) {
	if state == "" {
		return Person{}, Tokens{}, fmt.Errorf("%w: no state in the answer", ErrBadState)
	}
	f, err := store.TakeFlow(ctx, state)
	if err != nil {
		return Person{}, Tokens{}, fmt.Errorf("oidc: taking the flow: %w", err)
	}
	if f.State != state || time.Since(f.Created) > rp.cfg.FlowTTL {
		return Person{}, Tokens{}, fmt.Errorf("%w: the flow has expired", ErrBadState)
	}
	if code == "" {
		return Person{}, Tokens{}, fmt.Errorf("%w: no code in the answer", ErrExchange)
	}
	// RFC 9207: an answer meant for another provider (a mix-up attack) is
	// refused before its code goes anywhere.
	if (iss == "" && rp.issParam) || (iss != "" && iss != rp.cfg.Issuer) {
		return Person{}, Tokens{}, fmt.Errorf("%w: the answer names issuer %q", ErrBadIssuer, iss)
	}

	ctx = rp.clientContext(ctx)
	tok, err := rp.exchange(ctx, code, f.Verifier)
	if err != nil {
		return Person{}, Tokens{}, err
	}
	idt, c, err := rp.verifyIDToken(ctx, tok, f.Nonce)
	if err != nil {
		return Person{}, Tokens{}, err
	}
	// The level of assurance describes this authentication, which only the
	// ID token is bound to: it is never taken from userinfo.
	acr, _ := c.str(rp.cfg.Claims.ACR)
	if err := rp.checkACR(acr); err != nil {
		return Person{}, Tokens{}, err
	}

	sources := []claims{c}
	if !rp.cfg.Claims.complete(c) && rp.provider.UserInfoEndpoint() != "" {
		ui, err := rp.userInfo(ctx, tok, idt.Subject)
		if err != nil {
			return Person{}, Tokens{}, err
		}
		sources = append(sources, ui)
	}
	p, err := rp.cfg.Claims.person(sources)
	if err != nil {
		return Person{}, Tokens{}, err
	}
	p.ACR, p.Issuer, p.Subject = acr, idt.Issuer, idt.Subject
	return p, Tokens{Expiry: idt.Expiry}, nil
}

// exchange trades the code for tokens, proving with the PKCE verifier that
// this client started the flow.
func (rp *RP) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if rp.assertions != nil {
		a, err := rp.clientAssertion(time.Now())
		if err != nil {
			return nil, err
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", a))
	}
	tok, err := rp.oauth.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, exchangeError(err)
	}
	return tok, nil
}

// verifyIDToken verifies the ID token of a token response (OIDC Core
// 3.1.3.7) and returns it parsed and as claims.
func (rp *RP) verifyIDToken(ctx context.Context, tok *oauth2.Token, nonce string) (*gooidc.IDToken, claims, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, fmt.Errorf("%w: the token response has no ID token", ErrInvalidToken)
	}
	idt, err := rp.idTokens.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if idt.Nonce != nonce {
		return nil, nil, ErrBadNonce
	}
	if idt.Subject == "" {
		return nil, nil, fmt.Errorf("%w: the ID token has no subject", ErrInvalidToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	// go-oidc checks only that the client is among the audiences; OIDC Core
	// also wants the authorized party, when named, to be this client.
	if azp, ok := c.str("azp"); ok && azp != rp.cfg.ClientID {
		return nil, nil, fmt.Errorf("%w: issued to another client", ErrInvalidToken)
	}
	return idt, c, nil
}

// exchangeError reports a failed exchange without the token endpoint's body,
// which oauth2's error text includes and which nothing promises is free of
// secrets.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: token endpoint answered %d %q", ErrExchange, status, re.ErrorCode)
	}
	return fmt.Errorf("%w: %w", ErrExchange, err)
}

// clientAssertion returns a signed JWT that authenticates the client at the
// token endpoint (RFC 7523 section 2.2, OIDC Core section 9).
func (rp *RP) clientAssertion(now time.Time) (string, error) {
	c := jwt.Claims{
		Issuer:   rp.cfg.ClientID,
		Subject:  rp.cfg.ClientID,
		Audience: jwt.Audience{rp.oauth.Endpoint.TokenURL},
		ID:       rand.Text(), // unique, so that the provider can refuse a replay
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLifetime)),
	}
	s, err := jwt.Signed(rp.assertions).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("oidc: signing the client assertion: %w", err)
	}
	return s, nil
}

// userInfo asks the userinfo endpoint with the access token of tok.
func (rp *RP) userInfo(ctx context.Context, tok *oauth2.Token, subject string) (claims, error) {
	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	// OIDC Core 5.3.2: a response about another subject must not be used, or
	// a substituted access token could lend someone else's attributes.
	if ui.Subject != subject {
		return nil, fmt.Errorf("%w: the answer is about another subject", ErrUserInfo)
	}
	var c claims
	if err := ui.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	return c, nil
}

// checkACR refuses a level of assurance below MinACR.
func (rp *RP) checkACR(acr string) error {
	if rp.cfg.MinACR == "" {
		return nil
	}
	if acrRank(rp.cfg.ACRLevels, acr) < acrRank(rp.cfg.ACRLevels, rp.cfg.MinACR) {
		return fmt.Errorf("%w: got %q, need %q", ErrACRTooLow, acr, rp.cfg.MinACR)
	}
	return nil
}

// VerifyBearer verifies a JWT access token presented as a Bearer token
// against the provider's keys, with audience BearerAudience, and returns the
// person it names. Only access tokens are accepted, as RFC 9068 marks them
// (header "typ": "at+jwt"): an ID token is proof of a sign-in for this
// client, not a credential for the API, and travels where access tokens do
// not (in logout URLs, in the provider's logs). A token carrying a nonce,
// as ID tokens do, is refused too. The attributes come from the token
// alone: a call to userinfo on every WebDAV request would cost too much.
// With MinACR set, a token without an acr is refused like one below it.
func (rp *RP) VerifyBearer(ctx context.Context, raw string) (Person, error) {
	t, err := rp.bearer.Verify(rp.clientContext(ctx), raw)
	if err != nil {
		return Person{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	// The header was covered by the signature just verified.
	if typ, err := headerType(raw); err != nil || !isAccessTokenType(typ) {
		return Person{}, fmt.Errorf("%w: not an access token (typ %q)", ErrInvalidToken, typ)
	}
	var c claims
	if err := t.Claims(&c); err != nil {
		return Person{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if _, ok := c["nonce"]; ok {
		return Person{}, fmt.Errorf("%w: a token with a nonce is an ID token", ErrInvalidToken)
	}
	if t.Subject == "" {
		return Person{}, fmt.Errorf("%w: the token has no subject", ErrInvalidToken)
	}
	acr, _ := c.str(rp.cfg.Claims.ACR)
	if err := rp.checkACR(acr); err != nil {
		return Person{}, err
	}
	p, err := rp.cfg.Claims.person([]claims{c})
	if err != nil {
		return Person{}, err
	}
	p.ACR, p.Issuer, p.Subject = acr, t.Issuer, t.Subject
	return p, nil
}

// headerType returns the "typ" of a compact JWS's protected header.
func headerType(raw string) (string, error) {
	h, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", err
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		return "", err
	}
	return hdr.Typ, nil
}

// isAccessTokenType reports whether typ names a JWT access token: RFC 9068
// section 2.1, "at+jwt", a media type without its "application/" prefix,
// compared regardless of case.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "at+jwt" || typ == "application/at+jwt"
}

// EndSessionOrigin is the scheme and host of the provider's
// end_session_endpoint, where signing out sends the browser; "" if it has
// none.
func (rp *RP) EndSessionOrigin() string {
	if rp.endSession == nil {
		return ""
	}
	return rp.endSession.Scheme + "://" + rp.endSession.Host
}

// EndSessionURL returns the provider's logout URL (OpenID Connect
// RP-Initiated Logout 1.0) naming this client by client_id, with the return
// address when not empty; false when the provider has no
// end_session_endpoint. It sends no id_token_hint: the specification lets
// client_id stand in for it, and an ID token in a URL would sit in the
// browser's history and the provider's logs. The provider then asks the
// person to confirm the logout.
func (rp *RP) EndSessionURL(postLogoutRedirect string) (string, bool) {
	if rp.endSession == nil {
		return "", false
	}
	u := *rp.endSession
	q := u.Query()
	q.Set("client_id", rp.cfg.ClientID)
	if postLogoutRedirect != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirect)
	}
	u.RawQuery = q.Encode()
	return u.String(), true
}
