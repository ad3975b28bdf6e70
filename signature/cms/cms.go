// Package cms reads CMS SignedData (RFC 5652), the envelope of CAdES
// signatures (.p7m, .p7s) and of the signatures inside PDFs, as a stream:
// the signed document passes through to the caller, hashed on the way,
// and is never held; over a stream that seeks, it is skipped, so that the
// signers of an envelope of hundreds of megabytes are read in a few
// requests. Verify then checks each signer: the signature over its signed
// attributes, the document's digest, and the certificate's chain to
// trusted roots at the time of signing.
package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"time"

	_ "crypto/sha1" // digests the envelopes name
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Object identifiers of RFC 5652 and RFC 5035 used here.
var (
	oidSignedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertV2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSigningCert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	derSignedDataPrefix = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
)

// Envelope is what one SignedData holds, but the document itself.
type Envelope struct {
	// ContentType is the signed document's type: id-data for a file.
	ContentType asn1.ObjectIdentifier
	// Detached: the envelope holds no document (a .p7s, a PDF's
	// signature); its digest comes from elsewhere.
	Detached bool
	// Digests of the document as it passed, by algorithm: nil when it was
	// skipped or is detached.
	Digests map[crypto.Hash][]byte
	// ContentLength is the document's size as it passed or was skipped.
	ContentLength int64
	// ContentOffset is where the document lies in the stream when it is
	// one piece (a primitive OCTET STRING); -1 when it is cut into chunks.
	ContentOffset int64
	Certificates  []*x509.Certificate
	Signers       []Signer
}

// Signer is one SignerInfo.
type Signer struct {
	Digest crypto.Hash // 0: an algorithm not known here
	// Cert is the signer's certificate among the envelope's; nil when the
	// envelope does not carry it.
	Cert        *x509.Certificate
	SigningTime time.Time // zero when the signed attributes give none
	// MessageDigest is the document's digest the signer signed; nil
	// without signed attributes.
	MessageDigest []byte
	// ContentType is the signed contentType attribute.
	ContentType asn1.ObjectIdentifier
	// SigningCertHash is the hash of the certificate the ESS signing-
	// certificate attribute binds (CAdES), nil when absent.
	SigningCertHash []byte
	signingCertAlg  crypto.Hash
	signedAttrs     []byte // DER, tagged as a SET, as signed
	sigAlg          asn1.ObjectIdentifier
	signature       []byte
	sid             asn1.RawValue
}

// Parse reads the envelope from src. When content is not nil it gets the
// signed document as a stream, and must read it (what it leaves is read
// after it); otherwise the document is skipped where src seeks, or read
// and digested. An envelope inside the document is the caller's to read.
func Parse(src io.Reader, content func(io.Reader) error) (*Envelope, error) {
	return ParseWith(src, content, ParseOptions{})
}

// ParseOptions change what Parse does on the way.
type ParseOptions struct {
	// NoDigests: the document is not digested (Envelope.Digests stays
	// nil), for a reader that only wants it out of the envelope.
	NoDigests bool
	// ContentOnly: ParseWith returns once the document has passed, the
	// certificates and signers not read (Envelope.Signers stays empty).
	ContentOnly bool
}

// ParseWith is Parse with options.
func ParseWith(src io.Reader, content func(io.Reader) error, po ParseOptions) (*Envelope, error) {
	r := newReader(src)
	env := &Envelope{ContentOffset: -1}
	if _, err := r.expect(tagSequence); err != nil {
		return nil, err
	}
	var oid asn1.ObjectIdentifier
	if err := r.object(tagOID, &oid); err != nil {
		return nil, err
	}
	if !oid.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: not a SignedData but %v", ErrMalformed, oid)
	}
	if _, err := r.expect(tagContext0); err != nil {
		return nil, err
	}
	sd, err := r.expect(tagSequence)
	if err != nil {
		return nil, err
	}
	sdEnd := r.end(sd)
	var version int
	if err := r.object(tagInteger, &version); err != nil {
		return nil, err
	}
	var algs []pkix.AlgorithmIdentifier
	if err := r.object(tagSet, &algs, "set"); err != nil {
		return nil, err
	}
	hashes := map[crypto.Hash]hash.Hash{}
	if !po.NoDigests && !po.ContentOnly {
		hashes[crypto.SHA256] = crypto.SHA256.New()
		for _, a := range algs {
			if h := digestOf(a.Algorithm); h != 0 {
				hashes[h] = h.New()
			}
		}
	}
	if err := r.encapsulated(env, hashes, content); err != nil {
		return nil, err
	}
	if po.ContentOnly {
		return env, nil
	}
	budget := maxElement
	for {
		ok, err := r.more(sdEnd)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		h, err := r.header()
		if err != nil {
			return nil, err
		}
		switch h.id {
		case tagContext0: // certificates, [0] IMPLICIT SET OF
			b, err := r.element(h, &budget, 0)
			if err != nil {
				return nil, err
			}
			env.Certificates = certificates(b)
		case tagContext1, 0xa1 &^ constructedBit: // crls: not read here
			if err := r.skipElement(h, 0); err != nil {
				return nil, err
			}
		case tagSet:
			b, err := r.element(h, &budget, 0)
			if err != nil {
				return nil, err
			}
			if env.Signers, err = signers(b, env.Certificates); err != nil {
				return nil, err
			}
			// What follows the signers (the end markers) is not needed.
			return env, nil
		default:
			return nil, fmt.Errorf("%w: tag %#x in the signed data", ErrMalformed, h.id)
		}
	}
	return nil, fmt.Errorf("%w: no signer infos", ErrMalformed)
}

