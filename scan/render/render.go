// Package render turns a page of a scanned document — a multi-page TIFF,
// a PDF, or an image — into a JPEG or PNG of a width a screen shows, and
// keeps it in an on-disk cache.
//
// A TIFF's page is cut out of the file through ranged reads (scan/tiff),
// so that rendering page 1 of a 400 MB scan reads its directory and its
// own strips, a few megabytes; libvips then decodes it (G4, LZW, JPEG…).
// A PDF is copied whole to a local file first, because poppler reads
// files only: the copy is bounded by MaxFileSize and kept a few minutes
// for the pages asked for next. Every tool runs under prlimit with a
// deadline (see tool); the same page is never rendered twice at once,
// and at most Concurrency renders run together.
package render

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/bassareggiana/faldone/scan/tiff"
)

// What a caller tells apart to say why there is no image.
var (
	ErrUnsupported = errors.New("render: no preview for this kind of file")
	ErrDamaged     = errors.New("render: the file cannot be read")
	ErrTooLarge    = errors.New("render: the file is too large or too complex to preview")
	ErrNoPage      = errors.New("render: no such page")
	ErrWidth       = errors.New("render: width not allowed")
	ErrBigTIFF     = errors.New("render: BigTIFF files are not supported")
)

// Widths are the widths a page is rendered at: thumbnails, and the large
// page at three zooms. A small set keeps the cache's hits high.
var Widths = []int{200, 1024, 1600, 2400}

// Thumbnail is the width of a thumbnail.
const Thumbnail = 200

// Config shapes a Renderer; zero values take the defaults.
type Config struct {
	Dir         string // cache and work folder; required
	CacheSize   int64  // bytes of rendered pages kept; 0: 1 GiB
	MaxFileSize int64  // bytes of a PDF or image copied to render it; 0: 1 GiB
	// MaxThumbnailCopy bounds the PDF or image copied for a thumbnail
	// alone: a folder page of fifty large PDFs must not download them all.
	// 0: 64 MiB.
	MaxThumbnailCopy int64
	Concurrency      int           // renders at once; 0: 2
	Timeout          time.Duration // of one tool's run; 0: 60 s
	Memory           int64         // address space of a tool; 0: 1 GiB
	Log              *slog.Logger
}

// Source is the file to render.
type Source struct {
	Path    string // for the log and the cache's key
	Version string // changes with the content (the ETag): a new content, new keys
	Size    int64
	Type    string // content type, from the name
	Data    io.ReaderAt
}

// Kinds of file, from the content type.
type kind int

const (
	kindNone kind = iota
	kindTIFF
	kindPDF
	kindImage
)

func kindOf(ct string) kind {
	switch ct {
	case "image/tiff":
		return kindTIFF
	case "application/pdf":
		return kindPDF
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return kindImage
	}
	return kindNone
}

// Renderable reports whether files of content type ct have pages to show.
func Renderable(ct string) bool { return kindOf(ct) != kindNone }

// Paged reports whether files of content type ct may have several pages.
func Paged(ct string) bool { k := kindOf(ct); return k == kindTIFF || k == kindPDF }

// Renderer renders pages. It is safe for concurrent use.
type Renderer struct {
	cfg   Config
	cache *Cache
	tmp   string
	tool  *tool
	sem   chan struct{}
	// thumbs bounds the thumbnails' renders to one slot fewer than sem: a
	// folder page's or the viewer's thumbnails never hold every slot while
	// the large page someone is reading waits.
	thumbs chan struct{}
	flight singleflight.Group
	copies *copies
	log    *slog.Logger

	mu     sync.Mutex
	counts map[string]int        // pages of a file version
	dirs   map[string]tiffLayout // directories of a TIFF version
	failed map[string]failure    // renders that failed for the file's fault
}

// failure is a render that failed because of the file: it is answered
// again, without rendering, for failedFor — a hostile file costs its
// tools' time once, not at every look at its folder.
type failure struct {
	err   error
	until time.Time
}

const failedFor = 10 * time.Minute

type tiffLayout struct {
	offsets  []int64
	complete bool
}

// maxRemembered bounds the in-memory maps of counts and layouts.
const maxRemembered = 4096

