package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/scan/scantest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// scanFiles are the scans the tests upload: multi-page TIFFs in the three
// compressions of the archive, written by libvips and tiffcp, a PDF, a
// picture, and hostile files.
type scanFile struct {
	name  string
	data  []byte
	pages int
}

func scanFiles(t *testing.T) (good, hostile []scanFile) {
	t.Helper()
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	g4 := read(scantest.TIFF(t, dir, 5, 620, 877, scantest.G4))
	good = []scanFile{
		{"scansione-g4.tif", g4, 5},
		{"scansione-lzw.tif", read(scantest.TIFF(t, dir, 3, 620, 877, scantest.LZW)), 3},
		{"scansione-jpeg.tif", read(scantest.TIFF(t, dir, 3, 620, 877, scantest.JPEG)), 3},
		{"relazione.pdf", joinedPDF(t, dir), 4},
	}
	pgm := filepath.Join(dir, "foto.pgm")
	os.WriteFile(pgm, scantest.PGM(scantest.Page(2, 800, 600)), 0o600)
	if out, err := exec.Command("vips", "copy", pgm, filepath.Join(dir, "foto.png")).CombinedOutput(); err != nil {
		t.Fatalf("vips: %v\n%s", err, out)
	}
	good = append(good, scanFile{"foto.png", read(filepath.Join(dir, "foto.png")), 1})

	huge := bytes.Clone(g4)
	ifd := binary.LittleEndian.Uint32(huge[4:])
	for k := range int(binary.LittleEndian.Uint16(huge[ifd:])) {
		e := huge[int(ifd)+2+12*k:]
		if tag := binary.LittleEndian.Uint16(e); tag == 256 || tag == 257 {
			binary.LittleEndian.PutUint16(e[2:], 4)
			binary.LittleEndian.PutUint32(e[8:], 100_000)
		}
	}
	hostile = []scanFile{
		{"troncato.tif", g4[:len(g4)/12], 0}, // cut within the first page
		{"enorme.tif", huge, 0},
		{"spazzatura.pdf", []byte("%PDF-1.7\nquesto non è un PDF\n%%EOF\n"), 0},
		{"bomba.pdf", scantest.BombPDF(t), 0},
	}
	return good, hostile
}

