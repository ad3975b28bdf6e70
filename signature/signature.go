// Package signature inspects signed files for the pages: the layers of a
// CAdES envelope (.p7m, signed once or again around the first), a
// detached signature (.p7s) with the file it signs, and the signatures of
// a PDF (PAdES), each signer verified against the trust store.
package signature

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/signature/cms"
	"github.com/bassareggiana/faldone/signature/pades"
)

// MaxLayers bounds the envelopes inside envelopes that are unwrapped:
// files are signed twice, sometimes three times, never ten.
const MaxLayers = 4

// ErrNotSigned is returned for a file that holds no envelope.
var ErrNotSigned = errors.New("signature: not a signed file")

// Trust gives the roots the signatures are judged against.
type Trust interface {
	// Options are the roots and intermediates now; nil roots when no
	// trust store is configured.
	Options() cms.Options
}

// Layer is one envelope and its signers' verdicts: of a .p7m, one of the
// envelopes one inside the other; of a PDF, one of its signatures, each
// over the file up to its own revision.
type Layer struct {
	Envelope *cms.Envelope
	Results  []cms.Result
	// Partial: a PDF's signature that covers the file only up to a later
	// revision (another signature, say).
	Partial bool
	// Err is why a PDF's signature could not be read (the others were).
	Err error
}

// Report is what a signed file says.
type Report struct {
	Layers []Layer // outermost first
	// Read: every document was read and digested, so the integrity of
	// every signer is known; false on the quick path, which skips them.
	Read bool
	// DocumentSize and DocumentSHA256 describe the innermost document,
	// when Read.
	DocumentSize   int64
	DocumentSHA256 [32]byte
}

// Signers are every layer's results, outermost first.
func (r *Report) Signers() []cms.Result {
	var out []cms.Result
	for _, l := range r.Layers {
		out = append(out, l.Results...)
	}
	return out
}

// Inspector verifies signed files.
type Inspector struct {
	Trust Trust // nil: no trust store
	Now   func() time.Time
}

// TrustVersion names the roots and revocation lists now: a verdict kept
// under another was reached against other ones.
func (in *Inspector) TrustVersion() string { return in.options().Version }

func (in *Inspector) options() cms.Options {
	var o cms.Options
	if in.Trust != nil {
		o = in.Trust.Options()
	}
	o.Now = time.Now()
	if in.Now != nil {
		o.Now = in.Now()
	}
	return o
}

// Read reads an attached envelope (a .p7m) from r, in DER, BER or
// base64, unwrapping the envelopes nested in it, writes the innermost
// document to doc when it is not nil, and verifies every signer.
func (in *Inspector) Read(r io.Reader, doc io.Writer) (*Report, error) {
	sum := sha256.New()
	var size int64
	sink := io.MultiWriter(sum, counter{&size})
	if doc != nil {
		sink = io.MultiWriter(sum, counter{&size}, doc)
	}
	envs, err := unwrap(r, sink, cms.ParseOptions{})
	if err != nil {
		return nil, err
	}
	rep := &Report{Read: true}
	opts := in.options()
	for i := len(envs) - 1; i >= 0; i-- {
		rep.Layers = append(rep.Layers, Layer{Envelope: envs[i], Results: envs[i].Verify(envs[i].Digests, opts)})
	}
	rep.DocumentSize = size
	copy(rep.DocumentSHA256[:], sum.Sum(nil))
	return rep, nil
}

// ErrDetached is returned by Extract for an envelope without its
// document (a detached signature).
var ErrDetached = errors.New("signature: a detached signature holds no document")

// Extract writes the innermost document of the envelope r to doc,
// verifying nothing and reading no further than the document: as fast as
// the bytes come.
func Extract(r io.Reader, doc io.Writer) error {
	envs, err := unwrap(r, doc, cms.ParseOptions{ContentOnly: true})
	if err == nil && len(envs) > 0 && envs[0].Detached {
		return ErrDetached
	}
	return err
}

