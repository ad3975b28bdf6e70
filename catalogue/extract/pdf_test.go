package extract

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// newExtractor returns an Extractor for a test. It fails, not skips,
// without pdftotext: the test command (tests/run) installs poppler-utils.
func newExtractor(t testing.TB, opts Options) *Extractor {
	t.Helper()
	x, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v (tests/run installs pdftotext with poppler-utils)", err)
	}
	return x
}

// pdfOf writes a PDF whose pages hold the given texts, in the core
// Helvetica font (Windows-1252, so accents go through the translator).
func pdfOf(t testing.TB, pages ...string) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetFont("Helvetica", "", 12)
	for _, p := range pages {
		pdf.AddPage()
		pdf.MultiCell(0, 6, tr(p), "", "", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scanPDF writes a PDF of one page holding only an image, as a scanner
// does: no text layer.
func scanPDF(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(3, 3, color.Black)
	var png_ bytes.Buffer
	if err := png.Encode(&png_, img); err != nil {
		t.Fatal(err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("scan", opts, &png_)
	pdf.ImageOptions("scan", 10, 10, 190, 190, false, opts, 0, "")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const relazione = "Relazione tecnica: ampliamento del fabbricato in Via Caffè 12, foglio 21 mappale 345. " +
	"L'opera è conforme perché rispetta le distanze; città di Guastalla, più di così."

func TestPDF(t *testing.T) {
	x := newExtractor(t, Options{})
	ctx := context.Background()
	doc := pdfOf(t, relazione, "Seconda pagina: Comune di Reggiolo, pratica n. 42/2019")
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"relazione.pdf", doc, []string{"Relazione tecnica", "Via Caffè 12", "foglio 21 mappale 345", "perché", "città", "più", "L'opera è", "Reggiolo", "42/2019"}},
		// The first bytes decide when the extension does not tell.
		{"relazione", doc, []string{"Caffè"}},
		{"RELAZIONE.PDF", doc, []string{"Caffè"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := x.Text(ctx, tt.name, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("text lacks %q: %q", w, s)
				}
			}
			if strings.Contains(s, "  ") || strings.Contains(s, "\f") {
				t.Errorf("whitespace not collapsed: %q", s)
			}
		})
	}
}

func TestPDFErrors(t *testing.T) {
	x := newExtractor(t, Options{})
	ctx := context.Background()
	doc := pdfOf(t, relazione)
	tests := []struct {
		name string
		data []byte
		is   error // nil: any error but the sentinels
	}{
		{"scan without text layer", scanPDF(t), ErrNoText},
		{"truncated", doc[:len(doc)/3], nil},
		{"header only", []byte("%PDF-1.7\n"), nil},
		{"garbage", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("obj <<>> stream\x00\xff"), 1000)...), nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s, err := x.Text(ctx, "pratica.pdf", bytes.NewReader(tt.data))
			if err == nil {
				t.Fatalf("no error; text %q", s)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrNoText) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("error %v: a broken file is neither of the sentinels", err)
			}
			if !strings.Contains(err.Error(), "pratica.pdf") {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "/usr/") {
				t.Errorf("error %q names a host path", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestPDFTimeout runs a pdftotext that hangs, with a child of its own:
// Text must return at the timeout and leave no process behind.
func TestPDFTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "pdftotext")
	body := "#!/bin/sh\nsleep 10 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newExtractor(t, Options{PDFToText: script, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := x.Text(context.Background(), "lenta.pdf", bytes.NewReader(pdfOf(t, relazione)))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Text returned after %v, timeout 200ms", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Errorf("error %q names a host path", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the script did not start its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Gone, or a zombie waiting for a reaper that is not ours.
	deadline := time.Now().Add(2 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || isZombie(string(stat)) {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("pdftotext's child %d outlived the timeout: %s", pid, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isZombie reports whether a /proc/PID/stat line is of an exited process.
func isZombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && strings.HasPrefix(stat[i+1:], " Z")
}

func TestPDFCancel(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "pdftotext")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 10\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newExtractor(t, Options{PDFToText: script})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := x.Text(ctx, "lenta.pdf", bytes.NewReader(pdfOf(t, relazione)))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("error %v after %v, want the caller's deadline", err, time.Since(start))
	}
}

// TestPDFOutputCap: pdftotext writing more than is kept is stopped, and
// what was read is the text.
func TestPDFOutputCap(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "pdftotext")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nwhile :; do echo 'pratica edilizia'; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newExtractor(t, Options{PDFToText: script, MaxText: 1000, Timeout: 20 * time.Second})
	start := time.Now()
	s, err := x.Text(context.Background(), "lunga.pdf", bytes.NewReader(pdfOf(t, relazione)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 1000 || !strings.HasPrefix(s, "pratica edilizia\npratica") {
		t.Errorf("text of %d bytes: %.40q…", len(s), s)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: pdftotext not stopped once the text was full", d)
	}
}

// TestPDFToTextGone: a pdftotext removed after New fails the file, with
// an error that does not name where it was.
func TestPDFToTextGone(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "pdftotext")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newExtractor(t, Options{PDFToText: script})
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	_, err := x.Text(context.Background(), "relazione.pdf", bytes.NewReader(pdfOf(t, relazione)))
	if err == nil || errors.Is(err, ErrNoText) || strings.Contains(err.Error(), dir) {
		t.Fatalf("error %v: want a failure that does not name %s", err, dir)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "pdftotext")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{
		{PDFToText: filepath.Join(dir, "missing")},
		{PDFToText: notExec},
		{MaxInput: -1},
		{MaxText: -1},
		{Timeout: -time.Second},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
	x := newExtractor(t, Options{})
	if x.maxInput != DefaultMaxInput || x.maxText != DefaultMaxText || x.timeout != DefaultTimeout || !filepath.IsAbs(x.pdftotext) {
		t.Errorf("defaults: %+v", *x)
	}
}

// BenchmarkPDF50 extracts a 50-page PDF.
func BenchmarkPDF50(b *testing.B) {
	x := newExtractor(b, Options{})
	pages := make([]string, 50)
	for i := range pages {
		pages[i] = strings.Repeat(relazione+" ", 20)
	}
	doc := pdfOf(b, pages...)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := x.Text(context.Background(), "relazione.pdf", bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}
