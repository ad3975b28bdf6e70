package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/signature/signaturetest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSignedFilePages: at tablet and PC size, the page of a file signed
// twice shows both signers with their verdicts and previews the document
// taken out of the envelopes; a tampered envelope and a signed PDF say
// what they are; the pages pass axe.
func TestSignedFilePages(t *testing.T) {
	a11y := filepath.Join(harness.Root(), "tests", "a11y")
	if err := harness.NpmCI(a11y); err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(a11y, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	f := signaturetest.Make(t)
	pdfs := signaturetest.MakePDFs(t, f)
	trustDir := t.TempDir()
	ca, _ := os.ReadFile(f.CA)
	os.WriteFile(filepath.Join(trustDir, "ca.pem"), ca, 0o644)
	g := harness.StartServe(t, fmt.Sprintf("comuni:\n  - {id: guastalla, name: Guastalla}\nsignatures:\n  trust_dir: %s\n", trustDir))
	const d = "/guastalla/2019/PC-2019-0042"
	for _, p := range []string{"/guastalla/2019", d} {
		if code, _, _ := g.Status("MKCOL", p, nil, ""); code != 201 {
			t.Fatalf("MKCOL %s: %d", p, code)
		}
	}
	for name, file := range map[string]string{"domanda.pdf.p7m.p7m": f.Double, "manomessa.pdf.p7m": f.Tampered, "relazione.pdf": pdfs.Twice} {
		b, _ := os.ReadFile(file)
		if code, _, _ := g.Status("PUT", d+"/"+name, nil, string(b)); code != 201 {
			t.Fatalf("PUT %s: %d", name, code)
		}
	}
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h), harness.SignIn(g.URL, g.User, g.Pass)); err != nil {
				t.Fatal(err)
			}
			var names, verdicts []string
			var original string
			var fits bool
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/domanda.pdf.p7m.p7m"),
				chromedp.WaitVisible(`#firme`, chromedp.ByID),
				chromedp.Evaluate(`[...document.querySelectorAll("#firme .nome-firmatario")].map(e => e.textContent)`, &names),
				chromedp.Evaluate(`[...document.querySelectorAll("#firme .firmatario")].map(e => e.className.match(/firma-[a-z-]+/)[0])`, &verdicts),
				chromedp.WaitVisible(`#anteprima-originale`, chromedp.ByID),
				// What the preview shows is the document, out of both envelopes.
				chromedp.Evaluate(`document.documentElement.scrollWidth <= window.innerWidth`, &fits),
				chromedp.Evaluate(`(async () => { const r = await fetch(document.getElementById("anteprima-originale").src); return (await r.text()).slice(0, 8); })()`,
					&original, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
			); err != nil {
				t.Fatalf("the page of a file signed twice: %v\n%s", err, g.Log())
			}
			screenshot(t, ctx, "firme-"+size.name)
			if strings.Join(names, ",") != "Laura Bianchi,Mario Rossi" || strings.Join(verdicts, ",") != "firma-valida,firma-valida" ||
				original != "%PDF-1.4" || !fits {
				t.Errorf("signers %q, verdicts %q, preview %q, fits the width %v", names, verdicts, original, fits)
			}
			checkAxe(t, ctx, g.URL+"/_/scheda"+d+"/domanda.pdf.p7m.p7m", "firme", size.w, string(axe))

			var tampered string
			var pdfSigners int
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/manomessa.pdf.p7m"),
				chromedp.WaitVisible(`#firme .firma-non-valida`, chromedp.ByQuery),
				chromedp.Text(`#firme .firma-non-valida`, &tampered, chromedp.ByQuery),
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/relazione.pdf"),
				chromedp.WaitVisible(`#firme-pdf`, chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll("#firme .firma-valida").length`, &pdfSigners),
			); err != nil {
				t.Fatalf("a tampered envelope and a signed PDF: %v", err)
			}
			screenshot(t, ctx, "firme-pdf-"+size.name)
			if !strings.Contains(tampered, "modificato dopo la firma") || pdfSigners != 2 {
				t.Errorf("tampered: %q; valid signatures of the PDF: %d", tampered, pdfSigners)
			}
			checkAxe(t, ctx, g.URL+"/_/scheda"+d+"/relazione.pdf", "firme-pdf", size.w, string(axe))
		})
	}
}