// New returns a renderer whose cache and work files are under cfg.Dir.
func New(cfg Config) (*Renderer, error) {
	if cfg.Dir == "" {
		return nil, errors.New("render: no folder")
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1 << 30
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 1 << 30
	}
	if cfg.MaxThumbnailCopy <= 0 {
		cfg.MaxThumbnailCopy = 64 << 20
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Memory <= 0 {
		cfg.Memory = 1 << 30
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		return nil, fmt.Errorf("render: prlimit (util-linux) is needed: %w", err)
	}
	for _, t := range []string{"vips", "pdftoppm", "pdfinfo"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("render: %s (libvips-tools, poppler-utils) is needed: %w", t, err)
		}
	}
	cache, err := OpenCache(filepath.Join(cfg.Dir, "pages"), cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	// Work files of an earlier run are never reused.
	tmp := filepath.Join(cfg.Dir, "work")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("render: clear the work folder: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("render: make the work folder: %w", err)
	}
	r := &Renderer{cfg: cfg, cache: cache, tmp: tmp, sem: make(chan struct{}, cfg.Concurrency),
		thumbs: make(chan struct{}, max(cfg.Concurrency-1, 1)), log: cfg.Log,
		counts: map[string]int{}, dirs: map[string]tiffLayout{}, failed: map[string]failure{}}
	r.tool = &tool{timeout: cfg.Timeout, memory: cfg.Memory, output: 64 << 20, dir: tmp, prlimit: prlimit,
		stderrTo: func(name, stderr string, err error) {
			r.log.Warn("render tool failed", "tool", name, "err", err, "stderr", stderr)
		}}
	r.copies = newCopies(tmp, 2*cfg.MaxFileSize, 5*time.Minute)
	return r, nil
}

// Stats are what the renderer measured of its tools.
type Stats struct {
	Runs             int64
	PeakRSS, LastRSS int64 // bytes, the largest and the last max RSS of a tool
}

// Stats returns the tools' figures so far.
func (r *Renderer) Stats() Stats {
	r.tool.mu.Lock()
	defer r.tool.mu.Unlock()
	return Stats{Runs: r.tool.runs, PeakRSS: r.tool.peakRSS, LastRSS: r.tool.lastRSS}
}

// Image is a rendered page, open; the caller closes File.
type Image struct {
	File *os.File
	Type string // image/jpeg or image/png
	Tag  string // names this rendering: an ETag for the browser
}

// Pages returns the number of pages of src: a TIFF's directories, walked
// through ranged reads; a PDF's, from pdfinfo on a local copy; 1 for an
// image.
func (r *Renderer) Pages(ctx context.Context, src Source) (int, error) {
	switch kindOf(src.Type) {
	case kindImage:
		return 1, nil
	case kindNone:
		return 0, ErrUnsupported
	}
	key := src.Path + "\x00" + src.Version
	r.mu.Lock()
	n, ok := r.counts[key]
	r.mu.Unlock()
	if ok {
		return n, nil
	}
	v, err, _ := r.flight.Do("count\x00"+key, func() (any, error) {
		if kindOf(src.Type) == kindTIFF {
			return r.tiffPages(src)
		}
		return r.pdfPages(ctx, src)
	})
	if err != nil {
		return 0, err
	}
	n = v.(int)
	r.remember(func() { r.counts[key] = n })
	return n, nil
}

// remember changes the in-memory maps, emptying them when they are full.
func (r *Renderer) remember(change func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.counts) >= maxRemembered {
		clear(r.counts)
	}
	if len(r.dirs) >= maxRemembered {
		clear(r.dirs)
	}
	if len(r.failed) >= maxRemembered {
		clear(r.failed)
	}
	change()
}

