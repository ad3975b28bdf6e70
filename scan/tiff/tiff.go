// Package tiff reads the structure of a classic TIFF file — its chain of
// image file directories (IFDs), one a page — through an io.ReaderAt, with
// every read bounded, and writes one page of it as a TIFF of its own. It
// decodes no pixels: a page's strips or tiles are copied as they are, so
// that a renderer is handed a few megabytes instead of a 400 MB scan.
//
// Every number in a file is hostile until checked: the walk stops after
// Limits.MaxPages directories, at an offset seen before (a loop), or at
// one outside the file; a directory of too many entries, a value array
// larger than Limits.MaxArray, or a page larger than Limits.MaxPixels is
// refused with a typed error before anything is decoded.
package tiff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors a caller tells apart (with errors.Is) to say what is wrong.
var (
	// ErrNotTIFF: the file does not start as a TIFF does.
	ErrNotTIFF = errors.New("tiff: not a TIFF file")
	// ErrBigTIFF: a BigTIFF (64-bit offsets), which this package does not read.
	ErrBigTIFF = errors.New("tiff: BigTIFF is not supported")
	// ErrMalformed: the structure is broken (truncated, offsets outside the
	// file, a loop in the chain, missing required tags).
	ErrMalformed = errors.New("tiff: malformed file")
	// ErrTooLarge: the file claims more than the limits allow (pages,
	// pixels, entries, bytes).
	ErrTooLarge = errors.New("tiff: beyond the limits")
	// ErrNoPage: the page asked for is not in the file.
	ErrNoPage = errors.New("tiff: no such page")
)

// Limits bound what reading a file may cost.
type Limits struct {
	MaxPages   int   // directories walked; 0: 10,000
	MaxEntries int   // entries of one directory; 0: 512
	MaxArray   int64 // bytes of one tag's value (an offsets array); 0: 4 MiB
	MaxSide    int64 // pixels of a page's width or height; 0: 60,000
	MaxPixels  int64 // width × height of a page; 0: 300 million (A0 at 400 dpi)
	MaxData    int64 // bytes of a page's strips or tiles together; 0: 256 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxPages <= 0 {
		l.MaxPages = 10_000
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 512
	}
	if l.MaxArray <= 0 {
		l.MaxArray = 4 << 20
	}
	if l.MaxSide <= 0 {
		l.MaxSide = 60_000
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 300_000_000
	}
	if l.MaxData <= 0 {
		l.MaxData = 256 << 20
	}
	return l
}

// Tags this package reads or rewrites.
const (
	tagNewSubfileType  = 254
	tagImageWidth      = 256
	tagImageLength     = 257
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagSamplesPerPixel = 277
	tagRowsPerStrip    = 278
	tagStripByteCounts = 279
	tagPlanarConfig    = 284
	tagSubIFDs         = 330
	tagTileWidth       = 322
	tagTileLength      = 323
	tagTileOffsets     = 324
	tagTileByteCounts  = 325
	tagJPEGIF          = 513 // old-style JPEG's pointer into the file
	tagJPEGIFLength    = 514
	tagExifIFD         = 34665
	tagGPSIFD          = 34853
	tagInteropIFD      = 40965
)

// Compression values, as Page.Compression holds them.
const (
	CompressionNone     = 1
	CompressionCCITTG3  = 3
	CompressionCCITTG4  = 4
	CompressionLZW      = 5
	CompressionOldJPEG  = 6
	CompressionJPEG     = 7
	CompressionDeflate  = 8
	CompressionPackBits = 32773
)

// typeSize is the size in bytes of one value of each TIFF field type; 0
// for a type this package does not know (such an entry is dropped).
func typeSize(t uint16) int64 {
	switch t {
	case 1, 2, 6, 7: // BYTE, ASCII, SBYTE, UNDEFINED
		return 1
	case 3, 8: // SHORT, SSHORT
		return 2
	case 4, 9, 11, 13: // LONG, SLONG, FLOAT, IFD
		return 4
	case 5, 10, 12: // RATIONAL, SRATIONAL, DOUBLE
		return 8
	}
	return 0
}

