package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}

	oidRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA1RSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512RSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519      = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidPSSSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10, 256} // internal: PSS with its digest
	oidPSSSHA384    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10, 384}
	oidPSSSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10, 512}
	errUnknownAlg   = errors.New("signature algorithm not supported")
	errNoCert       = errors.New("the envelope does not carry the signer's certificate")
	errNoAttributes = errors.New("no signed attributes")
)

// digestOf is the hash an algorithm identifier names; 0 when unknown.
func digestOf(oid asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256
	case oid.Equal(oidSHA384):
		return crypto.SHA384
	case oid.Equal(oidSHA512):
		return crypto.SHA512
	case oid.Equal(oidSHA224):
		return crypto.SHA224
	case oid.Equal(oidSHA1):
		return crypto.SHA1
	}
	return 0
}

// Digests reads r through every digest a signer may have used, for a
// document kept apart from its envelope (a .p7s's file, a PDF's signed
// ranges), and returns them by algorithm with the bytes read.
func Digests(r io.Reader) (map[crypto.Hash][]byte, int64, error) {
	algs := []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA224, crypto.SHA1}
	hs := make([]hash.Hash, len(algs))
	ws := make([]io.Writer, len(algs))
	for i, a := range algs {
		hs[i] = a.New()
		ws[i] = hs[i]
	}
	n, err := io.Copy(io.MultiWriter(ws...), r)
	if err != nil {
		return nil, n, err
	}
	out := make(map[crypto.Hash][]byte, len(algs))
	for i, a := range algs {
		out[a] = hs[i].Sum(nil)
	}
	return out, n, nil
}

