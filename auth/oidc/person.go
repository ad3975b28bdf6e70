package oidc

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Person is who signed in, as the provider asserts it.
type Person struct {
	// FiscalNumber is the normalized codice fiscale: the key for a person,
	// because SPID's sub differs per provider and per broker.
	FiscalNumber string
	GivenName    string
	FamilyName   string
	Email        string
	Groups       []string
	ACR          string
	// Issuer and Subject are for logs and logout, never for identity.
	Issuer  string
	Subject string
}

// claims is a decoded JSON claim set.
type claims map[string]any

// str returns the claim name as a non-empty string.
func (c claims) str(name string) (string, bool) {
	s, ok := c[name].(string)
	return s, ok && s != ""
}

// lookup returns the first non-empty string claim among names, trying each
// source in turn: a claim missing from the ID token is taken from userinfo.
func lookup(sources []claims, names ...string) (string, bool) {
	for _, c := range sources {
		for _, n := range names {
			if s, ok := c.str(n); ok {
				return s, true
			}
		}
	}
	return "", false
}

// has reports whether name is present in the claim set.
func (c claims) has(name string) bool {
	v, ok := c[name]
	return ok && v != nil && v != ""
}

// complete reports whether c holds every attribute the names point to, so
// that userinfo need not be asked.
func (n ClaimNames) complete(c claims) bool {
	return slices.ContainsFunc(n.FiscalNumber, c.has) &&
		c.has(n.GivenName) && c.has(n.FamilyName) && c.has(n.Email) && c.has(n.Groups)
}

// person reads a Person's attributes from sources, the ID token's first.
// The acr is left out: the caller takes it from the token alone.
func (n ClaimNames) person(sources []claims) (Person, error) {
	raw, ok := lookup(sources, n.FiscalNumber...)
	if !ok {
		return Person{}, fmt.Errorf("%w: none of the claims %q", ErrNoFiscalNumber, n.FiscalNumber)
	}
	fn, err := NormalizeFiscalNumber(raw)
	if err != nil {
		return Person{}, err
	}
	p := Person{FiscalNumber: fn}
	p.GivenName, _ = lookup(sources, n.GivenName)
	p.FamilyName, _ = lookup(sources, n.FamilyName)
	p.Email, _ = lookup(sources, n.Email)
	for _, c := range sources {
		if g, ok := groups(c[n.Groups]); ok {
			p.Groups = g
			break
		}
	}
	return p, nil
}

// groups accepts a list of strings or a single string, as providers differ.
func groups(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil, false
		}
		return []string{v}, true
	case []any:
		var gs []string
		for _, g := range v {
			if s, ok := g.(string); ok && s != "" {
				gs = append(gs, s)
			}
		}
		return gs, len(gs) > 0
	}
	return nil, false
}

var (
	// A person's codice fiscale. Omocodia replaces digits with the letters
	// LMNPQRSTUV, so each digit position accepts them too.
	personCF = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
	// A legal person's fiscal number is its 11-digit VAT-style code.
	legalCF = regexp.MustCompile(`^[0-9]{11}$`)
)

// NormalizeFiscalNumber returns s as the canonical key of a person: without
// SPID's "TINIT-" prefix (any case), upper-case, trimmed. It refuses values
// that do not look like an Italian codice fiscale, which usually means the
// claim names point at the wrong attribute. The check character is not
// verified: the value comes signed from the provider.
func NormalizeFiscalNumber(s string) (string, error) {
	// strings.ToUpper maps some non-ASCII letters onto ASCII ones (ſ to S,
	// ı to I): refuse them, so that two different strings never become one key.
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return "", ErrBadFiscalNumber
		}
	}
	s = strings.TrimSpace(s)
	if len(s) >= len("TINIT-") && strings.EqualFold(s[:len("TINIT-")], "TINIT-") {
		s = s[len("TINIT-"):]
	}
	s = strings.TrimSpace(strings.ToUpper(s))
	if !personCF.MatchString(s) && !legalCF.MatchString(s) {
		// The value is personal data: keep it out of the error.
		return "", ErrBadFiscalNumber
	}
	return s, nil
}

// acrRank returns the position of acr among levels, weakest first, counting
// from 1; an unknown value ranks 0, below all.
func acrRank(levels []string, acr string) int {
	return slices.Index(levels, acr) + 1
}
