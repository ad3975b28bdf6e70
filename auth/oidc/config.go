package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// AuthMethod is how the gateway authenticates itself at the token endpoint,
// named as in the OAuth 2.0 client metadata registry.
type AuthMethod string

const (
	ClientSecretBasic AuthMethod = "client_secret_basic"
	ClientSecretPost  AuthMethod = "client_secret_post"
	PrivateKeyJWT     AuthMethod = "private_key_jwt" // RFC 7523 client assertion
)

// SPID's levels of assurance, lowest first.
const (
	SpidL1 = "https://www.spid.gov.it/SpidL1"
	SpidL2 = "https://www.spid.gov.it/SpidL2"
	SpidL3 = "https://www.spid.gov.it/SpidL3"
)

// SpidLevels returns SPID's levels of assurance, lowest first: the order
// in which sign-ins (MinACR) and writes (auth/access.WriteLevel) rank them.
func SpidLevels() []string { return []string{SpidL1, SpidL2, SpidL3} }

// ClaimNames says where the person's attributes are in the tokens: brokers
// rename them. Empty fields take the defaults in the comments.
type ClaimNames struct {
	// FiscalNumber names are tried in order; default
	// "https://attributes.eid.gov.it/fiscal_number", "fiscal_number", "fiscalNumber".
	FiscalNumber []string
	GivenName    string // default "given_name"
	FamilyName   string // default "family_name"
	Email        string // default "email"
	Groups       string // default "groups"
	ACR          string // default "acr"
}

func (n ClaimNames) withDefaults() ClaimNames {
	if len(n.FiscalNumber) == 0 {
		n.FiscalNumber = []string{"https://attributes.eid.gov.it/fiscal_number", "fiscal_number", "fiscalNumber"}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&n.GivenName, "given_name")
	def(&n.FamilyName, "family_name")
	def(&n.Email, "email")
	def(&n.Groups, "groups")
	def(&n.ACR, "acr")
	return n
}

// Config describes the relying party and the provider it trusts.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// from Issuer + "/.well-known/openid-configuration".
	Issuer   string
	ClientID string

	// The client authenticates with either ClientSecret or PrivateKey.
	ClientSecret string
	// PrivateKey signs client assertions for private_key_jwt: an
	// *rsa.PrivateKey of at least 2048 bits (RS256) or a P-256
	// *ecdsa.PrivateKey (ES256).
	PrivateKey crypto.Signer
	// KeyID is the "kid" of PrivateKey as registered with the provider.
	KeyID string
	// AuthMethod defaults to private_key_jwt when PrivateKey is set and to
	// client_secret_basic otherwise.
	AuthMethod AuthMethod

	RedirectURL string
	// Scopes default to openid, profile, email; openid is always requested.
	Scopes []string
	// ACRValues are requested in the authorization request; they default to
	// MinACR when that is set.
	ACRValues []string
	// HintParam names the authorization request's parameter that tells a
	// broker which identity provider to send the person to (Keycloak's
	// kc_idp_hint, iam-proxy-italia's idp_hint); Begin's hint travels in it.
	HintParam string
	// MinACR is the level of assurance a sign-in must reach; empty means no
	// check. It must be one of ACRLevels.
	MinACR string
	// ACRLevels orders the acr values from weakest to strongest; it defaults
	// to SpidL1, SpidL2, SpidL3. A value not listed ranks below all.
	ACRLevels []string

	// BearerAudience is the audience required of tokens presented as Bearer;
	// empty means ClientID.
	BearerAudience string

	Claims ClaimNames

	// FlowTTL bounds the time between Begin and Finish; default 10 minutes.
	FlowTTL time.Duration
	// HTTPClient makes every request to the provider; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
}

const defaultFlowTTL = 10 * time.Minute

// normalized returns a copy of c with the defaults filled in, or an error
// saying what is wrong with it.
func (c Config) normalized() (Config, error) {
	if c.Issuer == "" || c.ClientID == "" || c.RedirectURL == "" {
		return c, errors.New("oidc: issuer, client ID and redirect URL are required")
	}
	if c.ClientSecret != "" && c.PrivateKey != nil {
		// Refuse rather than guess which one the provider expects.
		return c, errors.New("oidc: set either a client secret or a private key, not both")
	}
	if c.AuthMethod == "" {
		c.AuthMethod = ClientSecretBasic
		if c.PrivateKey != nil {
			c.AuthMethod = PrivateKeyJWT
		}
	}
	switch c.AuthMethod {
	case ClientSecretBasic, ClientSecretPost:
		if c.ClientSecret == "" {
			return c, fmt.Errorf("oidc: %s needs a client secret", c.AuthMethod)
		}
	case PrivateKeyJWT:
		if c.PrivateKey == nil {
			return c, fmt.Errorf("oidc: %s needs a private key", c.AuthMethod)
		}
		if _, err := signingAlg(c.PrivateKey); err != nil {
			return c, err
		}
	default:
		return c, fmt.Errorf("oidc: unsupported client authentication method %q", c.AuthMethod)
	}

	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	} else if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if len(c.ACRLevels) == 0 {
		c.ACRLevels = SpidLevels()
	}
	if c.MinACR != "" {
		if !slices.Contains(c.ACRLevels, c.MinACR) {
			// An unranked minimum would refuse everyone.
			return c, fmt.Errorf("oidc: required acr %q is not among the known levels", c.MinACR)
		}
		if len(c.ACRValues) == 0 {
			c.ACRValues = []string{c.MinACR}
		}
	}
	if c.BearerAudience == "" {
		c.BearerAudience = c.ClientID
	}
	if c.FlowTTL <= 0 {
		c.FlowTTL = defaultFlowTTL
	}
	c.Claims = c.Claims.withDefaults()
	return c, nil
}

// signingAlg picks the client assertion's algorithm from the key type.
func signingAlg(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return "", errors.New("oidc: RSA client key shorter than 2048 bits")
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("oidc: ECDSA client key is not on P-256")
		}
		return jose.ES256, nil
	default:
		return "", fmt.Errorf("oidc: unsupported client key type %T", key)
	}
}
