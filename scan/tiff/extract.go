package tiff

import (
	"fmt"
	"io"
	"slices"
)

// copyChunk bounds one read of strip data while a page is copied:
// neighbouring strips are read together up to it, so that a page whose
// strips follow each other costs a few ranged reads.
const copyChunk = 4 << 20

// dropped are the tags a page written alone leaves out: pointers to
// other directories or to places of the source file that the copy does
// not hold.
var dropped = map[uint16]bool{tagSubIFDs: true, tagExifIFD: true, tagGPSIFD: true, tagInteropIFD: true, tagJPEGIF: true, tagJPEGIFLength: true}

// WritePage writes page p of f to w as a single-page TIFF in the byte
// order of f: the page's directory, its values and its strips or tiles
// copied as they are, with the offsets rewritten. It returns the bytes
// written.
func (f *File) WritePage(w io.Writer, p *Page) (int64, error) {
	var es []entry
	for _, e := range p.entries {
		if !dropped[e.tag] {
			es = append(es, e)
		}
	}
	slices.SortStableFunc(es, func(a, b entry) int { return int(a.tag) - int(b.tag) })
	es = slices.CompactFunc(es, func(a, b entry) bool { return a.tag == b.tag })
	offTag, countTag := uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if p.Tiled {
		offTag, countTag = tagTileOffsets, tagTileByteCounts
	}
	n := int64(len(p.Offsets))
	// Layout: header, directory, the values that do not fit in an entry,
	// then the data.
	ifdSize := 2 + 12*int64(len(es)) + 4
	pos := 8 + ifdSize
	type blob struct {
		at   int64
		data []byte
	}
	var blobs []blob
	vals := make([][4]byte, len(es))
	var offArrayAt int64 = -1
	for i := range es {
		e := &es[i]
		var data []byte
		switch e.tag {
		case offTag, countTag:
			e.typ, e.count = 4, uint32(n)
			if n == 1 {
				continue // filled in below, in the entry itself
			}
			data = make([]byte, 4*n)
			if e.tag == offTag {
				offArrayAt = pos
			} else {
				for k, c := range p.Counts {
					f.order.PutUint32(data[4*k:], uint32(c))
				}
			}
		default:
			if e.size() <= 4 {
				vals[i] = e.raw
				continue
			}
			var err error
			if data, err = f.value(*e); err != nil {
				return 0, err
			}
		}
		pos += pos & 1 // values start on a word boundary
		f.order.PutUint32(vals[i][:], uint32(pos))
		blobs = append(blobs, blob{pos, data})
		pos += int64(len(data))
	}
	pos += pos & 1
	dataAt := pos
	// The offsets of the strips in the copy, now that the layout is known.
	newOffs := make([]int64, n)
	for k, c := range p.Counts {
		newOffs[k] = pos
		pos += c
	}
	if pos > 1<<32-1 {
		return 0, fmt.Errorf("%w: the page does not fit a classic TIFF", ErrTooLarge)
	}
	for i, e := range es {
		switch {
		case e.tag == offTag && n == 1:
			f.order.PutUint32(vals[i][:], uint32(newOffs[0]))
		case e.tag == countTag && n == 1:
			f.order.PutUint32(vals[i][:], uint32(p.Counts[0]))
		}
	}
	for bi := range blobs {
		if blobs[bi].at == offArrayAt {
			for k, o := range newOffs {
				f.order.PutUint32(blobs[bi].data[4*k:], uint32(o))
			}
		}
	}

	head := make([]byte, dataAt)
	if f.order.Uint16([]byte{1, 0}) == 1 {
		copy(head, "II")
	} else {
		copy(head, "MM")
	}
	f.order.PutUint16(head[2:], 42)
	f.order.PutUint32(head[4:], 8)
	f.order.PutUint16(head[8:], uint16(len(es)))
	for i, e := range es {
		at := 10 + 12*i
		f.order.PutUint16(head[at:], e.tag)
		f.order.PutUint16(head[at+2:], e.typ)
		f.order.PutUint32(head[at+4:], e.count)
		copy(head[at+8:at+12], vals[i][:])
	}
	// The next directory's offset stays 0: one page.
	for _, b := range blobs {
		copy(head[b.at:], b.data)
	}
	written, err := w.Write(head)
	total := int64(written)
	if err != nil {
		return total, err
	}
	// The data, neighbouring strips read together.
	buf := make([]byte, 0, min(copyChunk, int(max(p.Bytes(), 1))))
	for k := 0; k < len(p.Offsets); {
		start, end := p.Offsets[k], p.Offsets[k]+p.Counts[k]
		j := k + 1
		for j < len(p.Offsets) && p.Offsets[j] == end && end-start+p.Counts[j] <= copyChunk {
			end += p.Counts[j]
			j++
		}
		if end-start > int64(cap(buf)) {
			buf = make([]byte, 0, end-start)
		}
		b := buf[:end-start]
		if err := f.read(b, start); err != nil {
			return total, err
		}
		nw, err := w.Write(b)
		total += int64(nw)
		if err != nil {
			return total, err
		}
		k = j
	}
	return total, nil
}
