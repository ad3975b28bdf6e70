// Package scantest makes the scanned documents the tests and benchmarks
// read: multi-page TIFFs written by libvips and libtiff's tiffcp from
// pages it draws, and multi-page PDFs, each page telling itself apart
// from the others where a test compares them.
package scantest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// Page draws page i of a scan of w × h pixels: white, a black block
// whose place and size depend on i, and i+1 bars along the top.
func Page(i, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for k := range img.Pix {
		img.Pix[k] = 0xff
	}
	block := func(x0, y0, x1, y1 int) {
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.SetGray(x, y, color.Gray{0})
			}
		}
	}
	bw, bh := w/3, h/4
	x := (i * w / 5) % (w - bw)
	y := h/6 + (i*h/7)%(h-bh-h/6)
	block(x, y, x+bw+(i%3)*w/20, y+bh)
	for b := 0; b <= i && b < 40; b++ {
		bx := w/20 + b*(w/45)
		block(bx, h/20, bx+w/90+1, h/20+h/12)
	}
	return img
}

// Compressions a TIFF is written with, as vips tiffsave names them.
const (
	G4   = "ccittfax4"
	LZW  = "lzw"
	JPEG = "jpeg"
)

// TIFF writes a multi-page TIFF of n pages of w × h pixels to a file in
// dir and returns its path: libvips writes each page, tiffcp joins them.
// G4 pages are bilevel, the others 8-bit gray.
func TIFF(t testing.TB, dir string, n, w, h int, compression string) string {
	t.Helper()
	var pages []string
	for i := range n {
		pgm := filepath.Join(dir, fmt.Sprintf("p%d.pgm", i))
		if err := os.WriteFile(pgm, PGM(Page(i, w, h)), 0o600); err != nil {
			t.Fatal(err)
		}
		tif := filepath.Join(dir, fmt.Sprintf("p%d-%s.tif", i, compression))
		args := []string{"tiffsave", pgm, tif, "--compression", compression}
		if compression == G4 {
			args = append(args, "--bitdepth", "1")
		}
		run(t, "vips", args...)
		os.Remove(pgm)
		pages = append(pages, tif)
	}
	out := filepath.Join(dir, fmt.Sprintf("scan-%d-%s.tif", n, compression))
	run(t, "tiffcp", append(pages, out)...)
	for _, p := range pages {
		os.Remove(p)
	}
	return out
}

// PGM encodes img as a binary PGM, which libvips reads.
func PGM(img *image.Gray) []byte {
	b := img.Bounds()
	var buf bytes.Buffer
	buf.WriteString("P5\n" + strconv.Itoa(b.Dx()) + " " + strconv.Itoa(b.Dy()) + "\n255\n")
	for y := b.Min.Y; y < b.Max.Y; y++ {
		buf.Write(img.Pix[(y-b.Min.Y)*img.Stride : (y-b.Min.Y)*img.Stride+b.Dx()])
	}
	return buf.Bytes()
}

// PDF writes a PDF of n A4 pages, each with its number and a block
// whose place depends on it.
func PDF(t testing.TB, n int) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetFont("Helvetica", "", 28)
	for i := range n {
		pdf.AddPage()
		pdf.Text(20, 30, "Pagina "+strconv.Itoa(i+1))
		pdf.Rect(20+float64(i*23%120), 60+float64(i*37%160), 60, 50, "F")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// BombPDF writes a PDF of one page of 14,400 × 14,400 points (the largest
// a PDF may have) whose content stream, 250 KB deflated, inflates to
// 256 MiB of blanks before a square is drawn: what a hostile upload
// does to a renderer that trusts a file.
func BombPDF(t testing.TB) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	blank := bytes.Repeat([]byte{' '}, 1<<20)
	for range 256 {
		zw.Write(blank)
	}
	zw.Write([]byte("\n0 0 1 rg 100 100 14000 14000 re f\n"))
	zw.Close()
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		b.WriteString(s)
	}
	b.WriteString("%PDF-1.4\n")
	obj("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	obj("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	obj("3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /Contents 4 0 R >> endobj\n")
	obj(fmt.Sprintf("4 0 obj << /Length %d /Filter /FlateDecode >> stream\n", z.Len()))
	b.Write(z.Bytes())
	b.WriteString("\nendstream endobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// Differ reports whether two renderings are of different pages: the mean
// absolute difference of their gray levels, on every other pixel, is
// clearly above noise.
func Differ(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return true
	}
	var sum, n int64
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y += 2 {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x += 2 {
			ra, _, _, _ := a.At(x, y).RGBA()
			rb, _, _, _ := b.At(x, y).RGBA()
			d := int64(ra>>8) - int64(rb>>8)
			sum += max(d, -d)
			n++
		}
	}
	return sum/n > 4
}