// expect reads a header that must have the identifier id.
func (r *reader) expect(id byte) (header, error) {
	h, err := r.header()
	if err != nil {
		return h, err
	}
	if h.id != id {
		return h, fmt.Errorf("%w: tag %#x where %#x belongs, at byte %d", ErrMalformed, h.id, id, r.pos)
	}
	return h, nil
}

// object reads a small element with the identifier id into v.
func (r *reader) object(id byte, v any, params ...string) error {
	h, err := r.expect(id)
	if err != nil {
		return err
	}
	budget := 64 << 10
	b, err := r.element(h, &budget, 0)
	if err != nil {
		return err
	}
	p := ""
	if len(params) > 0 {
		p = params[0]
	}
	if rest, err := asn1.UnmarshalWithParams(b, v, p); err != nil || len(rest) > 0 {
		return fmt.Errorf("%w: element %#x: %v", ErrMalformed, id, err)
	}
	return nil
}

// encapsulated reads the EncapsulatedContentInfo, passing the document
// through the hashes, and content when asked.
func (r *reader) encapsulated(env *Envelope, hashes map[crypto.Hash]hash.Hash, content func(io.Reader) error) error {
	eci, err := r.expect(tagSequence)
	if err != nil {
		return err
	}
	end := r.end(eci)
	if err := r.object(tagOID, &env.ContentType); err != nil {
		return err
	}
	ok, err := r.more(end)
	if err != nil {
		return err
	}
	if !ok {
		env.Detached = true
		return nil
	}
	x, err := r.expect(tagContext0)
	if err != nil {
		return err
	}
	xEnd := r.end(x)
	h, err := r.header()
	if err != nil {
		return err
	}
	start := r.pos
	o, err := newOctets(r, h)
	if err != nil {
		return err
	}
	if h.id == tagOctetString {
		env.ContentOffset = start
	}
	if content == nil && o.skippable() {
		if err := o.skipAll(); err != nil {
			return err
		}
		env.ContentLength = r.pos - start
		if env.ContentOffset < 0 {
			env.ContentLength = -1 // chunk headers included: unknown
		}
	} else {
		ws := make([]io.Writer, 0, len(hashes))
		for _, hh := range hashes {
			ws = append(ws, hh)
		}
		cr := &countingReader{r: o}
		if len(ws) > 0 {
			cr.r = io.TeeReader(o, io.MultiWriter(ws...))
		}
		if content != nil {
			if err := content(cr); err != nil {
				return err
			}
		}
		if _, err := io.Copy(io.Discard, cr); err != nil {
			return err
		}
		env.ContentLength = cr.n
		if len(hashes) > 0 {
			env.Digests = map[crypto.Hash][]byte{}
			for k, hh := range hashes {
				env.Digests[k] = hh.Sum(nil)
			}
		}
	}
	for _, e := range []int64{xEnd, end} {
		if ok, err := r.more(e); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("%w: more than the content in its info", ErrMalformed)
			}
			return err
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// certificates parses the [0] IMPLICIT SET OF certificates, keeping the
// X.509 ones it can read (attribute certificates and others are skipped).
func certificates(b []byte) []*x509.Certificate {
	var set asn1.RawValue
	if _, err := asn1.Unmarshal(b, &set); err != nil {
		return nil
	}
	var out []*x509.Certificate
	for rest := set.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			break
		}
		if raw.Class != asn1.ClassUniversal {
			continue
		}
		if c, err := x509.ParseCertificate(raw.FullBytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// signers parses the SET OF SignerInfo.
func signers(b []byte, certs []*x509.Certificate) ([]Signer, error) {
	var set asn1.RawValue
	if _, err := asn1.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%w: signer infos: %v", ErrMalformed, err)
	}
	var out []Signer
	for rest := set.Bytes; len(rest) > 0; {
		var si signerInfo
		var err error
		if rest, err = asn1.Unmarshal(rest, &si); err != nil {
			return nil, fmt.Errorf("%w: signer info: %v", ErrMalformed, err)
		}
		s := Signer{Digest: digestOf(si.DigestAlgorithm.Algorithm), sigAlg: si.SignatureAlgorithm.Algorithm,
			signature: si.Signature, sid: si.SID}
		if si.SignatureAlgorithm.Algorithm.Equal(oidRSAPSS) {
			s.sigAlg = pssAlgorithm(si.SignatureAlgorithm.Parameters, s.Digest)
		}
		if len(si.SignedAttrs.FullBytes) > 0 {
			s.signedAttrs = append([]byte{tagSet}, si.SignedAttrs.FullBytes[1:]...)
			if err := s.attributes(si.SignedAttrs.Bytes); err != nil {
				return nil, err
			}
		}
		s.Cert = findCert(si.SID, certs)
		out = append(out, s)
	}
	// None is well formed (a degenerate SignedData): the caller says so.
	return out, nil
}

// attributes reads the signed attributes this package uses.
func (s *Signer) attributes(b []byte) error {
	for len(b) > 0 {
		var a attribute
		var err error
		if b, err = asn1.Unmarshal(b, &a); err != nil {
			return fmt.Errorf("%w: signed attribute: %v", ErrMalformed, err)
		}
		v := a.Values.Bytes
		switch {
		case a.Type.Equal(oidMessageDigest):
			_, err = asn1.Unmarshal(v, &s.MessageDigest)
		case a.Type.Equal(oidContentType):
			_, err = asn1.Unmarshal(v, &s.ContentType)
		case a.Type.Equal(oidSigningTime):
			var t time.Time
			if _, err = asn1.Unmarshal(v, &t); err == nil {
				s.SigningTime = t
			}
		case a.Type.Equal(oidSigningCertV2):
			s.SigningCertHash, s.signingCertAlg = essCertV2(v)
		case a.Type.Equal(oidSigningCert):
			s.SigningCertHash, s.signingCertAlg = essCertV1(v)
		}
		if err != nil {
			return fmt.Errorf("%w: signed attribute %v: %v", ErrMalformed, a.Type, err)
		}
	}
	return nil
}

// essCertV2 is the first certificate hash of a SigningCertificateV2
// (RFC 5035): SHA-256 unless it says otherwise.
func essCertV2(v []byte) ([]byte, crypto.Hash) {
	var sc struct {
		Certs []struct {
			Raw asn1.RawContent
		}
	}
	if _, err := asn1.Unmarshal(v, &sc); err != nil || len(sc.Certs) == 0 {
		return nil, 0
	}
	b := sc.Certs[0].Raw
	alg := crypto.SHA256
	var ai pkix.AlgorithmIdentifier
	if rest, err := asn1.Unmarshal(b, &ai); err == nil && len(b) > 0 && b[0] == tagSequence {
		alg, b = digestOf(ai.Algorithm), rest
	}
	var h []byte
	if _, err := asn1.Unmarshal(b, &h); err != nil {
		return nil, 0
	}
	return h, alg
}

// essCertV1 is the SHA-1 certificate hash of a SigningCertificate.
func essCertV1(v []byte) ([]byte, crypto.Hash) {
	var sc struct {
		Certs []struct {
			Hash []byte
			Rest asn1.RawValue `asn1:"optional"`
		}
	}
	if _, err := asn1.Unmarshal(v, &sc); err != nil || len(sc.Certs) == 0 {
		return nil, 0
	}
	return sc.Certs[0].Hash, crypto.SHA1
}

// findCert is the certificate of the envelope the signer identifier names.
func findCert(sid asn1.RawValue, certs []*x509.Certificate) *x509.Certificate {
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 {
		for _, c := range certs {
			if bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c
			}
		}
		return nil
	}
	var ias issuerAndSerial
	if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || ias.Serial == nil {
		return nil
	}
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) && c.SerialNumber.Cmp(ias.Serial) == 0 {
			return c
		}
	}
	return nil
}

// LooksLike reports whether b starts a CMS SignedData in BER.
func LooksLike(b []byte) bool {
	if len(b) < 2 || b[0] != tagSequence {
		return false
	}
	return bytes.Contains(b[:min(len(b), 24)], derSignedDataPrefix)
}

// ErrNotSigned is returned when a signer cannot be checked at all: no
// certificate, an unknown algorithm.
var ErrNotSigned = errors.New("cms: signer cannot be checked")