// TestScansS3: on the S3 backend, multi-page TIFFs (G4, LZW, JPEG) and a
// PDF are shown a page at a time: the viewer counts their pages, each
// page is an image of its own, thumbnails stand beside them in the folder
// page; a browser revalidates a page without a new render; a person
// without access gets nothing; hostile files get a message in Italian
// (and an icon for a thumbnail) while the server keeps answering within
// its memory.
func TestScansS3(t *testing.T) {
	g, _, counter := s3Gateway(t)
	const d = "/guastalla/2019/PC-2019-0042"
	mustStatus(t, g, "MKCOL", "/guastalla/2019", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	good, hostile := scanFiles(t)
	for _, f := range append(append([]scanFile(nil), good...), hostile...) {
		resp := g.Do("PUT", d+"/"+f.name, nil, bytes.NewReader(f.data))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d", f.name, resp.StatusCode)
		}
	}
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	get := b.Fetch
	decode := func(what string, body []byte) image.Image {
		t.Helper()
		m, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not an image: %v", what, err)
		}
		return m
	}

	// The first view of a 5-page G4 scan costs a few ranged reads of S3.
	counter.Reset()
	resp, body := get("/_/pagina"+d+"/scansione-g4.tif?n=1&w=1024", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("first page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	counts := counter.Counts()
	t.Logf("S3 requests for the first page of a G4 scan: %v", counts)
	if counts["GetObject"] > 6 {
		t.Errorf("the first page cost %d GETs", counts["GetObject"])
	}
	// Asked again with its ETag: 304, with no render.
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") || etag == "" {
		t.Errorf("a page's caching: %q, ETag %q", cc, etag)
	}
	if resp, _ := get("/_/pagina"+d+"/scansione-g4.tif?n=1&w=1024", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated: %d", resp.StatusCode)
	}

	for _, f := range good {
		t.Run(f.name, func(t *testing.T) {
			p := d + "/" + f.name
			if f.pages > 1 {
				code, page := b.Get("/_/vista" + p)
				if want := fmt.Sprintf(`id="conteggio-pagine">di %d<`, f.pages); code != 200 || !strings.Contains(page, want) {
					t.Fatalf("viewer: %d, no %q:\n%s", code, want, page)
				}
				code, page = b.Get("/_/scheda" + p)
				if code != 200 || !strings.Contains(page, `id="sfoglia" href="/_/vista`+p+`"`) {
					t.Errorf("the file page has no link to the viewer: %d\n%s", code, page)
				}
			}
			var before image.Image
			for k := 1; k <= f.pages; k++ {
				resp, body := get(fmt.Sprintf("/_/pagina%s?n=%d&w=200", p, k), nil)
				if resp.StatusCode != 200 {
					t.Fatalf("page %d: %d\n%s", k, resp.StatusCode, body)
				}
				m := decode(fmt.Sprintf("page %d", k), body)
				if m.Bounds().Dx() != 200 {
					t.Errorf("page %d is %d wide", k, m.Bounds().Dx())
				}
				if before != nil && !scantest.Differ(before, m) {
					t.Errorf("pages %d and %d look the same", k-1, k)
				}
				before = m
			}
			if resp, _ := get(fmt.Sprintf("/_/pagina%s?n=%d&w=200", p, f.pages+1), nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("page %d of %d: %d", f.pages+1, f.pages, resp.StatusCode)
			}
			resp, body := get("/_/miniatura"+p, nil)
			if resp.StatusCode != 200 || resp.Header.Get("X-Faldone-Anteprima") != "" {
				t.Fatalf("thumbnail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			decode("thumbnail", body)
		})
	}
	if resp, _ := get("/_/pagina"+d+"/scansione-g4.tif?n=1&w=333", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a width not offered: %d", resp.StatusCode)
	}

	code, page := b.Get("/_/archivio" + d + "/")
	for _, f := range good {
		if want := `<img class="miniatura" src="/_/miniatura` + d + "/" + f.name + `" alt="" loading="lazy"`; code != 200 || !strings.Contains(page, want) {
			t.Errorf("the folder page has no thumbnail of %s", f.name)
		}
	}

	for _, tc := range []struct {
		name, want string
	}{
		{"troncato.tif", "danneggiato"},
		{"enorme.tif", "troppo grande"},
		{"spazzatura.pdf", "danneggiato"},
		{"bomba.pdf", ""}, // rendered or refused, within the limits
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := d + "/" + tc.name
			resp, body := get("/_/pagina"+p+"?n=1&w=1024", nil)
			switch {
			case tc.want == "" && resp.StatusCode == 200:
				decode("the bomb", body)
				t.Logf("the bomb rendered, %d bytes", len(body))
			case resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), tc.want):
				t.Errorf("page 1: %d %s, no %q", resp.StatusCode, resp.Header.Get("Content-Type"), tc.want)
			}
			if strings.Contains(string(body), "render:") || strings.Contains(string(body), "tiff:") {
				t.Errorf("a Go error reached the page:\n%s", body)
			}
			resp, body = get("/_/miniatura"+p, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
				t.Errorf("thumbnail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if tc.want != "" && resp.Header.Get("X-Faldone-Anteprima") != "icona" {
				t.Errorf("the thumbnail of a bad file is no icon: %s", resp.Header.Get("Content-Type"))
			}
		})
	}
	if code, page := b.Get("/_/vista" + d + "/spazzatura.pdf"); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="errore-documento"`) {
		t.Errorf("the viewer of a garbage PDF: %d\n%s", code, page)
	}
	if code, _ := b.Get("/_/archivio/"); code != 200 {
		t.Errorf("after the hostile files the server answers %d", code)
	}
	if rss := g.PeakRSS(); rss > 400<<20 {
		t.Errorf("the server's peak RSS is %d MiB", rss>>20)
	}

	// Someone who may not read the dossier sees none of its pages.
	g.AddUser("estraneo", "password-dell-estraneo")
	other := harness.NewBrowser(t, g)
	other.SignIn("estraneo", "password-dell-estraneo")
	for _, u := range []string{"/_/pagina" + d + "/scansione-g4.tif?n=1&w=1024", "/_/miniatura" + d + "/scansione-g4.tif", "/_/vista" + d + "/scansione-g4.tif"} {
		if code, body := other.Get(u); code != http.StatusNotFound || strings.Contains(body, "JFIF") {
			t.Errorf("%s for someone without access: %d", u, code)
		}
	}
}

// joinedPDF is a PDF of 4 pages that poppler's pdfunite joined from two,
// as an office joins the parts of a scan.
func joinedPDF(t *testing.T, dir string) []byte {
	t.Helper()
	a, b, out := filepath.Join(dir, "a.pdf"), filepath.Join(dir, "b.pdf"), filepath.Join(dir, "unita.pdf")
	os.WriteFile(a, scantest.PDF(t, 2), 0o600)
	os.WriteFile(b, scantest.PDF(t, 2), 0o600)
	if o, err := exec.Command("pdfunite", a, b, out).CombinedOutput(); err != nil {
		t.Fatalf("pdfunite: %v\n%s", err, o)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
