package browser

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	_ "image/png"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/gateway/demo"
	"github.com/bassareggiana/faldone/tests/harness"
)

const dossier = "/guastalla/2019/PC-2019-0042"

// assertDigest checks that a file has the SHA-256 of content in Repr-Digest.
func assertDigest(t *testing.T, g *harness.Gateway, p, content string) {
	t.Helper()
	sum := sha256.Sum256([]byte(content))
	want := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	if code, _, h := g.Status("HEAD", p, nil, ""); code != 200 || h.Get("Repr-Digest") != want {
		t.Errorf("HEAD %s = %d with Repr-Digest %q, want %q", p, code, h.Get("Repr-Digest"), want)
	}
}

// TestArchiveFiles: as an editor of the Comune, a file's page with its PDF or photo previewed in the
// page, at a tablet's and a desktop's size; files and a folder dropped on a
// folder page; rename and delete; a dossier downloaded as ZIP by the
// browser; and a reader, who sees no controls and is refused when forcing.
func TestArchiveFiles(t *testing.T) {
	// An editor of the Comune does what editors do; the sample dossiers of
	// the demo are the archive.
	const editore, editorePass = "editore", "password-dell-editore"
	g := harness.StartServe(t, "access:\n  admins: [operatore]\n  assignments:\n    - {person: editore, comune: guastalla, role: editor}\n")
	g.AddUser(editore, editorePass)
	if _, err := demo.Seed(filepath.Join(g.DataDir, "archivio"), []demo.Comune{{ID: "guastalla", Name: "Guastalla"}}); err != nil {
		t.Fatal(err)
	}
	for _, size := range screens {
		t.Run("preview "+size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			var kind, lock string
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, editore, editorePass),
				chromedp.Navigate(g.URL+"/_/archivio"+dossier+"/"),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Click(`//a[@class="file" and text()="domanda.pdf"]`, chromedp.BySearch),
				chromedp.WaitVisible(`#anteprima`, chromedp.ByID),
				chromedp.Text(`#tipo`, &kind, chromedp.ByID),
				chromedp.Text(`#blocco`, &lock, chromedp.ByID),
			); err != nil {
				t.Fatalf("open a file's page: %v", err)
			}
			if kind != "Documento PDF" || !strings.Contains(lock, "nessuno") {
				t.Errorf("details: type %q, lock %q", kind, lock)
			}
			waitPDFShown(t, ctx)
			screenshot(t, ctx, "scheda-pdf-"+size.name)

			var width int
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+dossier+"/foto-sopralluogo-01.jpg"),
				chromedp.WaitVisible(`#anteprima`, chromedp.ByID),
				chromedp.Poll(`document.getElementById("anteprima").complete && document.getElementById("anteprima").naturalWidth`, &width, chromedp.WithPollingTimeout(10*time.Second)),
			); err != nil {
				t.Fatalf("photo preview: %v", err)
			}
			if width == 0 {
				t.Errorf("the photo did not load in the page")
			}
			screenshot(t, ctx, "scheda-foto-"+size.name)
		})
	}

	t.Run("drag and drop", func(t *testing.T) {
		src := t.TempDir()
		files := map[string]string{
			"istanza.pdf":               "%PDF istanza",
			"Tavole/pianta-piano-1.dxf": "0\nSECTION\n",
			"Tavole/dettagli/nodo.dxf":  "0\nSECTION\nnodo\n",
		}
		for name, content := range files {
			p := filepath.Join(src, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(content), 0o644)
		}
		os.MkdirAll(filepath.Join(src, "Tavole", "vuota"), 0o755)
		ctx := newBrowser(t)
		var x, y float64
		if err := chromedp.Run(ctx,
			harness.SignIn(g.URL, editore, editorePass),
			chromedp.Navigate(g.URL+"/_/archivio"+dossier+"/"),
			chromedp.WaitVisible(`#zona-rilascio`, chromedp.ByID),
			// Below the list: dropped where a person would, in view.
			chromedp.ScrollIntoView(`#zona-rilascio`, chromedp.ByID),
			chromedp.Evaluate(`(function(){var r=document.getElementById("zona-rilascio").getBoundingClientRect();return r.left+r.width/2})()`, &x),
			chromedp.Evaluate(`(function(){var r=document.getElementById("zona-rilascio").getBoundingClientRect();return r.top+r.height/2})()`, &y),
		); err != nil {
			t.Fatal(err)
		}
		// What the desktop hands the browser when a file and a folder are
		// dragged from it onto the page.
		data := &input.DragData{Files: []string{filepath.Join(src, "istanza.pdf"), filepath.Join(src, "Tavole")}, DragOperationsMask: 1}
		if err := chromedp.Run(ctx,
			input.DispatchDragEvent(input.DragEnter, x, y, data),
			input.DispatchDragEvent(input.DragOver, x, y, data),
			input.DispatchDragEvent(input.Drop, x, y, data),
		); err != nil {
			t.Fatalf("drop: %v", err)
		}
		// The page reloads when the upload is done, with the new folder.
		if err := chromedp.Run(ctx, chromedp.WaitVisible(`//a[@class="cartella" and text()="Tavole/"]`, chromedp.BySearch)); err != nil {
			t.Fatalf("after the drop: %v", err)
		}
		for name, content := range files {
			if code, body, _ := g.Status("GET", dossier+"/"+name, nil, ""); code != 200 || body != content {
				t.Errorf("dropped %s: %d %q", name, code, body)
			}
			assertDigest(t, g, dossier+"/"+name, content)
		}
		if code, _, _ := g.Status("PROPFIND", dossier+"/Tavole/vuota/", map[string]string{"Depth": "0"}, ""); code != 207 {
			t.Errorf("the dropped empty folder: %d", code)
		}
		// The chooser for a whole folder sends its tree too.
		os.MkdirAll(filepath.Join(src, "Rilievi", "prospetti"), 0o755)
		os.WriteFile(filepath.Join(src, "Rilievi", "prospetti", "nord.dxf"), []byte("prospetto nord"), 0o644)
		if err := chromedp.Run(ctx,
			openUpload,
			chromedp.WaitVisible(`#cartella-file`, chromedp.ByID),
			chromedp.SetUploadFiles(`#cartella-file`, []string{filepath.Join(src, "Rilievi")}, chromedp.ByID),
			chromedp.Click(`#carica`, chromedp.ByID),
		); err != nil {
			t.Fatalf("folder chooser: %v", err)
		}
		if err := chromedp.Run(ctx, chromedp.WaitVisible(`//a[@class="cartella" and text()="Rilievi/"]`, chromedp.BySearch)); err != nil {
			t.Fatalf("after the folder upload: %v", err)
		}
		screenshot(t, ctx, "cartella-caricata")
		if code, body, _ := g.Status("GET", dossier+"/Rilievi/prospetti/nord.dxf", nil, ""); code != 200 || body != "prospetto nord" {
			t.Errorf("uploaded folder: %d %q", code, body)
		}
	})

	t.Run("rename and delete", func(t *testing.T) {
		g.Status("PUT", dossier+"/bozza.pdf", nil, "%PDF bozza")
		ctx := newBrowser(t)
		asked := listenDialogs(ctx)
		if err := chromedp.Run(ctx,
			harness.SignIn(g.URL, editore, editorePass),
			chromedp.Navigate(g.URL+"/_/scheda"+dossier+"/bozza.pdf"),
			chromedp.WaitVisible(`#nuovo-nome`, chromedp.ByID),
			chromedp.SetValue(`#nuovo-nome`, "variante-2026.pdf", chromedp.ByID),
			chromedp.Click(`#rinomina`, chromedp.ByID),
			chromedp.WaitVisible(`//a[@class="file" and text()="variante-2026.pdf"]`, chromedp.BySearch),
		); err != nil {
			t.Fatalf("rename: %v", err)
		}
		if code, _, _ := g.Status("HEAD", dossier+"/bozza.pdf", nil, ""); code != 404 {
			t.Errorf("old name after rename: %d", code)
		}
		if code, body, _ := g.Status("GET", dossier+"/variante-2026.pdf", nil, ""); code != 200 || body != "%PDF bozza" {
			t.Errorf("new name after rename: %d %q", code, body)
		}
		assertDigest(t, g, dossier+"/variante-2026.pdf", "%PDF bozza")
		if err := chromedp.Run(ctx,
			chromedp.Click(`//a[@class="file" and text()="variante-2026.pdf"]`, chromedp.BySearch),
			chromedp.WaitVisible(`#elimina`, chromedp.ByID),
			chromedp.Click(`#elimina`, chromedp.ByID),
			chromedp.WaitVisible(`#elenco`, chromedp.ByID),
		); err != nil {
			t.Fatalf("delete: %v\n%s", err, g.Log())
		}
		if code, _, _ := g.Status("HEAD", dossier+"/variante-2026.pdf", nil, ""); code != 404 {
			t.Errorf("after delete: %d", code)
		}
		select {
		case msg := <-asked:
			if !strings.Contains(msg, "variante-2026.pdf") {
				t.Errorf("delete confirmation: %q", msg)
			}
		default:
			t.Error("the page deleted without asking")
		}
	})

	t.Run("ZIP download", func(t *testing.T) {
		dir := t.TempDir()
		ctx := newBrowser(t)
		done := make(chan string, 1)
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
				done <- e.GUID
			}
		})
		if err := chromedp.Run(ctx,
			browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dir).WithEventsEnabled(true),
			harness.SignIn(g.URL, editore, editorePass),
			chromedp.Navigate(g.URL+"/_/archivio"+dossier+"/"),
			chromedp.WaitVisible(`#scarica-zip`, chromedp.ByID),
			chromedp.Click(`#scarica-zip`, chromedp.ByID),
		); err != nil {
			t.Fatal(err)
		}
		var guid string
		select {
		case guid = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the ZIP download did not finish")
		}
		body, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("downloaded ZIP: %v", err)
		}
		want := map[string]string{}
		root := filepath.Join(g.Archive("guastalla"), "2019", "PC-2019-0042")
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(filepath.Dir(root), p)
				want[filepath.ToSlash(rel)] = string(b)
			}
			return nil
		})
		// SHA256SUMS lists each file's SHA-256 as sha256sum does, paths
		// from the dossier's folder.
		var sums strings.Builder
		names := slices.Sorted(maps.Keys(want))
		for _, name := range names {
			fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256([]byte(want[name])), strings.TrimPrefix(name, "PC-2019-0042/"))
		}
		if len(zr.File) != len(want)+1 || len(want) < 5 {
			t.Fatalf("ZIP has %d files, the dossier %d and SHA256SUMS", len(zr.File), len(want))
		}
		want["PC-2019-0042/SHA256SUMS"] = sums.String()
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(rc)
			rc.Close()
			if w, ok := want[f.Name]; !ok || w != b.String() {
				t.Errorf("ZIP entry %s differs from the file", f.Name)
			}
		}
	})

	t.Run("reader", func(t *testing.T) {
		const lettore = "LTTRRA80A01H223X"
		g.AddUser(lettore, "password-del-lettore")
		grant := exec.Command(harness.Binary(t), "grant", "add", "--data", g.DataDir, "--person", lettore, "--path", dossier,
			"--until", time.Now().AddDate(0, 0, 7).Format("2006-01-02"), "--reason", "Prot. 42/2026")
		if out, err := grant.CombinedOutput(); err != nil {
			t.Fatalf("grant add: %v\n%s", err, out)
		}
		ctx := newBrowser(t)
		var controls, detailControls int
		var forcedDelete, forcedUpload int
		force := func(action, kind string) string {
			return fmt.Sprintf(`(async function(){
				var tok = document.querySelector('input[name=csrf]').value;
				var f = new FormData(); f.append("csrf", tok);
				if (%q === "upload") { f.append("file", new Blob(["x"]), "intruso.pdf"); }
				else { f.append("azione", "elimina"); }
				var r = await fetch(%q, {method: "POST", body: f});
				return r.status; })()`, kind, action)
		}
		var granted string
		if err := chromedp.Run(ctx,
			harness.SignIn(g.URL, lettore, "password-del-lettore"),
			// The start page leads to the granted dossier.
			chromedp.Click(`#sfoglia`, chromedp.ByID),
			chromedp.WaitVisible(`#pratiche-concesse`, chromedp.ByID),
			chromedp.Text(`#pratiche-concesse`, &granted, chromedp.ByID),
			chromedp.Click(`#pratiche-concesse a`, chromedp.ByQuery),
			chromedp.WaitVisible(`#elenco`, chromedp.ByID),
			chromedp.Evaluate(`document.querySelectorAll('#modulo-carica, #zona-rilascio, #modulo-cartella, .elimina, .rinomina').length`, &controls),
			chromedp.Evaluate(force("/_/carica"+dossier, "upload"), &forcedUpload, awaitPromise),
			chromedp.Navigate(g.URL+"/_/scheda"+dossier+"/domanda.pdf"),
			chromedp.WaitVisible(`#anteprima`, chromedp.ByID),
			chromedp.Evaluate(`document.querySelectorAll('#elimina, #rinomina').length`, &detailControls),
			chromedp.Evaluate(force("/_/modifica"+dossier+"/domanda.pdf", "delete"), &forcedDelete, awaitPromise),
		); err != nil {
			t.Fatalf("reader: %v", err)
		}
		screenshot(t, ctx, "lettore")
		if !strings.Contains(granted, strings.TrimPrefix(dossier, "/")) || !strings.Contains(granted, "sola lettura") {
			t.Errorf("start page of a grantee: %q", granted)
		}
		if controls != 0 || detailControls != 0 {
			t.Errorf("a reader sees %d write controls on the folder page and %d on the file's", controls, detailControls)
		}
		if forcedUpload != 403 || forcedDelete != 403 {
			t.Errorf("forced by a reader: upload %d, delete %d; want 403", forcedUpload, forcedDelete)
		}
		if code, _, _ := g.Status("HEAD", dossier+"/domanda.pdf", nil, ""); code != 200 {
			t.Errorf("the reader's forced delete removed the file: %d", code)
		}
		if code, _, _ := g.Status("HEAD", dossier+"/intruso.pdf", nil, ""); code != 404 {
			t.Errorf("the reader's forced upload was stored: %d", code)
		}
	})
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// listenDialogs accepts the confirmations the page asks for, and passes
// on their messages. The page's window.confirm is answered by a script of
// the test's, which reports the message through a binding: a native dialog
// would block the click that opened it until the test's answer came back,
// a race that hung a test now and then on a loaded machine.
func listenDialogs(ctx context.Context) <-chan string {
	asked := make(chan string, 8)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventBindingCalled); ok && e.Name == "faldoneConferma" {
			select {
			case asked <- e.Payload:
			default:
			}
		}
	})
	if err := chromedp.Run(ctx, runtime.AddBinding("faldoneConferma"), chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`window.confirm = function (m) { window.faldoneConferma(String(m)); return true; };`).Do(ctx)
		return err
	})); err != nil {
		panic(fmt.Sprintf("listen to the page's confirmations: %v", err))
	}
	return asked
}

// waitPDFShown waits until the preview shows a rendered PDF: Chromium's
// viewer paints its dark frame around the white page. A blocked frame or a
// download prompt shows neither.
func waitPDFShown(t *testing.T, ctx context.Context) {
	t.Helper()
	var dark, white float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var shot []byte
		if err := chromedp.Run(ctx, chromedp.Screenshot(`#anteprima`, &shot, chromedp.ByID)); err != nil {
			continue
		}
		img, _, err := image.Decode(bytes.NewReader(shot))
		if err != nil {
			continue
		}
		dark, white = shares(img)
		if dark > 0.2 && white > 0.05 {
			return
		}
	}
	t.Fatalf("the PDF is not shown in the page: %.0f%% dark, %.0f%% white pixels", dark*100, white*100)
}

// shares returns the shares of dark and of white pixels in an image.
func shares(img image.Image) (dark, white float64) {
	b := img.Bounds()
	var d, w, n int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case r < 90 && g < 90 && bl < 90:
				d++
			case r > 245 && g > 245 && bl > 245:
				w++
			}
			n++
		}
	}
	return float64(d) / float64(n), float64(w) / float64(n)
}