// Render returns page n (from 1) of src at width w, from the cache or
// rendered now.
func (r *Renderer) Render(ctx context.Context, src Source, n, w int) (Image, error) {
	if !allowedWidth(w) {
		return Image{}, ErrWidth
	}
	k := kindOf(src.Type)
	if k == kindNone {
		return Image{}, ErrUnsupported
	}
	if n < 1 || (k == kindImage && n != 1) {
		return Image{}, ErrNoPage
	}
	if w == Thumbnail && k != kindTIFF && src.Size > min(r.cfg.MaxThumbnailCopy, r.cfg.MaxFileSize) {
		// Unless the copy is there already, for the file's larger pages.
		if !r.copies.has(src) {
			return Image{}, fmt.Errorf("%w: %d bytes to copy for a thumbnail", ErrTooLarge, src.Size)
		}
	}
	key := renderKey(src, n, w)
	tag := hashed(key)
	if f, ct, ok := r.cache.Get(key); ok {
		return Image{f, ct, tag}, nil
	}
	r.mu.Lock()
	fl, failed := r.failed[key]
	r.mu.Unlock()
	if failed && time.Now().Before(fl.until) {
		return Image{}, fl.err
	}
	err := r.renderOnce(ctx, key, k, src, n, w)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The render this caller shared was given up by the caller that
		// began it, who went away while it waited for a slot: once more,
		// as this caller's own.
		err = r.renderOnce(ctx, key, k, src, n, w)
	}
	if err != nil {
		return Image{}, err
	}
	f, ct, ok := r.cache.Get(key)
	if !ok {
		return Image{}, errors.New("render: the page left the cache at once: the cache is too small")
	}
	return Image{f, ct, tag}, nil
}

// renderOnce renders key into the cache, or waits for the render of it
// under way.
func (r *Renderer) renderOnce(ctx context.Context, key string, k kind, src Source, n, w int) error {
	_, err, _ := r.flight.Do(key, func() (any, error) {
		if f, _, ok := r.cache.Get(key); ok { // rendered while this caller waited
			f.Close()
			return nil, nil
		}
		if w == Thumbnail {
			select {
			case r.thumbs <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			defer func() { <-r.thumbs }()
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-r.sem }()
		start := time.Now()
		// Once begun, a render ends and is kept, even when the browser that
		// asked went away: the page is asked for again, and the tool is bounded.
		out, ext, err := r.render(context.WithoutCancel(ctx), k, src, n, w)
		if err != nil {
			if fileFault(err) {
				r.remember(func() { r.failed[key] = failure{err, time.Now().Add(failedFor)} })
			}
			return nil, err
		}
		r.log.Debug("page rendered", "path", src.Path, "page", n, "width", w, "ms", time.Since(start).Milliseconds())
		return nil, r.cache.Put(key, out, ext)
	})
	return err
}

func renderKey(src Source, n, w int) string {
	return strings.Join([]string{src.Path, src.Version, strconv.Itoa(n), strconv.Itoa(w)}, "\x00")
}

// Tag names the rendering of page n of src at width w, without rendering
// it: what Render's Image.Tag will be, for a browser's revalidation.
func Tag(src Source, n, w int) string { return hashed(renderKey(src, n, w)) }

// fileFault reports whether err is the file's fault, not the storage's
// or the caller's.
func fileFault(err error) bool {
	for _, e := range []error{ErrDamaged, ErrTooLarge, ErrNoPage, ErrBigTIFF, ErrUnsupported} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func allowedWidth(w int) bool {
	for _, a := range Widths {
		if a == w {
			return true
		}
	}
	return false
}

// render renders page n of src into a work file and returns its path
// and extension.
func (r *Renderer) render(ctx context.Context, k kind, src Source, n, w int) (string, string, error) {
	work, err := os.MkdirTemp(r.tmp, "r")
	if err != nil {
		return "", "", fmt.Errorf("render: work folder: %w", err)
	}
	// The image leaves the folder for the cache before it is removed.
	defer os.RemoveAll(work)
	out := filepath.Join(work, "out.jpg")
	ext := ".jpg"
	switch k {
	case kindTIFF:
		in := filepath.Join(work, "page.tif")
		if err := r.tiffPage(src, n, in); err != nil {
			return "", "", err
		}
		if err := r.thumbnail(ctx, in, out, w); err != nil {
			return "", "", err
		}
	case kindPDF:
		if err := r.pdfPage(ctx, src, n, w, filepath.Join(work, "out")); err != nil {
			return "", "", err
		}
	case kindImage:
		if src.Type == "image/png" {
			out, ext = filepath.Join(work, "out.png"), ".png"
		}
		local, release, err := r.copies.get(ctx, src, r.cfg.MaxFileSize)
		if err != nil {
			return "", "", err
		}
		defer release()
		if err := r.thumbnail(ctx, local, out, w); err != nil {
			return "", "", err
		}
	}
	// The result leaves work now, before the deferred removal.
	final := filepath.Join(r.tmp, filepath.Base(work)+ext)
	if err := os.Rename(out, final); err != nil {
		return "", "", fmt.Errorf("render: %w: no image came out", ErrDamaged)
	}
	return final, ext, nil
}

// thumbnail scales the image file in to width w (never up), at most 3w
// tall, with libvips.
func (r *Renderer) thumbnail(ctx context.Context, in, out string, w int) error {
	target := out
	if strings.HasSuffix(out, ".jpg") {
		target += "[Q=82,strip]"
	} else {
		target += "[strip]"
	}
	_, err := r.tool.run(ctx, "vips", "thumbnail", in, target, strconv.Itoa(w), "--height", strconv.Itoa(3*w), "--size", "down")
	return toolError(err)
}

// toolError says what a tool's failure means for a person: it ran too
// long (too complex), or could not read the file.
func toolError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTimeout):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", ErrDamaged, err)
}