// entry is one field of a directory, as it is in the file.
type entry struct {
	tag, typ uint16
	count    uint32
	raw      [4]byte // the value itself when it fits, else its offset
}

func (e entry) size() int64 { return typeSize(e.typ) * int64(e.count) }

// File is an open TIFF file: its byte order and the offsets of the
// directories walked so far.
type File struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
	lim   Limits
	ifds  []int64 // offsets of the directories found, in chain order
	next  int64   // offset of the directory after the last found; 0: the end
	seen  map[int64]bool
}

// Open reads the header of the TIFF file of size bytes that r reads.
func Open(r io.ReaderAt, size int64, lim Limits) (*File, error) {
	var h [8]byte
	if size < 8 {
		return nil, ErrNotTIFF
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("tiff: read the header: %w", err)
	}
	f := &File{r: r, size: size, lim: lim.withDefaults(), seen: map[int64]bool{}}
	switch string(h[:2]) {
	case "II":
		f.order = binary.LittleEndian
	case "MM":
		f.order = binary.BigEndian
	default:
		return nil, ErrNotTIFF
	}
	switch f.order.Uint16(h[2:4]) {
	case 42:
	case 43:
		return nil, ErrBigTIFF
	default:
		return nil, ErrNotTIFF
	}
	f.next = int64(f.order.Uint32(h[4:8]))
	if f.next == 0 {
		return nil, fmt.Errorf("%w: no image directory", ErrMalformed)
	}
	return f, nil
}

// Size is the size of the file, as Open was told.
func (f *File) Size() int64 { return f.size }

// step finds the directory after the last one found: two small reads.
func (f *File) step() error {
	off := f.next
	if off < 8 || off+2 > f.size {
		return fmt.Errorf("%w: directory at %d outside the file", ErrMalformed, off)
	}
	if f.seen[off] {
		return fmt.Errorf("%w: the directories loop at %d", ErrMalformed, off)
	}
	if len(f.ifds) >= f.lim.MaxPages {
		return fmt.Errorf("%w: more than %d pages", ErrTooLarge, f.lim.MaxPages)
	}
	var b [4]byte
	if err := f.read(b[:2], off); err != nil {
		return err
	}
	n := int64(f.order.Uint16(b[:2]))
	if n == 0 {
		return fmt.Errorf("%w: an empty directory at %d", ErrMalformed, off)
	}
	if n > int64(f.lim.MaxEntries) {
		return fmt.Errorf("%w: a directory of %d entries", ErrTooLarge, n)
	}
	if err := f.read(b[:], off+2+12*n); err != nil {
		return err
	}
	f.seen[off] = true
	f.ifds = append(f.ifds, off)
	f.next = int64(f.order.Uint32(b[:]))
	return nil
}

// read fills b from off, a short read being a malformed file.
func (f *File) read(b []byte, off int64) error {
	if off < 0 || off+int64(len(b)) > f.size {
		return fmt.Errorf("%w: %d bytes at %d are outside the file", ErrMalformed, len(b), off)
	}
	n, err := f.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated at %d", ErrMalformed, off)
	}
	return fmt.Errorf("tiff: read at %d: %w", off, err)
}

// Count walks the whole chain and returns the number of pages.
func (f *File) Count() (int, error) {
	for f.next != 0 {
		if err := f.step(); err != nil {
			return len(f.ifds), err
		}
	}
	return len(f.ifds), nil
}

// Page is what a directory says of its image.
type Page struct {
	Index         int // from 0
	Width, Height int64
	Compression   int
	Bits          []int // bits per sample, one a sample
	Samples       int
	Photometric   int
	Planar        int
	Tiled         bool
	TileW, TileH  int64 // when tiled
	RowsPerStrip  int64 // when striped
	Offsets       []int64
	Counts        []int64 // bytes of each strip or tile, beside Offsets
	entries       []entry
}

