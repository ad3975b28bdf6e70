package cms

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Signing tools write envelopes in BER, not only DER: streaming tools use
// indefinite lengths and cut large documents into chunks of OCTET STRING,
// which encoding/asn1 rejects. This reads BER from a stream, one header at
// a time, so that the document inside an envelope of hundreds of megabytes
// passes through without being held, while the small parts around it
// (algorithms, certificates, signers) are read whole, bounded, and handed
// to encoding/asn1 and crypto/x509 in DER.

// ErrMalformed is returned for bytes that are not a well-formed envelope.
var ErrMalformed = errors.New("cms: malformed envelope")

// Bounds on what is read whole: a crafted envelope cannot make the reader
// nest without end nor hold more than a few megabytes.
const (
	maxDepth   = 32
	maxElement = 8 << 20 // certificates, CRLs and signer infos together
	maxHeader  = 12
)

// Identifier octets (class, constructed bit and tag number together) used
// here; high tag numbers are read but never expected.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagOID         = 0x06
	tagSequence    = 0x30
	tagSet         = 0x31
	tagContext0    = 0xa0 // [0], constructed
	tagContext1    = 0xa1 // [1], constructed
	tagImplicit0   = 0x80 // [0], primitive
	constructedBit = 0x20
)

// header is one element's identifier and length.
type header struct {
	id     byte  // the first identifier octet
	tag    int   // the tag number (the low five bits, or the long form's)
	length int64 // -1: indefinite, ended by two zero octets
	size   int   // octets of identifier and length
}

func (h header) constructed() bool { return h.id&constructedBit != 0 }

// eoc reports whether h is the end-of-contents marker of an indefinite
// length.
func (h header) eoc() bool { return h.id == 0 && h.length == 0 }

// reader reads BER from a stream and knows its position in it. Over an
// io.ReadSeeker it skips content without reading it.
type reader struct {
	br     *bufio.Reader
	seeker io.ReadSeeker // nil when the stream cannot skip
	pos    int64
}

func newReader(r io.Reader) *reader {
	rd := &reader{br: bufio.NewReaderSize(r, 64<<10)}
	if s, ok := r.(io.ReadSeeker); ok {
		rd.seeker = s
	}
	return rd
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.br.Read(p)
	r.pos += int64(n)
	return n, err
}

func (r *reader) readFull(p []byte) error {
	n, err := io.ReadFull(r.br, p)
	r.pos += int64(n)
	if err != nil {
		return fmt.Errorf("%w: cut short at byte %d", ErrMalformed, r.pos)
	}
	return nil
}

// peek returns the next n bytes without consuming them (fewer at the end).
func (r *reader) peek(n int) []byte {
	b, _ := r.br.Peek(n)
	return b
}

// skip passes over n bytes: by seeking when the stream can and they are
// not buffered already, by reading otherwise.
func (r *reader) skip(n int64) error {
	if b := int64(r.br.Buffered()); n <= b || r.seeker == nil {
		m, err := io.CopyN(io.Discard, r.br, n)
		r.pos += m
		if err != nil {
			return fmt.Errorf("%w: cut short at byte %d", ErrMalformed, r.pos)
		}
		return nil
	}
	// The bufio.Reader is ahead of the seeker by what it buffered.
	target := r.pos + n
	if _, err := r.seeker.Seek(target, io.SeekStart); err != nil {
		return err
	}
	r.br.Reset(r.seeker)
	r.pos = target
	return nil
}

// header reads an element's identifier and length.
func (r *reader) header() (header, error) {
	b := r.peek(maxHeader)
	h, err := parseHeader(b)
	if err != nil {
		if len(b) < maxHeader && errors.Is(err, errShort) {
			return h, fmt.Errorf("%w: cut short at byte %d", ErrMalformed, r.pos+int64(len(b)))
		}
		return h, fmt.Errorf("%w at byte %d", err, r.pos)
	}
	r.br.Discard(h.size)
	r.pos += int64(h.size)
	return h, nil
}

