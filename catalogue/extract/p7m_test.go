package extract

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSigned     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSHA256     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	testSignerSet = []byte{0x31, 0x03, 0x02, 0x01, 0x01} // stands for the SignerInfos
)

type testAlgorithm struct{ Algorithm asn1.ObjectIdentifier }

type testEncap struct {
	Type    asn1.ObjectIdentifier
	Content []byte `asn1:"explicit,optional,tag:0"`
}

type testSignedData struct {
	Version     int
	Digests     []testAlgorithm `asn1:"set"`
	Encap       testEncap
	SignerInfos asn1.RawValue
}

type testContentInfo struct {
	Type    asn1.ObjectIdentifier
	Content testSignedData `asn1:"explicit,tag:0"`
}

// derP7M returns a DER SignedData enclosing content (detached when nil),
// its signature left out: the structure is what extraction reads.
func derP7M(t testing.TB, content []byte) []byte {
	t.Helper()
	b, err := asn1.Marshal(testContentInfo{
		Type: oidSigned,
		Content: testSignedData{
			Version:     1,
			Digests:     []testAlgorithm{{oidSHA256}},
			Encap:       testEncap{Type: oidData, Content: content},
			SignerInfos: asn1.RawValue{FullBytes: testSignerSet},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// berLen encodes a definite length.
func berLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var b []byte
	for ; n > 0; n >>= 8 {
		b = append([]byte{byte(n)}, b...)
	}
	return append([]byte{0x80 | byte(len(b))}, b...)
}

// indef encodes a constructed element of indefinite length.
func indef(tag byte, children ...[]byte) []byte {
	b := []byte{tag, 0x80}
	for _, c := range children {
		b = append(b, c...)
	}
	return append(b, 0, 0)
}

// def encodes an element of definite length.
func def(tag byte, content []byte) []byte {
	return append(append([]byte{tag}, berLen(len(content))...), content...)
}

// berP7M returns a SignedData as streaming signers write it: indefinite
// lengths, and the content in chunks of an octet string.
func berP7M(t testing.TB, content []byte, chunk int) []byte {
	t.Helper()
	oid := func(o asn1.ObjectIdentifier) []byte {
		b, err := asn1.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var chunks [][]byte
	for len(content) > 0 {
		n := min(chunk, len(content))
		chunks = append(chunks, def(0x04, content[:n]))
		content = content[n:]
	}
	digests := def(0x31, def(0x30, oid(oidSHA256)))
	return indef(0x30, oid(oidSigned),
		indef(0xa0,
			indef(0x30, []byte{0x02, 0x01, 0x01}, digests,
				indef(0x30, oid(oidData), indef(0xa0, indef(0x24, chunks...))),
				testSignerSet)))
}

func TestP7M(t *testing.T) {
	x := newExtractor(t, Options{})
	doc := pdfOf(t, relazione)
	b64 := func(b []byte) []byte {
		s := base64.StdEncoding.EncodeToString(b)
		var lines []string
		for len(s) > 64 {
			lines, s = append(lines, s[:64]), s[64:]
		}
		return []byte(strings.Join(append(lines, s), "\r\n") + "\r\n")
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"relazione.pdf.p7m", derP7M(t, doc), "Via Caffè 12"},
		{"relazione.pdf.p7m", berP7M(t, doc, 1000), "Via Caffè 12"},
		{"relazione.pdf.p7m", b64(derP7M(t, doc)), "Via Caffè 12"},
		{"relazione.pdf.p7m", []byte("-----BEGIN PKCS7-----\n" + string(b64(derP7M(t, doc))) + "-----END PKCS7-----\n"), "Via Caffè 12"},
		{"relazione.pdf.p7m.p7m", derP7M(t, berP7M(t, doc, 4096)), "Via Caffè 12"},
		{"nota.txt.p7m", derP7M(t, []byte("perché firmata")), "perché firmata"},
		// The first bytes decide inside as outside.
		{"documento.p7m", derP7M(t, doc), "Via Caffè 12"},
		{"documento", berP7M(t, doc, 100), "Via Caffè 12"},
		{"documento", b64(derP7M(t, doc)), "Via Caffè 12"},
		// An envelope that lost its .p7m.
		{"relazione.pdf", derP7M(t, doc), "Via Caffè 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := x.Text(context.Background(), tt.name, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s, tt.want) {
				t.Errorf("text lacks %q: %q", tt.want, s)
			}
		})
	}
}

func TestP7MErrors(t *testing.T) {
	x := newExtractor(t, Options{})
	doc := pdfOf(t, relazione)
	full := derP7M(t, doc)
	nested := derP7M(t, nil)
	for range maxNesting + 1 {
		nested = derP7M(t, nested)
	}
	tests := []struct {
		name string
		data []byte
		is   error // nil: any error but the sentinels
	}{
		{"detached", derP7M(t, nil), ErrNoText},
		{"truncated", full[:len(full)/2], nil},
		{"truncated indefinite", func() []byte { b := berP7M(t, doc, 1000); return b[:len(b)/2] }(), nil},
		{"not signed data", def(0x30, []byte{0x06, 0x03, 0x2a, 0x03, 0x04}), nil},
		{"not ber", []byte("lorem ipsum"), nil},
		{"empty", nil, nil},
		{"nested too deep", nested, nil},
		{"deep indefinite", bytes.Repeat([]byte{0x30, 0x80}, 10000), nil},
		{"huge length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00}, nil},
		{"high tag number", []byte{0x3f, 0xff, 0xff, 0xff}, nil},
		{"unsupported content", derP7M(t, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := x.Text(context.Background(), "firmato.p7m", bytes.NewReader(tt.data))
			if err == nil {
				t.Fatalf("no error; text %q", s)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrNoText) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("error %v: a broken file is neither of the sentinels", err)
			}
		})
	}
}

// TestP7MOpenSSL reads envelopes real signing software wrote (openssl cms
// -sign -nodetach, streaming BER and PEM; a throwaway self-signed key), so
// that the walk is not only checked against this package's own idea of
// CMS.
func TestP7MOpenSSL(t *testing.T) {
	x := newExtractor(t, Options{})
	for _, name := range []string{"openssl-stream.txt.p7m", "openssl-pem.txt.p7m"} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := x.Text(context.Background(), name, f)
		f.Close()
		if want := "Relazione firmata digitalmente: perché è conforme."; err != nil || s != want {
			t.Errorf("%s: %q, %v; want %q", name, s, err, want)
		}
	}
}