// Bytes is the size of the page's strips or tiles together.
func (p *Page) Bytes() int64 {
	var n int64
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// Page reads the directory of page i (from 0), walking the chain as far
// as it: the pages after it are not read.
func (f *File) Page(i int) (*Page, error) {
	if i < 0 {
		return nil, ErrNoPage
	}
	for len(f.ifds) <= i {
		if f.next == 0 {
			return nil, ErrNoPage
		}
		if err := f.step(); err != nil {
			return nil, err
		}
	}
	return f.readPage(i)
}

func (f *File) readPage(i int) (*Page, error) {
	off := f.ifds[i]
	var b [2]byte
	if err := f.read(b[:], off); err != nil {
		return nil, err
	}
	n := int(f.order.Uint16(b[:]))
	buf := make([]byte, 12*n)
	if err := f.read(buf, off+2); err != nil {
		return nil, err
	}
	p := &Page{Index: i, Compression: CompressionNone, Samples: 1, Planar: 1, Photometric: -1}
	var offs, counts entry
	var haveOffs, haveCounts bool
	for k := range n {
		e := entry{tag: f.order.Uint16(buf[12*k:]), typ: f.order.Uint16(buf[12*k+2:]), count: f.order.Uint32(buf[12*k+4:])}
		copy(e.raw[:], buf[12*k+8:12*k+12])
		if typeSize(e.typ) == 0 {
			continue
		}
		if e.size() > f.lim.MaxArray {
			return nil, fmt.Errorf("%w: tag %d holds %d bytes", ErrTooLarge, e.tag, e.size())
		}
		p.entries = append(p.entries, e)
		switch e.tag {
		case tagStripOffsets, tagTileOffsets:
			offs, haveOffs = e, true
			p.Tiled = e.tag == tagTileOffsets
		case tagStripByteCounts, tagTileByteCounts:
			counts, haveCounts = e, true
		}
	}
	scalar := func(tag uint16) (int64, bool, error) {
		for _, e := range p.entries {
			if e.tag == tag {
				v, err := f.ints(e, 1)
				if err != nil || len(v) == 0 {
					return 0, false, err
				}
				return v[0], true, nil
			}
		}
		return 0, false, nil
	}
	var ok bool
	var err error
	if p.Width, ok, err = scalar(tagImageWidth); err != nil || !ok {
		return nil, cmpErr(err, "no image width")
	}
	if p.Height, ok, err = scalar(tagImageLength); err != nil || !ok {
		return nil, cmpErr(err, "no image length")
	}
	if p.Width <= 0 || p.Height <= 0 {
		return nil, fmt.Errorf("%w: a page of %d × %d pixels", ErrMalformed, p.Width, p.Height)
	}
	if p.Width > f.lim.MaxSide || p.Height > f.lim.MaxSide || p.Width*p.Height > f.lim.MaxPixels {
		return nil, fmt.Errorf("%w: a page of %d × %d pixels", ErrTooLarge, p.Width, p.Height)
	}
	for _, s := range []struct {
		tag uint16
		to  *int
	}{{tagCompression, &p.Compression}, {tagSamplesPerPixel, &p.Samples}, {tagPhotometric, &p.Photometric}, {tagPlanarConfig, &p.Planar}} {
		v, ok, err := scalar(s.tag)
		if err != nil {
			return nil, err
		}
		if ok {
			*s.to = int(v)
		}
	}
	if p.Samples < 1 || p.Samples > 16 {
		return nil, fmt.Errorf("%w: %d samples a pixel", ErrMalformed, p.Samples)
	}
	p.Bits = []int{1}
	for _, e := range p.entries {
		if e.tag == tagBitsPerSample {
			v, err := f.ints(e, 16)
			if err != nil {
				return nil, err
			}
			p.Bits = p.Bits[:0]
			for _, b := range v {
				if b < 1 || b > 64 {
					return nil, fmt.Errorf("%w: %d bits a sample", ErrMalformed, b)
				}
				p.Bits = append(p.Bits, int(b))
			}
		}
	}
	if p.Tiled {
		if p.TileW, ok, err = scalar(tagTileWidth); err != nil || !ok || p.TileW <= 0 || p.TileW > f.lim.MaxSide {
			return nil, cmpErr(err, "no valid tile width")
		}
		if p.TileH, ok, err = scalar(tagTileLength); err != nil || !ok || p.TileH <= 0 || p.TileH > f.lim.MaxSide {
			return nil, cmpErr(err, "no valid tile length")
		}
	} else {
		if p.RowsPerStrip, ok, err = scalar(tagRowsPerStrip); err != nil {
			return nil, err
		}
		if !ok || p.RowsPerStrip <= 0 || p.RowsPerStrip > p.Height {
			p.RowsPerStrip = p.Height
		}
	}
	if !haveOffs || !haveCounts || offs.count != counts.count || offs.count == 0 {
		return nil, fmt.Errorf("%w: no strips or tiles", ErrMalformed)
	}
	limit := int(f.lim.MaxArray / 4)
	if p.Offsets, err = f.ints(offs, limit); err != nil {
		return nil, err
	}
	if p.Counts, err = f.ints(counts, limit); err != nil {
		return nil, err
	}
	var total int64
	for k, o := range p.Offsets {
		c := p.Counts[k]
		if o < 0 || c < 0 || o+c > f.size {
			return nil, fmt.Errorf("%w: a strip of %d bytes at %d is outside the file", ErrMalformed, c, o)
		}
		if total += c; total > f.lim.MaxData {
			return nil, fmt.Errorf("%w: a page of more than %d bytes", ErrTooLarge, f.lim.MaxData)
		}
	}
	return p, nil
}

func cmpErr(err error, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrMalformed, what)
}

