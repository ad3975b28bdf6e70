package demo

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The demo's .p7m files are signed for real, by "Mario Rossi (demo)"
// under a certification authority the demo makes once and trusts, so that
// their pages show what a verified signature looks like. The authority's
// key stays in the demo's data folder: it signs nothing else.

// Signer signs the demo's envelopes.
type Signer struct {
	ca, cert *x509.Certificate
	key      *ecdsa.PrivateKey
}

// Authority returns the demo's signer, made on first use in dir: dir/ca
// holds the authority's certificate, the folder to trust
// (signatures.trust_dir), and dir its keys.
func Authority(dir string) (*Signer, error) {
	caFile, keyFile := filepath.Join(dir, "ca", "ca.pem"), filepath.Join(dir, "ca-chiave.pem")
	if b, err := os.ReadFile(keyFile); err == nil {
		return loadSigner(b, caFile)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()),
		Subject:   pkix.Name{Country: []string{"IT"}, Organization: []string{"Certificatore dimostrativo di Faldone"}, CommonName: "Faldone demo CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano() + 1),
		Subject: pkix.Name{Country: []string{"IT"}, CommonName: "Mario Rossi (demo)", SerialNumber: "TINIT-RSSMRA80A01H223Y",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Mario"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Rossi (demo)"}}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(caFile), 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o640); err != nil {
		return nil, err
	}
	keys := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
	if err := os.WriteFile(keyFile, keys, 0o600); err != nil {
		return nil, err
	}
	return loadSigner(keys, caFile)
}

func loadSigner(keys []byte, caFile string) (*Signer, error) {
	s := &Signer{}
	for {
		var blk *pem.Block
		if blk, keys = pem.Decode(keys); blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, err
			}
			s.cert = c
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, err
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, errors.New("demo signer: not an ECDSA key")
			}
			s.key = ek
		}
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || s.cert == nil || s.key == nil {
		return nil, errors.New("demo signer: incomplete files")
	}
	if s.ca, err = x509.ParseCertificate(blk.Bytes); err != nil {
		return nil, err
	}
	return s, nil
}

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

type algorithm struct {
	Algorithm asn1.ObjectIdentifier
}

// Sign wraps content in a CAdES-style envelope (RFC 5652 SignedData, the
// content attached, signed attributes with the signing time).
func (s *Signer) Sign(content []byte, at time.Time) ([]byte, error) {
	digest := sha256.Sum256(content)
	attr := func(oid asn1.ObjectIdentifier, v any) ([]byte, error) {
		val, err := asn1.Marshal(v)
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(struct {
			Type   asn1.ObjectIdentifier
			Values []asn1.RawValue `asn1:"set"`
		}{oid, []asn1.RawValue{{FullBytes: val}}})
	}
	var attrs [][]byte
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   any
	}{{oidContentType, oidData}, {oidSigningTime, at.UTC()}, {oidMessageDigest, digest[:]}} {
		b, err := attr(a.oid, a.v)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, b)
	}
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 }) // DER's SET OF order
	set, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(attrs, nil)})
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(set)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h[:])
	if err != nil {
		return nil, err
	}
	signedAttrs := append([]byte{0xa0}, set[1:]...) // [0] IMPLICIT
	type issuerSerial struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	sid, err := asn1.Marshal(issuerSerial{asn1.RawValue{FullBytes: s.cert.RawIssuer}, s.cert.SerialNumber})
	if err != nil {
		return nil, err
	}
	type signerInfo struct {
		Version            int
		SID                asn1.RawValue
		DigestAlgorithm    algorithm
		SignedAttrs        asn1.RawValue
		SignatureAlgorithm algorithm
		Signature          []byte
	}
	si, err := asn1.Marshal(signerInfo{1, asn1.RawValue{FullBytes: sid}, algorithm{oidSHA256}, asn1.RawValue{FullBytes: signedAttrs},
		algorithm{oidECDSASHA256}, sig})
	if err != nil {
		return nil, err
	}
	type encapsulated struct {
		ContentType asn1.ObjectIdentifier
		Content     []byte `asn1:"explicit,tag:0"`
	}
	type signedData struct {
		Version          int
		DigestAlgorithms []algorithm `asn1:"set"`
		EncapContentInfo encapsulated
		Certificates     asn1.RawValue
		SignerInfos      []asn1.RawValue `asn1:"set"`
	}
	certs := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(bytes.Clone(s.cert.Raw), s.ca.Raw...)}
	der, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     signedData `asn1:"explicit,tag:0"`
	}{oidSignedData, signedData{1, []algorithm{{oidSHA256}}, encapsulated{oidData, content}, certs, []asn1.RawValue{{FullBytes: si}}}})
	if err != nil {
		return nil, fmt.Errorf("demo envelope: %w", err)
	}
	return der, nil
}
