// Package signaturetest makes signed files for the tests with the real
// tool offices' signatures are made like: a test CA whose certificates
// carry the Italian fiscal number in serialNumber, as qualified
// certificates do, and envelopes signed by `openssl cms -sign`.
package signaturetest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Person is a signer of the fixtures.
type Person struct {
	Given, Family, Fiscal string
}

var (
	Rossi   = Person{"Mario", "Rossi", "RSSMRA80A01H223Y"}
	Bianchi = Person{"Laura", "Bianchi", "BNCLRA85M41E253K"}
	Verdi   = Person{"Giuseppe", "Verdi", "VRDGPP70A01H501X"} // expired certificate
	Neri    = Person{"Anna", "Neri", "NRENNA75C41F205Z"}      // under a CA nobody trusts
	Gialli  = Person{"Carlo", "Gialli", "GLLCRL72B01H223W"}   // revoked before he signed
)

// CAName is the test CA's organization, as the pages show the issuer.
const CAName = "Test Certification Authority Qualificata"

// Files are the fixtures, by what they are.
type Files struct {
	Dir        string
	CA         string // the trusted CA's certificate, PEM
	Document   []byte // the signed document, a small PDF
	DocumentAt string // its file
	Signed     string // domanda.pdf.p7m: Rossi, DER, CAdES
	Streamed   string // the same signed with -stream: BER, indefinite lengths, chunked
	Base64     string // the same in base64 (PEM armour)
	Double     string // domanda.pdf.p7m.p7m: Bianchi around Rossi's
	Tampered   string // Rossi's with a byte of the document changed
	Expired    string // Verdi's certificate had expired when he signed
	UnknownCA  string // Neri's certificate comes from another CA
	Revoked    string // Gialli's certificate was revoked an hour before he signed
	CRLDir     string // a folder with the CA's revocation list, naming Gialli's certificate
	Detached   string // domanda.pdf.p7s: Rossi, over Document
	RossiCert  string // PEM certificate and key of Rossi, for other tools
	RossiKey   string
	RossiP12   string // PKCS#12 of Rossi's key and certificate, password "test"
}