// tiffLimits bound what a TIFF's structure may claim.
var tiffLimits = tiff.Limits{MaxPages: maxTIFFPages}

const maxTIFFPages = 10_000

// openTIFF opens src, resuming a walk of its directories made before.
func (r *Renderer) openTIFF(src Source) (*tiff.File, string, error) {
	f, err := tiff.Open(src.Data, src.Size, tiffLimits)
	if err != nil {
		return nil, "", tiffError(err)
	}
	key := src.Path + "\x00" + src.Version
	r.mu.Lock()
	l, ok := r.dirs[key]
	r.mu.Unlock()
	if !ok {
		// Walked before, by this process or an earlier one: the whole
		// chain's offsets were kept in the cache beside the pages.
		if offs, found := r.loadLayout(key); found {
			l, ok = tiffLayout{offs, true}, true
			r.remember(func() { r.dirs[key] = l })
		}
	}
	if ok {
		f.Resume(l.offsets, l.complete)
	}
	return f, key, nil
}

func (r *Renderer) keepLayout(key string, f *tiff.File) {
	offs, complete := f.Directories()
	stored := false
	r.remember(func() {
		if old, ok := r.dirs[key]; !ok || len(offs) > len(old.offsets) {
			r.dirs[key] = tiffLayout{offs, complete}
			stored = complete && len(offs) > 1
		}
	})
	if stored {
		r.storeLayout(key, offs)
	}
}

// layoutKey is the cache's key of a TIFF version's directories.
func layoutKey(key string) string { return "layout\x00" + key }

// storeLayout keeps the directories' offsets of a TIFF walked to its end
// in the cache: a walk of 300 directories is 300 dependent reads of the
// storage, made once.
func (r *Renderer) storeLayout(key string, offs []int64) {
	b := make([]byte, 0, 5*len(offs))
	for _, o := range offs {
		b = binary.AppendUvarint(b, uint64(o))
	}
	tmp, err := os.CreateTemp(r.tmp, "layout-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.cache.Put(layoutKey(key), tmp.Name(), ".idx")
	}
	if err != nil {
		os.Remove(tmp.Name())
		r.log.Warn("keep a TIFF's layout", "err", err)
	}
}

// loadLayout reads what storeLayout kept, bounded by the pages a TIFF may
// have.
func (r *Renderer) loadLayout(key string) ([]int64, bool) {
	f, _, ok := r.cache.Get(layoutKey(key))
	if !ok {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 10*int64(maxTIFFPages)+1))
	if err != nil || len(b) > 10*maxTIFFPages {
		return nil, false
	}
	var offs []int64
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<32 || len(offs) >= maxTIFFPages {
			return nil, false
		}
		offs = append(offs, int64(v))
		b = b[n:]
	}
	return offs, len(offs) > 0
}

func (r *Renderer) tiffPages(src Source) (int, error) {
	f, key, err := r.openTIFF(src)
	if err != nil {
		return 0, err
	}
	n, err := f.Count()
	if err != nil {
		return 0, tiffError(err)
	}
	r.keepLayout(key, f)
	return n, nil
}

