package extract

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// A .p7m is a CAdES envelope: a CMS SignedData (RFC 5652) whose
// encapsulated content is the signed document. Only that content matters
// for the text, so this walks the structure down to it without checking
// the signature (verifying it is another job). The walk reads BER, not
// only DER: signing tools stream large documents with indefinite lengths
// and chunked octet strings, which encoding/asn1 rejects. Many envelopes
// are also stored in base64.

// oidSignedData is the DER encoding of the OID 1.2.840.113549.1.7.2.
const oidSignedData = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"

// BER identifier octets used on the way to the content.
const (
	tagOctetString  = 0x04
	tagConstructed  = 0x20
	tagSequence     = 0x30
	tagSet          = 0x31
	tagInteger      = 0x02
	tagOID          = 0x06
	tagExplicitZero = 0xa0 // [0] EXPLICIT, constructed
)

// maxBERDepth bounds the nesting of indefinite lengths and chunked octet
// strings, so that a crafted envelope cannot exhaust the stack.
const maxBERDepth = 32

// looksP7M reports whether a file without a telling extension is a CMS
// SignedData, in DER/BER or base64.
func looksP7M(data []byte) bool {
	if len(data) > 0 && data[0] != tagSequence {
		data = unbase64(data[:min(len(data), 96)])
	}
	return len(data) > 0 && data[0] == tagSequence && bytes.Contains(data[:min(len(data), 32)], []byte(oidSignedData))
}

// unbase64 decodes a base64 (or PEM) envelope as far as it is base64; it
// returns nil when data is not.
func unbase64(data []byte) []byte {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("-----BEGIN")) {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
		if j := bytes.Index(data, []byte("-----END")); j >= 0 {
			data = data[:j]
		}
	}
	if !bytes.HasPrefix(data, []byte("MI")) {
		return nil
	}
	clean := make([]byte, 0, len(data))
	for _, c := range data {
		switch c {
		case '\r', '\n', ' ', '\t':
		default:
			clean = append(clean, c)
		}
	}
	clean = clean[:len(clean)/4*4] // a prefix decodes as far as it goes
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil && n == 0 {
		return nil
	}
	return out[:n]
}

// p7mContent returns the document a SignedData envelope encloses.
func p7mContent(data []byte) ([]byte, error) {
	if len(data) > 0 && data[0] != tagSequence {
		if data = unbase64(data); data == nil {
			return nil, errors.New("p7m: neither BER nor base64")
		}
	}
	ci, _, err := berElement(data, tagSequence, 0)
	if err != nil {
		return nil, fmt.Errorf("p7m: content info: %w", err)
	}
	oid, ci, err := berRaw(ci, 0)
	if err != nil || string(oid) != oidSignedData {
		return nil, errors.New("p7m: not a CMS SignedData")
	}
	explicit, _, err := berElement(ci, tagExplicitZero, 0)
	if err != nil {
		return nil, fmt.Errorf("p7m: content: %w", err)
	}
	sd, _, err := berElement(explicit, tagSequence, 0)
	if err != nil {
		return nil, fmt.Errorf("p7m: signed data: %w", err)
	}
	for _, tag := range []byte{tagInteger, tagSet} { // version, digestAlgorithms
		if _, sd, err = berElement(sd, tag, 0); err != nil {
			return nil, fmt.Errorf("p7m: signed data: %w", err)
		}
	}
	eci, _, err := berElement(sd, tagSequence, 0)
	if err != nil {
		return nil, fmt.Errorf("p7m: encapsulated content: %w", err)
	}
	if _, eci, err = berElement(eci, tagOID, 0); err != nil {
		return nil, fmt.Errorf("p7m: encapsulated content type: %w", err)
	}
	if len(eci) == 0 {
		return nil, fmt.Errorf("p7m: detached signature: %w", ErrNoText)
	}
	econtent, _, err := berElement(eci, tagExplicitZero, 0)
	if err != nil {
		return nil, fmt.Errorf("p7m: encapsulated content: %w", err)
	}
	var out []byte
	if err := octets(econtent, &out, 0); err != nil {
		return nil, fmt.Errorf("p7m: encapsulated content: %w", err)
	}
	return out, nil
}

