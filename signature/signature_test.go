package signature_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/signature"
	"github.com/bassareggiana/faldone/signature/cms"
	"github.com/bassareggiana/faldone/signature/signaturetest"
	"github.com/bassareggiana/faldone/signature/trust"
)

// countingReaderAt counts the reads, as ranged GETs would be.
type countingReaderAt struct {
	r     io.ReaderAt
	reads int
	bytes int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

type fixedTrust struct{ opts cms.Options }

func (f fixedTrust) Options() cms.Options { return f.opts }

func caTrust(t *testing.T, caFile string) fixedTrust {
	b, _ := os.ReadFile(caFile)
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return fixedTrust{cms.Options{Roots: pool}}
}

type signerWant struct {
	fiscal    string
	integrity cms.Integrity
	trust     cms.Trust
	sigOK     bool
	validAt   bool
}

func TestRead(t *testing.T) {
	f := signaturetest.Make(t)
	in := &signature.Inspector{Trust: caTrust(t, f.CA)}
	rossi := signerWant{"TINIT-" + signaturetest.Rossi.Fiscal, cms.IntegrityMatch, cms.TrustOK, true, true}
	for _, tt := range []struct {
		name    string
		file    string
		signers []signerWant
		doc     bool // the document comes out as signed
		trust   signature.Trust
	}{
		{"CAdES, DER", f.Signed, []signerWant{rossi}, true, nil},
		{"BER, streamed", f.Streamed, []signerWant{rossi}, true, nil},
		{"base64", f.Base64, []signerWant{rossi}, true, nil},
		{"signed twice", f.Double, []signerWant{{"TINIT-" + signaturetest.Bianchi.Fiscal, cms.IntegrityMatch, cms.TrustOK, true, true}, rossi}, true, nil},
		{"tampered", f.Tampered, []signerWant{{rossi.fiscal, cms.IntegrityMismatch, cms.TrustOK, true, true}}, false, nil},
		{"expired", f.Expired, []signerWant{{"TINIT-" + signaturetest.Verdi.Fiscal, cms.IntegrityMatch, cms.TrustExpired, true, false}}, true, nil},
		{"unknown CA", f.UnknownCA, []signerWant{{"TINIT-" + signaturetest.Neri.Fiscal, cms.IntegrityMatch, cms.TrustUnknownCA, true, true}}, true, nil},
		{"no trust store", f.Signed, []signerWant{{rossi.fiscal, cms.IntegrityMatch, cms.TrustNoStore, true, true}}, true, fixedTrust{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ins := in
			if tt.trust != nil {
				ins = &signature.Inspector{Trust: tt.trust}
			}
			file, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			var doc bytes.Buffer
			rep, err := ins.Read(file, &doc)
			if err != nil {
				t.Fatal(err)
			}
			check(t, rep, tt.signers, true)
			if got := bytes.Equal(doc.Bytes(), f.Document); got != tt.doc {
				t.Errorf("document as signed: %v, want %v (%d bytes)", got, tt.doc, doc.Len())
			}
			if rep.DocumentSHA256 != sha256.Sum256(doc.Bytes()) || rep.DocumentSize != int64(doc.Len()) {
				t.Errorf("document's digest or size not the document's")
			}

			// The quick path: the same signers, the integrity unknown, in a
			// few reads of a DER envelope however large.
			st, _ := file.Stat()
			ra := &countingReaderAt{r: file}
			peek, err := ins.Peek(ra, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			want := append([]signerWant(nil), tt.signers...)
			if !peek.Read {
				for i := range want {
					want[i].integrity = cms.IntegrityUnknown
				}
			}
			check(t, peek, want, peek.Read)
		})
	}
}

func check(t *testing.T, rep *signature.Report, want []signerWant, read bool) {
	t.Helper()
	got := rep.Signers()
	if len(got) != len(want) || rep.Read != read {
		t.Fatalf("%d signers, read %v; want %d, %v", len(got), rep.Read, len(want), read)
	}
	for i, w := range want {
		g := got[i]
		if g.Cert == nil || g.Cert.Subject.SerialNumber != w.fiscal {
			t.Errorf("signer %d: certificate %v, want %s", i, g.Cert, w.fiscal)
			continue
		}
		if g.Integrity != w.integrity || g.Trust != w.trust || (g.SignatureErr == nil) != w.sigOK || g.ValidAt != w.validAt {
			t.Errorf("signer %d (%s): integrity %v trust %v (%v) signature %v valid at %v; want %v %v %v %v",
				i, w.fiscal, g.Integrity, g.Trust, g.TrustErr, g.SignatureErr, g.ValidAt, w.integrity, w.trust, w.sigOK, w.validAt)
		}
		if g.SigningTime.IsZero() || time.Since(g.SigningTime) > time.Hour {
			t.Errorf("signer %d: signing time %v", i, g.SigningTime)
		}
	}
}

func TestPeekLargeEnvelope(t *testing.T) {
	f := signaturetest.Make(t)
	big := filepath.Join(t.TempDir(), "tavola.pdf")
	content := bytes.Repeat([]byte("%PDF scansione "), 2<<20) // 30 MB
	os.WriteFile(big, content, 0o644)
	out := filepath.Join(t.TempDir(), "tavola.pdf.p7m")
	signaturetest.Sign(t, big, out, f.RossiCert, f.RossiKey, f.CA, "-nodetach")
	file, _ := os.Open(out)
	defer file.Close()
	st, _ := file.Stat()
	ra := &countingReaderAt{r: file}
	rep, err := (&signature.Inspector{Trust: caTrust(t, f.CA)}).Peek(ra, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read || len(rep.Signers()) != 1 || !rep.Signers()[0].ValidAt {
		t.Fatalf("peek: read %v, %d signers", rep.Read, len(rep.Signers()))
	}
	if ra.reads > 6 || ra.bytes > 512<<10 {
		t.Errorf("the signers of a %d-byte envelope took %d reads, %d bytes", st.Size(), ra.reads, ra.bytes)
	}
}

func TestDetached(t *testing.T) {
	f := signaturetest.Make(t)
	in := &signature.Inspector{Trust: caTrust(t, f.CA)}
	for _, tt := range []struct {
		name    string
		content []byte
		want    cms.Integrity
	}{
		{"the file signed", f.Document, cms.IntegrityMatch},
		{"another file", append(bytes.Clone(f.Document), ' '), cms.IntegrityMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sig, _ := os.Open(f.Detached)
			defer sig.Close()
			rep, err := in.Detached(sig, bytes.NewReader(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Signers()
			if len(s) != 1 || s[0].Integrity != tt.want || s[0].Trust != cms.TrustOK {
				t.Fatalf("%+v", s)
			}
		})
	}
	// An attached envelope is not a detached signature.
	sig, _ := os.Open(f.Signed)
	defer sig.Close()
	if _, err := in.Detached(sig, bytes.NewReader(nil)); !errors.Is(err, signature.ErrNotSigned) {
		t.Errorf("an attached envelope as a detached signature: %v", err)
	}
}

func TestNotSigned(t *testing.T) {
	f := signaturetest.Make(t)
	signed, _ := os.ReadFile(f.Signed)
	in := &signature.Inspector{}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"a PDF", f.Document},
		{"truncated", signed[:len(signed)/2]},
		{"truncated header", signed[:20]},
		{"garbage", bytes.Repeat([]byte{0x30, 0x80}, 1000)},
		{"base64 of garbage", []byte("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := in.Read(bytes.NewReader(tt.data), io.Discard); !errors.Is(err, signature.ErrNotSigned) {
				t.Errorf("Read: %v, want ErrNotSigned", err)
			}
			if _, err := in.Peek(bytes.NewReader(tt.data), int64(len(tt.data))); !errors.Is(err, signature.ErrNotSigned) {
				t.Errorf("Peek: %v, want ErrNotSigned", err)
			}
		})
	}
}

func TestTrustStore(t *testing.T) {
	f := signaturetest.Make(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	list := filepath.Join(t.TempDir(), "IT_TSL.xml")
	os.WriteFile(list, signaturetest.TrustedList(t, f.CA), 0o644)

	verdict := func(s *trust.Store) cms.Trust {
		file, _ := os.Open(f.Signed)
		defer file.Close()
		rep, err := (&signature.Inspector{Trust: s}).Read(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Signers()[0].Trust
	}
	// The trusted list alone.
	s, err := trust.New(trust.Sources{List: list}, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	if v := verdict(s); v != cms.TrustOK || s.Count() != 1 {
		t.Errorf("from the trusted list: %v, %d certificates", v, s.Count())
	}
	// An empty folder trusts nothing; the CA copied in is read again.
	s, err = trust.New(trust.Sources{Dir: dir}, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	if v := verdict(s); v != cms.TrustUnknownCA {
		t.Errorf("an empty folder: %v", v)
	}
	ca, _ := os.ReadFile(f.CA)
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644)
	if v := verdict(s); v != cms.TrustOK {
		t.Errorf("after the CA was added: %v", v)
	}
	// A folder or list that is not there stops the start.
	if _, err := trust.New(trust.Sources{Dir: filepath.Join(dir, "manca")}, 0, log); err == nil {
		t.Error("a missing folder was accepted")
	}
	if _, err := trust.New(trust.Sources{List: filepath.Join(dir, "manca.xml")}, 0, log); err == nil {
		t.Error("a missing list was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(strings.Replace(string(signaturetest.TrustedList(t, f.CA)), "granted", "withdrawn", 1)), 0o644)
	if _, err := trust.New(trust.Sources{List: bad}, 0, log); err == nil {
		t.Error("a list with no granted CA was accepted")
	}
}

func TestDocumentName(t *testing.T) {
	for in, want := range map[string]string{
		"domanda.pdf.p7m": "domanda.pdf", "domanda.pdf.P7M.p7m": "domanda.pdf", "tavola.dwg": "tavola.dwg", ".p7m": ".p7m",
	} {
		if got := signature.DocumentName(in); got != want {
			t.Errorf("DocumentName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRevocation(t *testing.T) {
	f := signaturetest.Make(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	ca, _ := os.ReadFile(f.CA)
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644)
	withCRL, err := trust.New(trust.Sources{Dir: dir, CRLs: f.CRLDir}, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	without, err := trust.New(trust.Sources{Dir: dir}, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		file  string
		store *trust.Store
		want  cms.Revocation
		valid bool
	}{
		{"not revoked", f.Signed, withCRL, cms.RevocationGood, true},
		{"revoked before signing", f.Revoked, withCRL, cms.RevocationRevoked, false},
		{"no list", f.Revoked, without, cms.RevocationUnchecked, true},
		{"another issuer's list", f.UnknownCA, withCRL, cms.RevocationUnchecked, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file, _ := os.Open(tt.file)
			defer file.Close()
			rep, err := (&signature.Inspector{Trust: tt.store}).Read(file, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Signers()[0]
			if r.Revocation != tt.want || r.Valid() != tt.valid {
				t.Errorf("revocation %v, valid %v; want %v, %v", r.Revocation, r.Valid(), tt.want, tt.valid)
			}
		})
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "rotta.crl"), []byte("non è una CRL"), 0o644)
	if _, err := trust.New(trust.Sources{Dir: dir, CRLs: bad}, 0, log); err == nil {
		t.Error("a folder with a broken revocation list was accepted")
	}
}
