package cms_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/bassareggiana/faldone/signature/cms"
	"github.com/bassareggiana/faldone/signature/signaturetest"
)

// FuzzParse: whatever the bytes, Parse ends with an envelope or an error,
// within its bounds, whether it reads the document or seeks past it.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x00,
		0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x02, 'h', 'i', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	// Real envelopes, as openssl writes them: DER, BER streamed, nested.
	files := signaturetest.Make(f)
	for _, name := range []string{files.Signed, files.Streamed, files.Double, files.Detached} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := cms.Parse(bytes.NewReader(b), func(r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if err == nil && env.ContentLength > int64(len(b)) {
			t.Fatalf("content of %d bytes in %d", env.ContentLength, len(b))
		}
		if env != nil {
			env.Verify(env.Digests, cms.Options{})
		}
		if env, err := cms.Parse(bytes.NewReader(b), nil); err == nil && env.ContentLength > int64(len(b)) {
			t.Fatalf("content of %d bytes in %d", env.ContentLength, len(b))
		}
		// Through a reader that does not seek.
		cms.Parse(io.MultiReader(bytes.NewReader(b)), nil)
	})
}
