// Package pades finds the signatures inside a PDF (PAdES and the older
// adbe.pkcs7.detached) and verifies them: each signature dictionary's
// /ByteRange names the bytes signed, around the hexadecimal /Contents
// that holds a detached CMS SignedData, which package cms reads.
package pades

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/bassareggiana/faldone/signature/cms"
)

// Bounds against a crafted file: signatures in one PDF, and the size of
// one signature's /Contents.
const (
	MaxSignatures = 32
	maxContents   = 4 << 20
	chunk         = 1 << 20
)

// ErrMalformed is returned for a signature whose byte range or contents
// do not make sense.
var ErrMalformed = errors.New("pades: malformed signature")

// Signature is one signature of a PDF.
type Signature struct {
	Envelope *cms.Envelope
	Results  []cms.Result
	// Whole: the signed bytes reach the end of the file. A signature
	// followed by more revisions (another signature, a form filled in)
	// covers only the file up to it.
	Whole bool
	// Err is why this signature could not be read; the others still are.
	Err error
}

// byteRange is a /ByteRange: [start1 length1 start2 length2].
type byteRange [4]int64

// Find scans the PDF r (of size bytes) for its signatures' byte ranges.
func Find(r io.ReaderAt, size int64) ([]byteRange, error) {
	var out []byteRange
	seen := map[byteRange]bool{}
	key := []byte("/ByteRange")
	buf := make([]byte, chunk+256)
	for off := int64(0); off < size; off += chunk {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], key)
			if j < 0 || i+j >= chunk { // the overlap belongs to the next chunk
				break
			}
			i += j + len(key)
			br, ok := parseRange(b[i:])
			if ok && !seen[br] && br.valid(size) {
				seen[br] = true
				out = append(out, br)
				if len(out) > MaxSignatures {
					return nil, fmt.Errorf("%w: more than %d signatures", ErrMalformed, MaxSignatures)
				}
			}
		}
	}
	return out, nil
}

// parseRange reads "[a b c d]" after optional white space.
func parseRange(b []byte) (byteRange, bool) {
	var br byteRange
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '[' {
		return br, false
	}
	end := bytes.IndexByte(b, ']')
	if end < 0 || end > 120 {
		return br, false
	}
	f := bytes.Fields(b[1:end])
	if len(f) != 4 {
		return br, false
	}
	for i, s := range f {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || v < 0 {
			return br, false
		}
		br[i] = v
	}
	return br, true
}

// valid: the two ranges are in order, within the file, and the gap
// between them is a /Contents of bounded size.
func (br byteRange) valid(size int64) bool {
	gapStart, gapEnd := br[0]+br[1], br[2]
	return br[0] == 0 && gapEnd > gapStart+2 && gapEnd-gapStart <= 2*maxContents+2 && br[2]+br[3] <= size
}

// Verify reads and checks each signature of the PDF.
func Verify(r io.ReaderAt, size int64, opts cms.Options) ([]Signature, error) {
	ranges, err := Find(r, size)
	if err != nil {
		return nil, err
	}
	var out []Signature
	for _, br := range ranges {
		out = append(out, verifyOne(r, size, br, opts))
	}
	return out, nil
}

func verifyOne(r io.ReaderAt, size int64, br byteRange, opts cms.Options) Signature {
	sig := Signature{Whole: br[2]+br[3] == size}
	gap := make([]byte, br[2]-(br[0]+br[1]))
	if _, err := r.ReadAt(gap, br[0]+br[1]); err != nil && err != io.EOF {
		sig.Err = err
		return sig
	}
	gap = bytes.TrimSpace(gap)
	if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
		sig.Err = fmt.Errorf("%w: the gap of the byte range is not a hexadecimal string", ErrMalformed)
		return sig
	}
	der, err := hex.DecodeString(string(bytes.Join(bytes.Fields(gap[1:len(gap)-1]), nil)))
	if err != nil {
		sig.Err = fmt.Errorf("%w: contents: %v", ErrMalformed, err)
		return sig
	}
	env, err := cms.Parse(bytes.NewReader(der), nil)
	if err != nil {
		sig.Err = err
		return sig
	}
	sig.Envelope = env
	if !env.Detached {
		// adbe.pkcs7.sha1: the envelope holds the digest, not the bytes.
		sig.Err = fmt.Errorf("%w: a signature over a digest (adbe.pkcs7.sha1) is not verified here", ErrMalformed)
		return sig
	}
	digests, err := digestRanges(r, br)
	if err != nil {
		sig.Err = err
		return sig
	}
	sig.Results = env.Verify(digests, opts)
	return sig
}

// digestRanges hashes the two signed ranges with every digest a signer
// may have used.
func digestRanges(r io.ReaderAt, br byteRange) (map[crypto.Hash][]byte, error) {
	// In large reads: each read of r may be a request to the storage.
	signed := io.MultiReader(io.NewSectionReader(r, br[0], br[1]), io.NewSectionReader(r, br[2], br[3]))
	d, _, err := cms.Digests(bufio.NewReaderSize(signed, chunk))
	return d, err
}