var errShort = errors.New("short header")

// parseHeader reads the header at the start of b.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < 2 {
		return h, errShort
	}
	h.id = b[0]
	h.tag = int(b[0] & 0x1f)
	i := 1
	if h.tag == 0x1f {
		h.tag = 0
		for {
			if i >= len(b) || i > 4 {
				return h, fmt.Errorf("%w: tag number too long", ErrMalformed)
			}
			c := b[i]
			i++
			h.tag = h.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return h, errShort
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		h.length = int64(l)
	case l == 0x80:
		if !h.constructed() {
			return h, fmt.Errorf("%w: indefinite length on a primitive element", ErrMalformed)
		}
		h.length = -1
	default:
		n := int(l & 0x7f)
		if n > 7 {
			return h, fmt.Errorf("%w: length of %d octets", ErrMalformed, n)
		}
		if i+n > len(b) {
			return h, errShort
		}
		for _, c := range b[i : i+n] {
			h.length = h.length<<8 | int64(c)
		}
		i += n
	}
	h.size = i
	return h, nil
}

// more reports whether the container that ends at end (or, when end is
// -1, at an end-of-contents marker, which it consumes) holds another
// element.
func (r *reader) more(end int64) (bool, error) {
	if end >= 0 {
		if r.pos > end {
			return false, fmt.Errorf("%w: element overruns its container at byte %d", ErrMalformed, r.pos)
		}
		return r.pos < end, nil
	}
	if b := r.peek(2); len(b) == 2 && b[0] == 0 && b[1] == 0 {
		r.br.Discard(2)
		r.pos += 2
		return false, nil
	}
	if len(r.peek(2)) < 2 {
		return false, fmt.Errorf("%w: cut short at byte %d", ErrMalformed, r.pos)
	}
	return true, nil
}

// end is where an element that starts its content now ends; -1 when
// indefinite.
func (r *reader) end(h header) int64 {
	if h.length < 0 {
		return -1
	}
	return r.pos + h.length
}

// element reads a whole element, whose header h was just read, and
// returns it re-encoded in DER lengths (definite, minimal), within the
// budget of bytes it may still hold.
func (r *reader) element(h header, budget *int, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deep", ErrMalformed)
	}
	var content []byte
	if h.length >= 0 {
		if h.length > int64(*budget) {
			return nil, fmt.Errorf("%w: element of %d bytes is too large", ErrMalformed, h.length)
		}
		if !h.constructed() {
			*budget -= int(h.length)
			content = make([]byte, h.length)
			if err := r.readFull(content); err != nil {
				return nil, err
			}
			return encode(h, content), nil
		}
	}
	// Constructed: its elements, each made DER, so that an indefinite
	// length inside a definite one is normalized too.
	end := r.end(h)
	var buf bytes.Buffer
	for {
		ok, err := r.more(end)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		sub, err := r.header()
		if err != nil {
			return nil, err
		}
		if sub.eoc() {
			return nil, fmt.Errorf("%w: stray end of contents at byte %d", ErrMalformed, r.pos)
		}
		// Headers count too: a million empty elements are no smaller.
		if *budget -= sub.size; *budget < 0 {
			return nil, fmt.Errorf("%w: elements too large", ErrMalformed)
		}
		b, err := r.element(sub, budget, depth+1)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	if end >= 0 && r.pos != end {
		return nil, fmt.Errorf("%w: element overruns its container at byte %d", ErrMalformed, r.pos)
	}
	return encode(h, buf.Bytes()), nil
}

// skipElement passes over the content of the element whose header h was
// just read.
func (r *reader) skipElement(h header, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested too deep", ErrMalformed)
	}
	if h.length >= 0 {
		return r.skip(h.length)
	}
	for {
		ok, err := r.more(-1)
		if err != nil || !ok {
			return err
		}
		sub, err := r.header()
		if err != nil {
			return err
		}
		if err := r.skipElement(sub, depth+1); err != nil {
			return err
		}
	}
}