// value reads the bytes of e's value: in the entry, or where it points.
func (f *File) value(e entry) ([]byte, error) {
	n := e.size()
	if n <= 4 {
		return e.raw[:n], nil
	}
	b := make([]byte, n)
	if err := f.read(b, int64(f.order.Uint32(e.raw[:]))); err != nil {
		return nil, err
	}
	return b, nil
}

// ints reads at most max of e's values as integers (BYTE, SHORT or LONG).
func (f *File) ints(e entry, max int) ([]int64, error) {
	if int(e.count) > max {
		return nil, fmt.Errorf("%w: tag %d has %d values", ErrTooLarge, e.tag, e.count)
	}
	b, err := f.value(e)
	if err != nil {
		return nil, err
	}
	out := make([]int64, e.count)
	for i := range out {
		switch e.typ {
		case 1:
			out[i] = int64(b[i])
		case 3:
			out[i] = int64(f.order.Uint16(b[2*i:]))
		case 4, 13:
			out[i] = int64(f.order.Uint32(b[4*i:]))
		default:
			return nil, fmt.Errorf("%w: tag %d of type %d is not an integer", ErrMalformed, e.tag, e.typ)
		}
	}
	return out, nil
}

// Directories are the offsets of the directories found so far, and
// whether the chain was walked to its end: what Resume needs to skip the
// walk next time the same file is opened.
func (f *File) Directories() ([]int64, bool) {
	return append([]int64(nil), f.ifds...), f.next == 0
}

// Resume takes the directories an earlier walk of the same content found
// (Directories), so that reading page N costs the reads of that page only.
func (f *File) Resume(dirs []int64, complete bool) {
	if len(dirs) == 0 || dirs[0] != f.next || len(dirs) > f.lim.MaxPages {
		return // not this file's
	}
	f.ifds = append([]int64(nil), dirs...)
	for _, d := range dirs {
		f.seen[d] = true
	}
	if complete {
		f.next = 0
	} else {
		// The walk goes on from the last directory's link.
		f.ifds = f.ifds[:len(f.ifds)-1]
		f.next = dirs[len(dirs)-1]
		delete(f.seen, f.next)
	}
}
