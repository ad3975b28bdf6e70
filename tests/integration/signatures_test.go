package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/signature/signaturetest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSignedFiles: on S3, the file page of each signed file made by
// openssl names its signers — name, fiscal number, certification
// authority, signing time — with the right verdict; the original document
// comes out of the envelope byte for byte, with its SHA-256; a damaged
// envelope says so and gives no document.
func TestSignedFiles(t *testing.T) {
	f := signaturetest.Make(t)
	pdfs := signaturetest.MakePDFs(t, f)
	trustDir := t.TempDir()
	ca, _ := os.ReadFile(f.CA)
	os.WriteFile(filepath.Join(trustDir, "ca.pem"), ca, 0o644)

	const bucket = "firme"
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, fmt.Sprintf(`comuni:
  - id: guastalla
    name: Guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
signatures:
  trust_dir: %s
  crl_dir: %s
`, bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey, trustDir, f.CRLDir))
	const d = "/guastalla/2019/PC-2019-0042"
	for _, p := range []string{"/guastalla/2019", d} {
		mustStatus(t, g, "MKCOL", p, nil, "", http.StatusCreated)
	}
	put := func(name, file string) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, g, "PUT", d+"/"+name, nil, string(b), http.StatusCreated)
	}
	put("domanda.pdf.p7m", f.Signed)
	put("domanda-stream.pdf.p7m", f.Streamed)
	put("domanda-base64.pdf.p7m", f.Base64)
	put("domanda2.pdf.p7m.p7m", f.Double)
	put("manomessa.pdf.p7m", f.Tampered)
	put("scaduta.pdf.p7m", f.Expired)
	put("sconosciuta.pdf.p7m", f.UnknownCA)
	put("revocata.pdf.p7m", f.Revoked)
	put("domanda.pdf", f.DocumentAt)
	put("domanda.pdf.p7s", f.Detached)
	put("relazione.pdf", pdfs.Plain)
	put("relazione-firmata.pdf", pdfs.Signed)
	put("relazione-due-firme.pdf", pdfs.Twice)
	put("relazione-manomessa.pdf", pdfs.Tampered)
	mustStatus(t, g, "PUT", d+"/rotta.pdf.p7m", nil, "\x30\x80 non è una busta", http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/sola.pdf.p7s", nil, "x", http.StatusCreated)

	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	rossi := "Mario Rossi"
	for _, tt := range []struct {
		file    string
		want    []string // in this order
		notWant []string
	}{
		{"domanda.pdf.p7m", []string{rossi, "Firma valida", signaturetest.Rossi.Fiscal, signaturetest.CAName, "Il documento è integro", "non risulta revocato", "Documento firmato: domanda.pdf", `src="/_/originale` + d + `/domanda.pdf.p7m"`}, []string{"non valida"}},
		{"domanda-stream.pdf.p7m", []string{rossi, "Firma valida", "Il documento è integro"}, nil},
		{"domanda-base64.pdf.p7m", []string{rossi, "Firma valida"}, nil},
		{"domanda2.pdf.p7m.p7m", []string{"firmato 2 volte", "Laura Bianchi", "Firma valida", "1 di 2", rossi, "Firma valida", "2 di 2", "Documento firmato: domanda2.pdf"}, nil},
		{"manomessa.pdf.p7m", []string{rossi, "Firma non valida", "Il documento è stato modificato dopo la firma"}, []string{"Firma valida"}},
		{"scaduta.pdf.p7m", []string{"Giuseppe Verdi", "Firma non valida", "era scaduto, o non ancora valido, al momento della firma"}, []string{"Firma valida"}},
		{"sconosciuta.pdf.p7m", []string{"Anna Neri", "Firma non verificata del tutto", "certificatore non riconosciuto (Altra CA non riconosciuta)"}, []string{"Firma valida"}},
		{"revocata.pdf.p7m", []string{"Carlo Gialli", "Firma non valida", "revocato il", "prima della firma"}, []string{"Firma valida"}},
		{"domanda.pdf.p7s", []string{"Firma separata del file", "domanda.pdf", rossi, "Firma valida", "Il documento è integro"}, []string{"Documento firmato:"}},
		{"rotta.pdf.p7m", []string{"non contiene una firma digitale leggibile"}, []string{"Firma valida"}},
		{"sola.pdf.p7s", []string{"Il file firmato non è nella stessa cartella"}, nil},
		{"relazione-firmata.pdf", []string{"Il PDF contiene una firma", rossi, "Firma valida", signaturetest.Rossi.Fiscal, "Il documento è integro"}, []string{"aggiunte", "Documento firmato:"}},
		{"relazione-due-firme.pdf", []string{"Il PDF contiene 2 firme", rossi, "Firma valida", "1 di 2", "ricevuto aggiunte", "Laura Bianchi", "Firma valida", "2 di 2"}, nil},
		{"relazione-manomessa.pdf", []string{rossi, "Firma non valida", "modificato dopo la firma"}, []string{"Firma valida"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			code, page := b.Get("/_/scheda" + d + "/" + tt.file)
			if code != 200 {
				t.Fatalf("file page: %d\n%s", code, page)
			}
			_, section, _ := strings.Cut(page, `id="firme"`)
			rest := section
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("the signatures' section lacks %q (in order):\n%s", w, section)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.notWant {
				if strings.Contains(section, w) {
					t.Errorf("the signatures' section says %q:\n%s", w, section)
				}
			}
		})
	}

	if _, page := b.Get("/_/scheda" + d + "/relazione.pdf"); strings.Contains(page, `id="firme"`) {
		t.Errorf("an unsigned PDF has a section on signatures")
	}
	if _, page := b.Get("/_/scheda" + d + "/domanda.pdf"); !strings.Contains(page, `<a href="/_/scheda`+d+`/domanda.pdf.p7s#firme">domanda.pdf.p7s</a>`) {
		t.Errorf("the signed file's page does not lead to its detached signature")
	}
	// The original, out of each envelope, byte for byte; its digest on
	// the page is the document's.
	sum := sha256.Sum256(f.Document)
	for _, name := range []string{"domanda.pdf.p7m", "domanda-stream.pdf.p7m", "domanda-base64.pdf.p7m", "domanda2.pdf.p7m.p7m"} {
		resp, err := b.Client().Get(g.URL + "/_/originale" + d + "/" + name + "?scarica=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		if resp.StatusCode != 200 || !bytes.Equal(body, f.Document) || !strings.Contains(cd, `attachment; filename="domanda`) ||
			resp.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("%s: original %d, %d bytes, %q %q", name, resp.StatusCode, len(body), cd, resp.Header.Get("Content-Type"))
		}
	}
	if _, page := b.Get("/_/scheda" + d + "/domanda.pdf.p7m"); !strings.Contains(page, hex.EncodeToString(sum[:])) {
		t.Errorf("the page does not show the original's SHA-256")
	}
	resp, err := b.Client().Get(g.URL + "/_/originale" + d + "/domanda.pdf.p7m")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("the preview: %q, CSP %q", cd, resp.Header.Get("Content-Security-Policy"))
	}
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/rotta.pdf.p7m", http.StatusUnprocessableEntity},
		{"/domanda.pdf", http.StatusNotFound}, // not an envelope
		{"/manca.pdf.p7m", http.StatusNotFound},
	} {
		if code, page := b.Get("/_/originale" + d + tt.path); code != tt.code || strings.Contains(page, "cms:") {
			t.Errorf("original of %s: %d, want %d\n%s", tt.path, code, tt.code, page)
		}
	}
	// The file beside a detached signature changes: the signature's page
	// says so at once (its verdict is not kept).
	mustStatus(t, g, "PUT", d+"/domanda.pdf", nil, string(f.Document)+"% aggiunta", http.StatusNoContent)
	if _, page := b.Get("/_/scheda" + d + "/domanda.pdf.p7s"); !strings.Contains(page, "Il documento è stato modificato dopo la firma") {
		t.Errorf("the detached signature's page after its file changed does not say so")
	}
	// Another Comune's person sees nothing of it.
	other := g.AddUser("estraneo", "password-di-estraneo")
	if code, body, _ := other.Status("GET", "/_/originale"+d+"/domanda.pdf.p7m", nil, ""); strings.Contains(body, "%PDF") {
		t.Errorf("the pages took a password without a session: %d", code)
	}
	ob := harness.NewBrowser(t, g)
	ob.SignIn("estraneo", "password-di-estraneo")
	if code, page := ob.Get("/_/originale" + d + "/domanda.pdf.p7m"); code != http.StatusNotFound {
		t.Errorf("a stranger's original: %d, want 404\n%.600s", code, page)
	}
}