// encode writes an element with the identifier octets of h and content,
// in a definite, minimal length.
func encode(h header, content []byte) []byte {
	id := []byte{h.id}
	if h.tag >= 0x1f {
		var t []byte
		for n := h.tag; ; n >>= 7 {
			t = append([]byte{byte(n & 0x7f)}, t...)
			if n < 0x80 {
				break
			}
		}
		for i := 0; i < len(t)-1; i++ {
			t[i] |= 0x80
		}
		id = append(id, t...)
	}
	out := append(id, lengthOctets(len(content))...)
	return append(out, content...)
}

func lengthOctets(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var b []byte
	for ; n > 0; n >>= 8 {
		b = append([]byte{byte(n)}, b...)
	}
	return append([]byte{0x80 | byte(len(b))}, b...)
}

// octets is the content of an OCTET STRING as a stream: primitive, or
// constructed of chunks (definite or not, nested up to maxDepth).
type octets struct {
	r      *reader
	left   int64   // of the primitive chunk being read
	ends   []int64 // of the constructed strings open, innermost last; -1: indefinite
	done   bool
	failed error
}

// newOctets starts reading the OCTET STRING whose header h was just read.
func newOctets(r *reader, h header) (*octets, error) {
	o := &octets{r: r}
	switch {
	case h.id == tagOctetString:
		o.left = h.length
		o.done = h.length == 0
	case h.id == tagOctetString|constructedBit:
		o.ends = []int64{r.end(h)}
	default:
		return nil, fmt.Errorf("%w: tag %#x where the content belongs", ErrMalformed, h.id)
	}
	return o, nil
}

func (o *octets) Read(p []byte) (int, error) {
	if o.failed != nil {
		return 0, o.failed
	}
	for o.left == 0 {
		if o.done || len(o.ends) == 0 {
			o.done = true
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			o.failed = err
			return 0, err
		}
	}
	if int64(len(p)) > o.left {
		p = p[:o.left]
	}
	n, err := o.r.Read(p)
	o.left -= int64(n)
	if err == io.EOF && o.left > 0 {
		err = fmt.Errorf("%w: cut short at byte %d", ErrMalformed, o.r.pos)
		o.failed = err
		return n, err
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// next moves to the next primitive chunk, closing the strings that end.
func (o *octets) next() error {
	end := o.ends[len(o.ends)-1]
	ok, err := o.r.more(end)
	if err != nil {
		return err
	}
	if !ok {
		o.ends = o.ends[:len(o.ends)-1]
		if len(o.ends) == 0 {
			o.done = true
		}
		return nil
	}
	h, err := o.r.header()
	if err != nil {
		return err
	}
	switch h.id {
	case tagOctetString:
		o.left = h.length
	case tagOctetString | constructedBit:
		if len(o.ends) >= maxDepth {
			return fmt.Errorf("%w: content nested too deep", ErrMalformed)
		}
		o.ends = append(o.ends, o.r.end(h))
	default:
		return fmt.Errorf("%w: tag %#x inside the content", ErrMalformed, h.id)
	}
	return nil
}

// skippable reports whether the content can be passed over without
// reading it: a primitive string (or one chunked within a definite
// length) over a stream that seeks.
func (o *octets) skippable() bool {
	return o.r.seeker != nil && len(o.ends) <= 1 && (len(o.ends) == 0 || o.ends[0] >= 0)
}

// skipAll passes over what is left of the content.
func (o *octets) skipAll() error {
	if len(o.ends) == 1 && o.ends[0] >= 0 && o.left == 0 {
		err := o.r.skip(o.ends[0] - o.r.pos)
		o.ends, o.done = nil, true
		return err
	}
	if len(o.ends) == 0 {
		err := o.r.skip(o.left)
		o.left, o.done = 0, true
		return err
	}
	_, err := io.Copy(io.Discard, o)
	return err
}
