package oidc

import "errors"

// Reasons a sign-in or a Bearer token is refused. Errors returned by this
// package wrap one of them so that the gateway can log the reason and choose
// the page to show; their text never contains tokens, codes or secrets.
var (
	// ErrBadState: the state is unknown, already used or expired.
	ErrBadState = errors.New("oidc: unknown, used or expired state")
	// ErrBadIssuer: the authorization answer names another issuer, or none
	// though the provider names itself in every answer (RFC 9207).
	ErrBadIssuer = errors.New("oidc: authorization answer from another issuer")
	// ErrExchange: the token endpoint did not give tokens for the code.
	ErrExchange = errors.New("oidc: code exchange failed")
	// ErrInvalidToken: a token failed verification (signature, algorithm,
	// issuer, audience, expiry, access token hash).
	ErrInvalidToken = errors.New("oidc: invalid token")
	// ErrBadNonce: the ID token does not carry the nonce of the flow.
	ErrBadNonce = errors.New("oidc: nonce mismatch")
	// ErrACRTooLow: the level of assurance is below the one required.
	ErrACRTooLow = errors.New("oidc: authentication level too low")
	// ErrNoFiscalNumber: neither the token nor userinfo has a fiscal number.
	ErrNoFiscalNumber = errors.New("oidc: no fiscal number")
	// ErrBadFiscalNumber: the fiscal number is not an Italian codice fiscale.
	ErrBadFiscalNumber = errors.New("oidc: malformed fiscal number")
	// ErrUserInfo: the userinfo endpoint failed or answered for someone else.
	ErrUserInfo = errors.New("oidc: userinfo failed")
)