// tiffPage writes page n of src as a TIFF file of its own at dst.
func (r *Renderer) tiffPage(src Source, n int, dst string) error {
	f, key, err := r.openTIFF(src)
	if err != nil {
		return err
	}
	p, err := f.Page(n - 1)
	if err != nil {
		return tiffError(err)
	}
	r.keepLayout(key, f)
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("render: work file: %w", err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	if _, err := f.WritePage(bw, p); err != nil {
		out.Close()
		return tiffError(err)
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("render: work file: %w", err)
	}
	return out.Close()
}

func tiffError(err error) error {
	switch {
	case errors.Is(err, tiff.ErrNoPage):
		return ErrNoPage
	case errors.Is(err, tiff.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, tiff.ErrBigTIFF):
		return ErrBigTIFF
	case errors.Is(err, tiff.ErrNotTIFF), errors.Is(err, tiff.ErrMalformed):
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return err // the storage's: not the file's fault
}

var (
	pagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)\s*$`)
	sizeLine  = regexp.MustCompile(`(?m)^Page\s+\d+\s+size:\s+([0-9.]+)\s+x\s+([0-9.]+)\s+pts`)
)

// maxPDFPages bounds the pages a PDF may claim.
const maxPDFPages = 100_000

func (r *Renderer) pdfPages(ctx context.Context, src Source) (int, error) {
	local, release, err := r.copies.get(ctx, src, r.cfg.MaxFileSize)
	if err != nil {
		return 0, err
	}
	defer release()
	out, err := r.tool.run(ctx, "pdfinfo", local)
	if err != nil {
		return 0, toolError(err)
	}
	info, err := parsePDFInfo(out)
	if err != nil {
		return 0, err
	}
	return info.pages, nil
}

// pdfInfo is what pdfinfo says of a PDF, or of one of its pages.
type pdfInfo struct {
	pages         int
	width, height float64 // points, of the page asked for; 0 when not said
}

// parsePDFInfo reads pdfinfo's output: its page count, required, and the
// size of a page, when it gives one.
func parsePDFInfo(out []byte) (pdfInfo, error) {
	var info pdfInfo
	m := pagesLine.FindSubmatch(out)
	if m == nil {
		return info, fmt.Errorf("%w: pdfinfo gave no page count", ErrDamaged)
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 1 || n > maxPDFPages {
		return info, fmt.Errorf("%w: %.20s pages", ErrDamaged, m[1])
	}
	info.pages = n
	if m := sizeLine.FindSubmatch(out); m != nil {
		w, errW := strconv.ParseFloat(string(m[1]), 64)
		h, errH := strconv.ParseFloat(string(m[2]), 64)
		if errW != nil || errH != nil || !(w > 0) || !(h > 0) || w > 1e7 || h > 1e7 {
			return info, fmt.Errorf("%w: a page of %.20s × %.20s points", ErrDamaged, m[1], m[2])
		}
		info.width, info.height = w, h
	}
	return info, nil
}

// pdfPage renders page n of src at width w to prefix.jpg: width w, or
// less when the page is taller than three times its width (then 3w tall).
func (r *Renderer) pdfPage(ctx context.Context, src Source, n, w int, prefix string) error {
	local, release, err := r.copies.get(ctx, src, r.cfg.MaxFileSize)
	if err != nil {
		return err
	}
	defer release()
	total, err := r.Pages(ctx, src)
	if err != nil {
		return err
	}
	if n > total {
		return ErrNoPage
	}
	page := strconv.Itoa(n)
	info, err := r.tool.run(ctx, "pdfinfo", "-f", page, "-l", page, local)
	if err != nil {
		return toolError(err)
	}
	pi, err := parsePDFInfo(info)
	if err != nil {
		return err
	}
	scale := []string{"-scale-to-x", strconv.Itoa(w), "-scale-to-y", "-1"}
	if pi.height > 3*pi.width {
		scale = []string{"-scale-to-x", "-1", "-scale-to-y", strconv.Itoa(3 * w)}
	}
	args := append([]string{"-f", page, "-l", page}, scale...)
	args = append(args, "-jpeg", "-jpegopt", "quality=82", "-singlefile", local, prefix)
	if _, err := r.tool.run(ctx, "pdftoppm", args...); err != nil {
		return toolError(err)
	}
	return nil // -singlefile wrote prefix.jpg
}