// octets appends to out the bytes of the OCTET STRING at the start of b,
// primitive or constructed of chunks.
func octets(b []byte, out *[]byte, depth int) error {
	if depth > maxBERDepth {
		return errors.New("octet string nested too deep")
	}
	if len(b) == 0 {
		return errors.New("missing octet string")
	}
	switch b[0] {
	case tagOctetString:
		content, _, err := berElement(b, tagOctetString, depth)
		if err != nil {
			return err
		}
		*out = append(*out, content...)
		return nil
	case tagOctetString | tagConstructed:
		content, _, err := berElement(b, tagOctetString|tagConstructed, depth)
		if err != nil {
			return err
		}
		for len(content) > 0 {
			_, rest, err := berRaw(content, depth+1)
			if err != nil {
				return err
			}
			if err := octets(content[:len(content)-len(rest)], out, depth+1); err != nil {
				return err
			}
			content = rest
		}
		return nil
	}
	return fmt.Errorf("tag %#x where an octet string belongs", b[0])
}

// berElement reads the element at the start of b, which must have the
// identifier octet tag, and returns its content and what follows it.
func berElement(b []byte, tag byte, depth int) (content, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("missing element %#x", tag)
	}
	if b[0] != tag {
		return nil, nil, fmt.Errorf("tag %#x where %#x belongs", b[0], tag)
	}
	whole, rest, err := berRaw(b, depth)
	if err != nil {
		return nil, nil, err
	}
	content, err = berContent(whole)
	return content, rest, err
}

// berRaw reads the element at the start of b and returns the whole of it
// (identifier, length and content), and what follows it.
func berRaw(b []byte, depth int) (whole, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, nil, errors.New("BER nested too deep")
	}
	hdr, length, err := berHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if length >= 0 {
		end := hdr + length
		return b[:end], b[end:], nil
	}
	// Indefinite length: the elements inside, up to an end-of-contents.
	if b[0]&tagConstructed == 0 {
		return nil, nil, errors.New("indefinite length on a primitive element")
	}
	p := b[hdr:]
	for {
		if len(p) >= 2 && p[0] == 0 && p[1] == 0 {
			end := len(b) - len(p) + 2
			return b[:end], b[end:], nil
		}
		if len(p) == 0 {
			return nil, nil, errors.New("truncated: no end of contents")
		}
		if _, p, err = berRaw(p, depth+1); err != nil {
			return nil, nil, err
		}
	}
}

// berContent returns the content of the single element whole.
func berContent(whole []byte) ([]byte, error) {
	hdr, length, err := berHeader(whole)
	if err != nil {
		return nil, err
	}
	if length < 0 {
		return whole[hdr : len(whole)-2], nil // without the end-of-contents
	}
	return whole[hdr : hdr+length], nil
}

// berHeader parses the identifier and length octets at the start of b:
// it returns their size and the content's length, -1 when indefinite,
// checked to fit in b.
func berHeader(b []byte) (hdr, length int, err error) {
	if len(b) < 2 {
		return 0, 0, errors.New("truncated element")
	}
	i := 1
	if b[0]&0x1f == 0x1f { // high tag number
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return 0, 0, errors.New("truncated element")
	}
	l := int(b[i])
	i++
	switch {
	case l < 0x80:
		length = l
	case l == 0x80:
		return i, -1, nil
	default:
		n := l & 0x7f
		if n > 4 || i+n > len(b) {
			return 0, 0, errors.New("bad length")
		}
		for _, c := range b[i : i+n] {
			length = length<<8 | int(c)
		}
		i += n
	}
	if length > len(b)-i {
		return 0, 0, errors.New("truncated element")
	}
	return i, length, nil
}
