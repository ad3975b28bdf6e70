package extract

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bassareggiana/faldone/signature"
)

// A .p7m is a CAdES envelope: a CMS SignedData (RFC 5652) whose
// encapsulated content is the signed document. Only that content matters
// for the text; package signature takes it out (BER with indefinite
// lengths and chunks, base64, envelopes inside envelopes) without
// checking the signatures, which the file page does.

// looksP7M reports whether a file without a telling extension is a CMS
// SignedData, in DER/BER or base64.
func looksP7M(data []byte) bool {
	return signature.LooksSigned(data[:min(len(data), 96)])
}

// p7mContent returns the document the envelopes (one inside the other, up
// to signature.MaxLayers) enclose.
func p7mContent(data []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(data))
	err := signature.Extract(bytes.NewReader(data), &out)
	switch {
	case errors.Is(err, signature.ErrDetached):
		return nil, fmt.Errorf("p7m: detached signature: %w", ErrNoText)
	case err != nil:
		return nil, fmt.Errorf("p7m: %w", err)
	case looksP7M(out.Bytes()):
		return nil, errors.New("p7m: too many nested envelopes")
	}
	return out.Bytes(), nil
}