// Make writes the fixtures into a new folder of t.
func Make(t testing.TB) Files {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is missing: tests/run installs it")
	}
	dir := t.TempDir()
	f := Files{Dir: dir}
	now := time.Now()
	ca, caKey := authority(t, CAName, now)
	other, otherKey := authority(t, "Altra CA non riconosciuta", now)
	f.CA = writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw)
	f.Document = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	doc := filepath.Join(dir, "domanda.pdf")
	os.WriteFile(doc, f.Document, 0o644)
	f.DocumentAt = doc

	cert, key := signer(t, dir, "rossi", Rossi, ca, caKey, now.Add(-time.Hour), now.AddDate(2, 0, 0))
	f.RossiCert, f.RossiKey = cert, key
	f.RossiP12 = filepath.Join(dir, "rossi.p12")
	run(t, "openssl", "pkcs12", "-export", "-in", cert, "-inkey", key, "-certfile", f.CA, "-name", "rossi",
		"-passout", "pass:test", "-out", f.RossiP12)
	f.Signed = Sign(t, doc, filepath.Join(dir, "domanda.pdf.p7m"), cert, key, f.CA, "-nodetach", "-cades")
	f.Streamed = Sign(t, doc, filepath.Join(dir, "stream", "domanda.pdf.p7m"), cert, key, f.CA, "-nodetach", "-stream")
	f.Base64 = Sign(t, doc, filepath.Join(dir, "base64", "domanda.pdf.p7m"), cert, key, f.CA, "-nodetach", "-outform", "PEM")
	f.Detached = Sign(t, doc, filepath.Join(dir, "domanda.pdf.p7s"), cert, key, f.CA)

	bc, bk := signer(t, dir, "bianchi", Bianchi, ca, caKey, now.Add(-time.Hour), now.AddDate(2, 0, 0))
	f.Double = Sign(t, f.Signed, filepath.Join(dir, "domanda.pdf.p7m.p7m"), bc, bk, f.CA, "-nodetach", "-cades")

	signed, err := os.ReadFile(f.Signed)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(signed, []byte("/Type/Catalog"))
	if i < 0 {
		t.Fatal("the document is not in the envelope as it is")
	}
	tampered := bytes.Clone(signed)
	tampered[i+1] = 'X'
	f.Tampered = filepath.Join(dir, "manomessa", "domanda.pdf.p7m")
	os.MkdirAll(filepath.Dir(f.Tampered), 0o755)
	os.WriteFile(f.Tampered, tampered, 0o644)

	vc, vk := signer(t, dir, "verdi", Verdi, ca, caKey, now.AddDate(-3, 0, 0), now.AddDate(-1, 0, 0))
	f.Expired = Sign(t, doc, filepath.Join(dir, "scaduto", "domanda.pdf.p7m"), vc, vk, f.CA, "-nodetach")
	gc, gk := signer(t, dir, "gialli", Gialli, ca, caKey, now.Add(-2*time.Hour), now.AddDate(2, 0, 0))
	f.Revoked = Sign(t, doc, filepath.Join(dir, "revocato", "domanda.pdf.p7m"), gc, gk, f.CA, "-nodetach")
	f.CRLDir = filepath.Join(dir, "crl")
	os.MkdirAll(f.CRLDir, 0o755)
	revoked := readCert(t, gc)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.AddDate(0, 0, 7),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: revoked.SerialNumber, RevocationTime: now.Add(-time.Hour)}},
	}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, f.CRLDir, "ca.crl", "X509 CRL", crl)
	nc, nk := signer(t, dir, "neri", Neri, other, otherKey, now.Add(-time.Hour), now.AddDate(2, 0, 0))
	f.UnknownCA = Sign(t, doc, filepath.Join(dir, "sconosciuta", "domanda.pdf.p7m"), nc, nk, "", "-nodetach")
	return f
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// Sign makes an envelope of in with openssl cms.
func Sign(t testing.TB, in, out, cert, key, chain string, extra ...string) string {
	t.Helper()
	os.MkdirAll(filepath.Dir(out), 0o755)
	args := []string{"cms", "-sign", "-binary", "-md", "sha256", "-in", in, "-signer", cert, "-inkey", key, "-out", out}
	if chain != "" {
		args = append(args, "-certfile", chain)
	}
	outform := []string{"-outform", "DER"}
	for _, e := range extra {
		if e == "-outform" {
			outform = nil
		}
	}
	args = append(args, outform...)
	run(t, "openssl", append(args, extra...)...)
	return out
}

func authority(t testing.TB, name string, now time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{Country: []string{"IT"}, Organization: []string{name}, CommonName: name + " CA"},
		NotBefore:    now.AddDate(-10, 0, 0), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

var (
	oidGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// signer issues a qualified-style certificate to p: the fiscal number in
// serialNumber as TINIT-…, given name and surname, non-repudiation.
func signer(t testing.TB, dir, name string, p Person, ca *x509.Certificate, caKey *rsa.PrivateKey, from, until time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{Country: []string{"IT"}, CommonName: p.Given + " " + p.Family, SerialNumber: "TINIT-" + p.Fiscal,
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidGivenName, Value: p.Given}, {Type: oidSurname, Value: p.Family}}},
		NotBefore: from, NotAfter: until,
		KeyUsage: x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+".key", "PRIVATE KEY", kder)
}