// LooksSigned reports whether the first bytes of a file (96 are enough)
// start a CMS SignedData, in DER, BER or base64.
func LooksSigned(head []byte) bool {
	if len(head) > 0 && head[0] == 0x30 {
		return cms.LooksLike(head)
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(t, []byte("-----BEGIN")) {
		i := bytes.IndexByte(t, '\n')
		if i < 0 {
			return false
		}
		t = t[i+1:]
	}
	clean := make([]byte, 0, len(t))
	for _, c := range t {
		switch c {
		case '\r', '\n', ' ', '\t':
		default:
			clean = append(clean, c)
		}
	}
	clean = clean[:len(clean)/4*4]
	b := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, _ := base64.StdEncoding.Decode(b, clean)
	return cms.LooksLike(b[:n])
}

// unwrap reads the envelope r and those nested in it, innermost first,
// writing the innermost document to sink.
func unwrap(r io.Reader, sink io.Writer, po cms.ParseOptions) ([]*cms.Envelope, error) {
	src, err := decoded(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return nil, err
	}
	var envs []*cms.Envelope
	var open func(r io.Reader, depth int) error
	open = func(r io.Reader, depth int) error {
		env, err := cms.ParseWith(r, func(content io.Reader) error {
			br := bufio.NewReaderSize(content, 64<<10)
			head, _ := br.Peek(32)
			if depth+1 < MaxLayers && cms.LooksLike(head) {
				return open(br, depth+1)
			}
			_, err := io.Copy(sink, br)
			return err
		}, po)
		if err != nil {
			return err
		}
		envs = append(envs, env) // innermost first
		return nil
	}
	if err := open(src, 0); err != nil {
		return nil, notSigned(err)
	}
	return envs, nil
}

// Peek reads the signers of the envelope at ra (size bytes) and of the
// envelopes nested in it, seeking past the documents rather than reading
// them: a few reads however large the file. Signatures and certificates
// are verified, the documents' integrity is not (Report.Read is false).
// An envelope that does not allow it (base64, or a document cut into
// chunks) is read whole instead, through Read.
func (in *Inspector) Peek(ra io.ReaderAt, size int64) (*Report, error) {
	rep := &Report{}
	opts := in.options()
	off, n := int64(0), size
	for depth := 0; ; depth++ {
		var head [32]byte
		m, _ := ra.ReadAt(head[:], off)
		if !cms.LooksLike(head[:m]) {
			if depth == 0 {
				return in.Read(io.NewSectionReader(ra, 0, size), nil)
			}
			return rep, nil
		}
		env, err := cms.Parse(io.NewSectionReader(ra, off, n), nil)
		if err != nil {
			return nil, notSigned(err)
		}
		rep.Layers = append(rep.Layers, Layer{Envelope: env, Results: env.Verify(nil, opts)})
		if env.Detached || depth+1 >= MaxLayers {
			return rep, nil
		}
		if env.ContentOffset < 0 {
			// Chunked: where the inner envelope lies is known only by
			// reading it.
			return in.Read(io.NewSectionReader(ra, 0, size), nil)
		}
		off, n = off+env.ContentOffset, env.ContentLength
	}
}

// Detached verifies a detached signature (a .p7s, read from sig) over the
// file content.
func (in *Inspector) Detached(sig io.Reader, content io.Reader) (*Report, error) {
	src, err := decoded(bufio.NewReader(io.LimitReader(sig, 16<<20)))
	if err != nil {
		return nil, err
	}
	env, err := cms.Parse(src, nil)
	if err != nil {
		return nil, notSigned(err)
	}
	if !env.Detached {
		return nil, fmt.Errorf("%w: the signature holds its document", ErrNotSigned)
	}
	digests, size, err := cms.Digests(content)
	if err != nil {
		return nil, err
	}
	rep := &Report{Read: true, DocumentSize: size}
	copy(rep.DocumentSHA256[:], digests[crypto.SHA256])
	rep.Layers = []Layer{{Envelope: env, Results: env.Verify(digests, in.options())}}
	return rep, nil
}

// PDF finds and verifies the signatures of the PDF at ra (size bytes),
// in the order of the file; a PDF without any gives an empty report.
func (in *Inspector) PDF(ra io.ReaderAt, size int64) (*Report, error) {
	sigs, err := pades.Verify(ra, size, in.options())
	if err != nil {
		return nil, err
	}
	rep := &Report{Read: true, DocumentSize: size}
	for _, s := range sigs {
		rep.Layers = append(rep.Layers, Layer{Envelope: s.Envelope, Results: s.Results, Partial: !s.Whole, Err: s.Err})
	}
	return rep, nil
}

// decoded is the envelope's bytes: as they are in DER or BER, decoded
// when the file holds them in base64 (with or without PEM armour).
func decoded(br *bufio.Reader) (io.Reader, error) {
	head, _ := br.Peek(64)
	if len(head) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrNotSigned)
	}
	if head[0] == 0x30 {
		return br, nil
	}
	t := bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(t, []byte("-----BEGIN")) {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("%w: PEM without content", ErrNotSigned)
		}
	} else if !bytes.HasPrefix(t, []byte("MI")) {
		return nil, ErrNotSigned
	}
	return base64.NewDecoder(base64.StdEncoding, &base64Text{r: br}), nil
}

// base64Text yields the base64 characters of r, without line breaks,
// up to a PEM end line.
type base64Text struct {
	r    *bufio.Reader
	done bool
}

func (b *base64Text) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !b.done {
		c, err := b.r.ReadByte()
		if err != nil {
			b.done = true
			break
		}
		switch {
		case c == '\r' || c == '\n' || c == ' ' || c == '\t':
		case c == '-':
			b.done = true
		default:
			p[n] = c
			n++
		}
	}
	if n == 0 && b.done {
		return 0, io.EOF
	}
	return n, nil
}

type counter struct{ n *int64 }

func (c counter) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

func notSigned(err error) error {
	if errors.Is(err, cms.ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrNotSigned, err)
	}
	return err
}

// DocumentName is the name of the document a signed file holds:
// "domanda.pdf" for "domanda.pdf.p7m" and "domanda.pdf.p7m.p7m".
func DocumentName(name string) string {
	for i := 0; i < MaxLayers; i++ {
		lower := strings.ToLower(name)
		if !strings.HasSuffix(lower, ".p7m") || len(name) <= 4 {
			break
		}
		name = name[:len(name)-4]
	}
	return name
}
