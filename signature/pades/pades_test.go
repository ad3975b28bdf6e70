package pades_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"github.com/bassareggiana/faldone/signature/cms"
	"github.com/bassareggiana/faldone/signature/pades"
	"github.com/bassareggiana/faldone/signature/signaturetest"
)

func TestVerify(t *testing.T) {
	f := signaturetest.Make(t)
	pdfs := signaturetest.MakePDFs(t, f)
	b, _ := os.ReadFile(f.CA)
	blk, _ := pem.Decode(b)
	ca, _ := x509.ParseCertificate(blk.Bytes)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	type want struct {
		fiscal    string
		integrity cms.Integrity
		whole     bool
	}
	rossi, bianchi := "TINIT-"+signaturetest.Rossi.Fiscal, "TINIT-"+signaturetest.Bianchi.Fiscal
	for _, tt := range []struct {
		name string
		file string
		want []want
	}{
		{"unsigned", pdfs.Plain, nil},
		{"signed", pdfs.Signed, []want{{rossi, cms.IntegrityMatch, true}}},
		{"signed twice", pdfs.Twice, []want{{rossi, cms.IntegrityMatch, false}, {bianchi, cms.IntegrityMatch, true}}},
		{"tampered", pdfs.Tampered, []want{{rossi, cms.IntegrityMismatch, true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			st, _ := file.Stat()
			sigs, err := pades.Verify(file, st.Size(), cms.Options{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != len(tt.want) {
				t.Fatalf("%d signatures, want %d", len(sigs), len(tt.want))
			}
			for i, w := range tt.want {
				s := sigs[i]
				if s.Err != nil || len(s.Results) != 1 {
					t.Fatalf("signature %d: %v, %d signers", i, s.Err, len(s.Results))
				}
				r := s.Results[0]
				if r.Cert.Subject.SerialNumber != w.fiscal || r.Integrity != w.integrity || s.Whole != w.whole ||
					r.SignatureErr != nil || r.Trust != cms.TrustOK {
					t.Errorf("signature %d: %s integrity %v whole %v signature %v trust %v (%v)", i,
						r.Cert.Subject.SerialNumber, r.Integrity, s.Whole, r.SignatureErr, r.Trust, r.TrustErr)
				}
			}
		})
	}
}

// FuzzFind: the scan of byte ranges ends, within its bounds, on any bytes.
func FuzzFind(f *testing.F) {
	f.Add([]byte("/ByteRange [0 10 20 5] /Contents <3080>"))
	f.Add([]byte("/ByteRange[0 1 3 1]<>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytesReaderAt(b)
		ranges, err := pades.Find(r, int64(len(b)))
		if err == nil && len(ranges) > pades.MaxSignatures {
			t.Fatalf("%d ranges", len(ranges))
		}
		pades.Verify(r, int64(len(b)), cms.Options{})
	})
}