func readCert(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TrustedList is an EU Trusted List (ETSI TS 119 612) naming the
// certificate in the PEM file ca as a qualified CA, granted.
func TrustedList(t testing.TB, ca string) []byte {
	t.Helper()
	b, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<tsl:TrustServiceStatusList xmlns:tsl="http://uri.etsi.org/02231/v2#" TSLTag="http://uri.etsi.org/19612/TSLTag">
<tsl:SchemeInformation><tsl:SchemeTerritory>IT</tsl:SchemeTerritory></tsl:SchemeInformation>
<tsl:TrustServiceProviderList><tsl:TrustServiceProvider><tsl:TSPInformation><tsl:TSPName><tsl:Name xml:lang="it">Test</tsl:Name></tsl:TSPName></tsl:TSPInformation>
<tsl:TSPServices>
<tsl:TSPService><tsl:ServiceInformation>
<tsl:ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</tsl:ServiceTypeIdentifier>
<tsl:ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted</tsl:ServiceStatus>
<tsl:ServiceDigitalIdentity><tsl:DigitalId><tsl:X509Certificate>`)
	buf.WriteString(base64.StdEncoding.EncodeToString(blk.Bytes))
	buf.WriteString(`</tsl:X509Certificate></tsl:DigitalId></tsl:ServiceDigitalIdentity>
</tsl:ServiceInformation></tsl:TSPService>
</tsl:TSPServices></tsl:TrustServiceProvider></tsl:TrustServiceProviderList>
</tsl:TrustServiceStatusList>
`)
	return buf.Bytes()
}

// PDFs are signed PDFs made by real tools: Chromium prints a page to PDF
// and poppler's pdfsig signs it (adbe.pkcs7.detached; pdfsig 22 adds no ETSI.CAdES.detached) with keys in
// an NSS database.
type PDFs struct {
	Plain    string // unsigned
	Signed   string // Rossi
	Twice    string // Rossi, then Bianchi in a later revision
	Tampered string // Rossi's, with a byte of the signed part changed
}

// MakePDFs signs PDFs with the people of f.
func MakePDFs(t testing.TB, f Files) PDFs {
	t.Helper()
	for _, tool := range []string{"chromium", "pdfsig", "certutil", "pk12util"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: tests/run installs it", tool)
		}
	}
	dir := filepath.Join(f.Dir, "pades")
	os.MkdirAll(dir, 0o755)
	html := filepath.Join(dir, "relazione.html")
	os.WriteFile(html, []byte(`<!DOCTYPE html><html lang="it"><meta charset="utf-8"><title>Relazione</title><h1>Relazione tecnica</h1><p>Pratica PC-2019-0042, Guastalla.</p></html>`), 0o644)
	p := PDFs{Plain: filepath.Join(dir, "relazione.pdf"), Signed: filepath.Join(dir, "relazione-firmata.pdf"),
		Twice: filepath.Join(dir, "relazione-due-firme.pdf"), Tampered: filepath.Join(dir, "relazione-manomessa.pdf")}
	run(t, "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profilo"),
		"--no-pdf-header-footer", "--print-to-pdf="+p.Plain, "file://"+html)
	nss := "sql:" + filepath.Join(dir, "nss")
	os.MkdirAll(filepath.Join(dir, "nss"), 0o700)
	run(t, "certutil", "-N", "-d", nss, "--empty-password")
	run(t, "pk12util", "-i", f.RossiP12, "-d", nss, "-W", "test", "-K", "")
	bp12 := filepath.Join(dir, "bianchi.p12")
	run(t, "openssl", "pkcs12", "-export", "-in", filepath.Join(f.Dir, "bianchi.pem"), "-inkey", filepath.Join(f.Dir, "bianchi.key"),
		"-name", "bianchi", "-passout", "pass:test", "-out", bp12)
	run(t, "pk12util", "-i", bp12, "-d", nss, "-W", "test", "-K", "")
	run(t, "pdfsig", "-nssdir", nss, "-add-signature", "-nick", "rossi", "-reason", "Firma del tecnico", p.Plain, p.Signed)
	run(t, "pdfsig", "-nssdir", nss, "-add-signature", "-nick", "bianchi", "-reason", "Visto del Comune", p.Signed, p.Twice)
	b, err := os.ReadFile(p.Signed)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("Relazione"))
	if i < 0 {
		i = 200
	}
	b[i] ^= 0x01
	os.WriteFile(p.Tampered, b, 0o644)
	return p
}
