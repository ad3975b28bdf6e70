package render

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/scan/scantest"
)

func newRenderer(t *testing.T, cfg Config) *Renderer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func source(name, ct string, data []byte) Source {
	return Source{Path: "/" + name, Version: "v1", Size: int64(len(data)), Type: ct, Data: bytes.NewReader(data)}
}

// decode renders page n of src at w and decodes it.
func decode(t *testing.T, r *Renderer, src Source, n, w int) image.Image {
	t.Helper()
	img, err := r.Render(context.Background(), src, n, w)
	if err != nil {
		t.Fatalf("page %d: %v", n, err)
	}
	defer img.File.Close()
	m, format, err := image.Decode(img.File)
	if err != nil {
		t.Fatalf("page %d: %v", n, err)
	}
	if "image/"+format != img.Type {
		t.Errorf("page %d: a %s served as %s", n, format, img.Type)
	}
	return m
}

func TestRenderPages(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Tiled, and big-endian: what vips and tiffcp write when asked.
	lzw := scantest.TIFF(t, dir, 3, 420, 600, scantest.LZW)
	tiled := filepath.Join(dir, "tiled.tif")
	if out, err := command("tiffcp", "-t", "-w", "128", "-l", "128", lzw, tiled); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	g4 := scantest.TIFF(t, dir, 3, 420, 600, scantest.G4)
	bigEndian := filepath.Join(dir, "mm.tif")
	if out, err := command("tiffcp", "-B", g4, bigEndian); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	r := newRenderer(t, Config{})
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"G4 TIFF", source("g4.tif", "image/tiff", read(g4))},
		{"G4 TIFF, big-endian", source("mm.tif", "image/tiff", read(bigEndian))},
		{"LZW TIFF in tiles", source("tiled.tif", "image/tiff", read(tiled))},
		{"LZW TIFF", source("lzw.tif", "image/tiff", read(scantest.TIFF(t, dir, 3, 420, 600, scantest.LZW)))},
		{"JPEG TIFF", source("jpeg.tif", "image/tiff", read(scantest.TIFF(t, dir, 3, 420, 600, scantest.JPEG)))},
		{"PDF", source("a.pdf", "application/pdf", scantest.PDF(t, 3))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := r.Pages(context.Background(), tc.src)
			if err != nil || n != 3 {
				t.Fatalf("Pages = %d, %v", n, err)
			}
			var imgs []image.Image
			for k := 1; k <= 3; k++ {
				m := decode(t, r, tc.src, k, Thumbnail)
				if m.Bounds().Dx() != Thumbnail {
					t.Errorf("page %d is %d wide", k, m.Bounds().Dx())
				}
				imgs = append(imgs, m)
			}
			for i := range imgs {
				for j := i + 1; j < len(imgs); j++ {
					if !scantest.Differ(imgs[i], imgs[j]) {
						t.Errorf("pages %d and %d look the same", i+1, j+1)
					}
				}
			}
			if _, err := r.Render(context.Background(), tc.src, 4, Thumbnail); !errors.Is(err, ErrNoPage) {
				t.Errorf("page 4: %v", err)
			}
			// The large page: never wider than the scan (TIFF), scaled to it (PDF).
			if m := decode(t, r, tc.src, 2, 1024); m.Bounds().Dx() != 1024 && m.Bounds().Dx() != 420 {
				t.Errorf("page 2 at 1024 is %d wide", m.Bounds().Dx())
			}
		})
	}
	// A PDF too large to copy for a thumbnail alone, until its pages were
	// shown.
	small := newRenderer(t, Config{MaxThumbnailCopy: 1000})
	pdf := source("b.pdf", "application/pdf", scantest.PDF(t, 2))
	if _, err := small.Render(context.Background(), pdf, 1, Thumbnail); !errors.Is(err, ErrTooLarge) {
		t.Errorf("thumbnail of a large PDF: %v", err)
	}
	decode(t, small, pdf, 1, 1024)
	decode(t, small, pdf, 1, Thumbnail)
	if _, err := r.Render(context.Background(), source("x.tif", "image/tiff", nil), 1, 333); !errors.Is(err, ErrWidth) {
		t.Errorf("width 333: %v", err)
	}
	if _, err := r.Render(context.Background(), source("x.docx", "application/msword", nil), 1, 200); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a docx: %v", err)
	}
}

func TestRenderImage(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "a.png")
	pgm := filepath.Join(dir, "a.pgm")
	os.WriteFile(pgm, scantest.PGM(scantest.Page(1, 500, 300)), 0o600)
	out, err := command("vips", "copy", pgm, png)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	data, _ := os.ReadFile(png)
	r := newRenderer(t, Config{})
	m := decode(t, r, source("a.png", "image/png", data), 1, Thumbnail)
	if m.Bounds().Dx() != Thumbnail {
		t.Errorf("thumbnail %d wide", m.Bounds().Dx())
	}
}