// pssAlgorithm is the internal identifier of RSASSA-PSS with the digest
// the parameters (or else the signer's digest) give.
func pssAlgorithm(params asn1.RawValue, digest crypto.Hash) asn1.ObjectIdentifier {
	var p struct {
		Hash struct {
			Algorithm asn1.ObjectIdentifier
		} `asn1:"optional,explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(params.FullBytes, &p); err == nil && p.Hash.Algorithm != nil {
		digest = digestOf(p.Hash.Algorithm)
	}
	switch digest {
	case crypto.SHA256:
		return oidPSSSHA256
	case crypto.SHA384:
		return oidPSSSHA384
	case crypto.SHA512:
		return oidPSSSHA512
	}
	return oidRSAPSS
}

// x509Algorithm maps a signer's signature and digest algorithms to the
// one crypto/x509 checks.
func x509Algorithm(sig asn1.ObjectIdentifier, digest crypto.Hash) x509.SignatureAlgorithm {
	rsa := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA1: x509.SHA1WithRSA, crypto.SHA256: x509.SHA256WithRSA,
		crypto.SHA384: x509.SHA384WithRSA, crypto.SHA512: x509.SHA512WithRSA}
	ec := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA1: x509.ECDSAWithSHA1, crypto.SHA256: x509.ECDSAWithSHA256,
		crypto.SHA384: x509.ECDSAWithSHA384, crypto.SHA512: x509.ECDSAWithSHA512}
	switch {
	case sig.Equal(oidRSA):
		return rsa[digest]
	case sig.Equal(oidSHA1RSA):
		return x509.SHA1WithRSA
	case sig.Equal(oidSHA256RSA):
		return x509.SHA256WithRSA
	case sig.Equal(oidSHA384RSA):
		return x509.SHA384WithRSA
	case sig.Equal(oidSHA512RSA):
		return x509.SHA512WithRSA
	case sig.Equal(oidPSSSHA256):
		return x509.SHA256WithRSAPSS
	case sig.Equal(oidPSSSHA384):
		return x509.SHA384WithRSAPSS
	case sig.Equal(oidPSSSHA512):
		return x509.SHA512WithRSAPSS
	case sig.Equal(oidECPublicKey):
		return ec[digest]
	case sig.Equal(oidECDSASHA256):
		return x509.ECDSAWithSHA256
	case sig.Equal(oidECDSASHA384):
		return x509.ECDSAWithSHA384
	case sig.Equal(oidECDSASHA512):
		return x509.ECDSAWithSHA512
	case sig.Equal(oidEd25519):
		return x509.PureEd25519
	}
	return x509.UnknownSignatureAlgorithm
}

// Integrity says whether the document is the one signed.
type Integrity int

const (
	IntegrityUnknown  Integrity = iota // not read yet (skipped), or no digest signed
	IntegrityMatch                     // its digest is the one signed
	IntegrityMismatch                  // changed since it was signed
)

// Trust says whether the certificate chains to a trusted root.
type Trust int

const (
	TrustNoStore   Trust = iota // no trust store configured
	TrustOK                     // chains to a trusted root, valid at the signing time
	TrustUnknownCA              // no chain to a trusted root
	TrustExpired                // outside its validity at the signing time (or now, without one)
	TrustInvalid                // a chain, but refused (a CA that may not sign, a bad signature in it)
	TrustNoCert                 // the envelope does not carry the certificate
)

// Options are what Verify checks against.
type Options struct {
	// Roots are the trusted roots; nil when no trust store is configured.
	Roots *x509.CertPool
	// Intermediates beyond the envelope's own (a trust store's CAs).
	Intermediates []*x509.Certificate
	// Now is the time a signature without a signing time is judged at.
	Now time.Time
	// CRLs are the certificate revocation lists at hand; a certificate
	// whose issuer has none is not checked for revocation.
	CRLs []*x509.RevocationList
	// Version changes whenever the roots or the lists do, so that a
	// verdict kept from before is known to be of other roots.
	Version string
}

// Revocation says what the revocation lists say of the certificate.
type Revocation int

const (
	RevocationUnchecked Revocation = iota // no list of its issuer at hand
	RevocationGood                        // its issuer's list does not name it
	RevocationRevoked                     // revoked before the signature was made
	RevocationLater                       // revoked, after the signature was made
	RevocationStale                       // not named, but the list is past its next update
)

// Result is one signer's verdict.
type Result struct {
	*Signer
	// SignatureErr is why the signature over the signed attributes does
	// not verify with the certificate's key; nil when it does.
	SignatureErr error
	Integrity    Integrity
	Trust        Trust
	TrustErr     error
	// At is the time the certificate was judged at: the signing time, or
	// Options.Now.
	At time.Time
	// ValidAt: the certificate was within its validity at At.
	ValidAt bool
	// CertBound: the signed attributes bind this very certificate (ESS
	// signing-certificate), or do not say; false when they name another.
	CertBound bool
	// Revocation and RevokedAt: what the issuer's revocation list says.
	Revocation Revocation
	RevokedAt  time.Time
}

// Valid reports whether the signer's signature holds in full.
func (r Result) Valid() bool {
	return r.SignatureErr == nil && r.Integrity == IntegrityMatch && r.Trust == TrustOK && r.CertBound &&
		r.Revocation != RevocationRevoked
}

// Verify checks every signer of env. digests are the document's digests
// by algorithm: env.Digests for an attached document that was read, the
// caller's for a detached one, nil when not known yet.
func (env *Envelope) Verify(digests map[crypto.Hash][]byte, opts Options) []Result {
	out := make([]Result, 0, len(env.Signers))
	for i := range env.Signers {
		out = append(out, env.Signers[i].verify(env, digests, opts))
	}
	return out
}

func (s *Signer) verify(env *Envelope, digests map[crypto.Hash][]byte, opts Options) Result {
	res := Result{Signer: s, At: s.SigningTime, CertBound: true}
	if res.At.IsZero() {
		res.At = opts.Now
	}
	if s.Cert == nil {
		res.SignatureErr, res.Trust, res.TrustErr = errNoCert, TrustNoCert, errNoCert
		return res
	}
	res.ValidAt = !res.At.Before(s.Cert.NotBefore) && !res.At.After(s.Cert.NotAfter)
	alg := x509Algorithm(s.sigAlg, s.Digest)
	switch {
	case alg == x509.UnknownSignatureAlgorithm:
		res.SignatureErr = fmt.Errorf("%w: %v", errUnknownAlg, s.sigAlg)
	case s.signedAttrs == nil:
		// Without signed attributes the signature is over the document
		// itself: it can be checked only against its digest, which
		// crypto/x509 does not take; CAdES always signs attributes.
		res.SignatureErr = errNoAttributes
	default:
		res.SignatureErr = s.Cert.CheckSignature(alg, s.signedAttrs, s.signature)
	}
	if d, ok := digests[s.Digest]; ok && s.MessageDigest != nil {
		res.Integrity = IntegrityMismatch
		if bytes.Equal(d, s.MessageDigest) && (s.ContentType == nil || s.ContentType.Equal(env.ContentType)) {
			res.Integrity = IntegrityMatch
		}
	}
	if s.SigningCertHash != nil && s.signingCertAlg != 0 && s.signingCertAlg.Available() {
		h := s.signingCertAlg.New()
		h.Write(s.Cert.Raw)
		res.CertBound = bytes.Equal(h.Sum(nil), s.SigningCertHash)
	}
	var issuer *x509.Certificate
	res.Trust, issuer, res.TrustErr = chain(s.Cert, env.Certificates, res.At, opts)
	if issuer != nil {
		res.Revocation, res.RevokedAt = revocation(s.Cert, issuer, res.At, opts)
	}
	return res
}

// revocation looks the certificate up in its issuer's lists: those whose
// signature the issuer's key verifies.
func revocation(cert, issuer *x509.Certificate, at time.Time, opts Options) (Revocation, time.Time) {
	out := RevocationUnchecked
	for _, l := range opts.CRLs {
		if !bytes.Equal(l.RawIssuer, cert.RawIssuer) || l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range l.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				if e.RevocationTime.After(at) {
					return RevocationLater, e.RevocationTime
				}
				return RevocationRevoked, e.RevocationTime
			}
		}
		switch {
		case !l.NextUpdate.IsZero() && l.NextUpdate.Before(opts.Now):
			if out == RevocationUnchecked {
				out = RevocationStale
			}
		default:
			out = RevocationGood
		}
	}
	return out, time.Time{}
}

// chain judges the certificate's chain to the roots at time at, and
// returns its issuer when the chain holds.
func chain(cert *x509.Certificate, bundled []*x509.Certificate, at time.Time, opts Options) (Trust, *x509.Certificate, error) {
	if opts.Roots == nil {
		if !at.Before(cert.NotBefore) && !at.After(cert.NotAfter) {
			return TrustNoStore, nil, nil
		}
		return TrustExpired, nil, x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}
	}
	inter := x509.NewCertPool()
	for _, c := range bundled {
		inter.AddCert(c)
	}
	for _, c := range opts.Intermediates {
		inter.AddCert(c)
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: opts.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	var inv x509.CertificateInvalidError
	var unk x509.UnknownAuthorityError
	switch {
	case err == nil:
		var issuer *x509.Certificate
		if len(chains) > 0 && len(chains[0]) > 1 {
			issuer = chains[0][1]
		}
		return TrustOK, issuer, nil
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return TrustExpired, nil, err
	case errors.As(err, &unk):
		return TrustUnknownCA, nil, err
	}
	return TrustInvalid, nil, err
}