func TestHostile(t *testing.T) {
	dir := t.TempDir()
	g4, err := os.ReadFile(scantest.TIFF(t, dir, 2, 420, 600, scantest.G4))
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Clone(g4)
	// The first directory's width and length say 100,000.
	ifd := binary.LittleEndian.Uint32(huge[4:])
	n := int(binary.LittleEndian.Uint16(huge[ifd:]))
	for k := range n {
		e := huge[int(ifd)+2+12*k:]
		if tag := binary.LittleEndian.Uint16(e); tag == 256 || tag == 257 {
			binary.LittleEndian.PutUint16(e[2:], 4)
			binary.LittleEndian.PutUint32(e[8:], 100_000)
		}
	}
	// The strips of the first page cut short.
	truncated := g4[:len(g4)/3]
	corrupt := bytes.Clone(g4)
	for i := 300; i < len(corrupt)-400; i += 3 {
		corrupt[i] ^= 0x5a
	}
	pdf := scantest.PDF(t, 2)
	r := newRenderer(t, Config{MaxFileSize: 1 << 20, Timeout: 20 * time.Second})
	for _, tc := range []struct {
		name string
		src  Source
		want error
	}{
		{"TIFF of 100,000 × 100,000", source("huge.tif", "image/tiff", huge), ErrTooLarge},
		{"truncated TIFF", source("cut.tif", "image/tiff", truncated), ErrDamaged},
		{"garbage TIFF", source("junk.tif", "image/tiff", []byte("this is no TIFF at all, just text")), ErrDamaged},
		{"BigTIFF", source("big.tif", "image/tiff", append([]byte("II+\x00\x08\x00\x00\x00"), make([]byte, 64)...)), ErrBigTIFF},
		{"garbage PDF", source("junk.pdf", "application/pdf", []byte("%PDF-1.4\nnothing here but words\n%%EOF")), ErrDamaged},
		{"PDF past the size limit", source("big.pdf", "application/pdf", append(pdf, make([]byte, 1<<20)...)), ErrTooLarge},
		{"bomb PDF", source("bomb.pdf", "application/pdf", scantest.BombPDF(t)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Render(context.Background(), tc.src, 1, 1024)
			if tc.want == nil {
				// A page of 14,400 × 14,400 points, its stream inflating to
				// 400 MB: rendered at 1024 pixels, or refused — in bounded time
				// and memory either way.
				if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrDamaged) {
					t.Errorf("got %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if peak := r.Stats().PeakRSS; peak > 1<<30 {
		t.Errorf("a tool reached %d MiB", peak>>20)
	}
	// The corrupt strips: whatever libvips makes of them, an answer.
	_, err = r.Render(context.Background(), source("corrupt.tif", "image/tiff", corrupt), 1, 200)
	t.Logf("corrupt strips: %v", err)
}

func TestTimeout(t *testing.T) {
	r := newRenderer(t, Config{Timeout: time.Second})
	start := time.Now()
	_, err := r.tool.run(context.Background(), "sleep", "30")
	if !errors.Is(err, errTimeout) || time.Since(start) > 10*time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}
	if !errors.Is(toolError(err), ErrTooLarge) {
		t.Errorf("a timeout is %v", toolError(err))
	}
}

func TestOnce(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(scantest.TIFF(t, dir, 1, 420, 600, scantest.LZW))
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, Config{})
	src := source("a.tif", "image/tiff", data)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			img, err := r.Render(context.Background(), src, 1, 1024)
			if err == nil {
				io.Copy(io.Discard, img.File)
				img.File.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if runs := r.Stats().Runs; runs != 1 {
		t.Errorf("8 requests for one page ran the tool %d times", runs)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir, 250)
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, size int) {
		t.Helper()
		tmp := filepath.Join(t.TempDir(), "x")
		os.WriteFile(tmp, make([]byte, size), 0o600)
		if err := c.Put(key, tmp, ".jpg"); err != nil {
			t.Fatal(err)
		}
	}
	has := func(key string) bool {
		f, _, ok := c.Get(key)
		if ok {
			f.Close()
		}
		return ok
	}
	put("a", 100)
	put("b", 100)
	if !has("a") { // a is now the most recently used
		t.Fatal("a missing")
	}
	put("c", 100) // 300 > 250: b goes
	for _, tc := range []struct {
		key  string
		kept bool
	}{{"a", true}, {"b", false}, {"c", true}} {
		if has(tc.key) != tc.kept {
			t.Errorf("%s kept: %v, want %v", tc.key, !tc.kept, tc.kept)
		}
	}
	if c.Size() != 200 {
		t.Errorf("size %d", c.Size())
	}
	put("big", 1000) // alone past the size: kept, everything else goes
	if !has("big") || has("a") || has("c") || c.Size() != 1000 {
		t.Errorf("after a large page: size %d", c.Size())
	}
	put("d", 10) // and big goes
	put("e", 100)
	if has("big") || c.Size() != 110 {
		t.Errorf("size %d", c.Size())
	}
	// Reopened, the cache finds its files again, within its size: the
	// newest first.
	c, err = OpenCache(dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	if c.Size() != 100 || !has("e") || has("d") {
		t.Errorf("reopened: %d bytes", c.Size())
	}
	if f, ct, ok := c.Get("e"); !ok || ct != "image/jpeg" {
		t.Errorf("reopened: e %v %s", ok, ct)
	} else {
		f.Close()
	}
}

func command(name string, args ...string) ([]byte, error) {
	return osexec.Command(name, args...).CombinedOutput()
}

func TestParsePDFInfo(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		pages     int
		w, h      float64
		bad       bool
	}{
		{"A4", "Producer: x\nPages:          12\nPage    3 size: 595.276 x 841.89 pts (A4)\n", 12, 595.276, 841.89, false},
		{"no size", "Pages: 1\n", 1, 0, 0, false},
		{"no pages", "Title: nothing\n", 0, 0, 0, true},
		{"zero pages", "Pages: 0\n", 0, 0, 0, true},
		{"too many", "Pages: 1000000000\n", 0, 0, 0, true},
		{"flat page", "Pages: 2\nPage    1 size: 595 x 0 pts\n", 0, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := parsePDFInfo([]byte(tc.out))
			if (err != nil) != tc.bad || (!tc.bad && (info.pages != tc.pages || info.width != tc.w || info.height != tc.h)) {
				t.Errorf("got %+v, %v", info, err)
			}
			if tc.bad && !errors.Is(err, ErrDamaged) {
				t.Errorf("a bad output is %v", err)
			}
		})
	}
}

func FuzzParsePDFInfo(f *testing.F) {
	f.Add([]byte("Pages:          12\nPage    3 size: 595.276 x 841.89 pts (A4)\n"))
	f.Add([]byte("Pages: 1\nPage 1 size: 1e400 x NaN pts\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		info, err := parsePDFInfo(out)
		if err != nil {
			return
		}
		if info.pages < 1 || info.pages > maxPDFPages || info.width < 0 || info.height < 0 || info.width > 1e7 || info.height > 1e7 {
			t.Fatalf("accepted %+v", info)
		}
	})
}

// TestThumbnailsLeaveASlot: with every thumbnail slot taken, a large page
// still renders.
func TestThumbnailsLeaveASlot(t *testing.T) {
	data, err := os.ReadFile(scantest.TIFF(t, t.TempDir(), 1, 420, 600, scantest.LZW))
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, Config{Concurrency: 2})
	for range cap(r.thumbs) {
		r.thumbs <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	img, err := r.Render(ctx, source("a.tif", "image/tiff", data), 1, 1024)
	if err != nil {
		t.Fatalf("the large page waited for the thumbnails: %v", err)
	}
	img.File.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := r.Render(short, source("a.tif", "image/tiff", data), 1, Thumbnail); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a thumbnail past the taken slots: %v", err)
	}
}

// TestLayoutKept: a TIFF's directories, walked once, are read from the
// cache by a renderer started later: its pages cost no walk.
func TestLayoutKept(t *testing.T) {
	data, err := os.ReadFile(scantest.TIFF(t, t.TempDir(), 6, 100, 140, scantest.G4))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := newRenderer(t, Config{Dir: dir})
	counting := &countingReader{r: bytes.NewReader(data)}
	src := Source{Path: "/a.tif", Version: "v", Size: int64(len(data)), Type: "image/tiff", Data: counting}
	if n, err := r.Pages(context.Background(), src); n != 6 || err != nil {
		t.Fatalf("Pages = %d, %v", n, err)
	}
	walked := counting.n.Load()
	again := newRenderer(t, Config{Dir: dir})
	counting.n.Store(0)
	if n, err := again.Pages(context.Background(), src); n != 6 || err != nil {
		t.Fatalf("Pages after a restart = %d, %v", n, err)
	}
	if reads := counting.n.Load(); reads >= walked || reads > 2 {
		t.Errorf("counting again read %d times (the walk read %d)", reads, walked)
	}
	decode(t, again, src, 6, Thumbnail)
}

type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.n.Add(1)
	return c.r.ReadAt(p, off)
}
