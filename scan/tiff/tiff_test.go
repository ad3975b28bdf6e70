package tiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// page is a page the tests write: gray, 8 bits, uncompressed, in strips
// of rows rows, each pixel the page's own value.
type page struct {
	w, h, rows int
	fill       byte
}

// build writes a multi-page TIFF in byte order o: for each page its
// strips, then its directory, as libtiff lays files out. next, when set,
// changes the offset of the directory after the last (a loop, or garbage).
func build(o binary.ByteOrder, pages []page, next func(ifds []int) uint32) []byte {
	var b bytes.Buffer
	if o == binary.ByteOrder(binary.LittleEndian) {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	u16 := func(v uint16) { binary.Write(&b, o, v) }
	u32 := func(v uint32) { binary.Write(&b, o, v) }
	u16(42)
	u32(0) // patched
	var ifds []int
	var links []int // where each directory's "next" is
	for _, p := range pages {
		var offs, counts []uint32
		for y := 0; y < p.h; y += p.rows {
			n := min(p.rows, p.h-y) * p.w
			offs = append(offs, uint32(b.Len()))
			counts = append(counts, uint32(n))
			for i := range n {
				b.WriteByte(p.fill + byte(i%7))
			}
		}
		arrays := map[uint16]uint32{}
		if len(offs) > 1 {
			if b.Len()%2 == 1 {
				b.WriteByte(0)
			}
			arrays[273] = uint32(b.Len())
			for _, v := range offs {
				u32(v)
			}
			arrays[279] = uint32(b.Len())
			for _, v := range counts {
				u32(v)
			}
		}
		if b.Len()%2 == 1 {
			b.WriteByte(0)
		}
		ifds = append(ifds, b.Len())
		type ent struct {
			tag, typ uint16
			count    uint32
			val      uint32
		}
		short := func(tag uint16, v uint32) ent { return ent{tag, 3, 1, v} }
		es := []ent{{256, 4, 1, uint32(p.w)}, {257, 4, 1, uint32(p.h)}, short(258, 8), short(259, 1), short(262, 1)}
		if len(offs) == 1 {
			es = append(es, ent{273, 4, 1, offs[0]})
		} else {
			es = append(es, ent{273, 4, uint32(len(offs)), arrays[273]})
		}
		es = append(es, short(277, 1), ent{278, 4, 1, uint32(p.rows)})
		if len(offs) == 1 {
			es = append(es, ent{279, 4, 1, counts[0]})
		} else {
			es = append(es, ent{279, 4, uint32(len(offs)), arrays[279]})
		}
		u16(uint16(len(es)))
		for _, e := range es {
			u16(e.tag)
			u16(e.typ)
			u32(e.count)
			if e.typ == 3 && e.count == 1 {
				u16(uint16(e.val))
				u16(0)
			} else {
				u32(e.val)
			}
		}
		links = append(links, b.Len())
		u32(0)
	}
	out := b.Bytes()
	o.PutUint32(out[4:], uint32(ifds[0]))
	for i := 0; i+1 < len(ifds); i++ {
		o.PutUint32(out[links[i]:], uint32(ifds[i+1]))
	}
	if next != nil {
		o.PutUint32(out[links[len(links)-1]:], next(ifds))
	}
	return out
}

func threePages() []page {
	return []page{{40, 30, 7, 10}, {64, 20, 20, 100}, {15, 50, 1, 200}}
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
	}{{"little-endian", binary.LittleEndian}, {"big-endian", binary.BigEndian}} {
		t.Run(tc.name, func(t *testing.T) {
			data := build(tc.order, threePages(), nil)
			f, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.Page(1)
			if err != nil {
				t.Fatal(err)
			}
			if p.Width != 64 || p.Height != 20 || p.Compression != 1 || p.Photometric != 1 || len(p.Bits) != 1 || p.Bits[0] != 8 || len(p.Offsets) != 1 {
				t.Errorf("page 2: %+v", p)
			}
			if len(f.ifds) != 2 {
				t.Errorf("reading page 2 walked %d directories", len(f.ifds))
			}
			n, err := f.Count()
			if err != nil || n != 3 {
				t.Fatalf("Count = %d, %v", n, err)
			}
			p, err = f.Page(2)
			if err != nil || len(p.Offsets) != 50 || p.Bytes() != 15*50 {
				t.Errorf("page 3: %+v, %v", p, err)
			}
			if _, err := f.Page(3); !errors.Is(err, ErrNoPage) {
				t.Errorf("page 4: %v", err)
			}
		})
	}
}

func TestBad(t *testing.T) {
	good := build(binary.LittleEndian, threePages(), nil)
	huge := build(binary.LittleEndian, []page{{4, 4, 4, 0}}, nil)
	// The width and length of the one page, LONG values in the first two entries.
	ifd := int(binary.LittleEndian.Uint32(huge[4:]))
	binary.LittleEndian.PutUint32(huge[ifd+2+8:], 100_000)
	binary.LittleEndian.PutUint32(huge[ifd+2+12+8:], 100_000)
	big := append([]byte("II+\x00\x08\x00\x00\x00"), make([]byte, 16)...)
	outside := build(binary.LittleEndian, []page{{4, 4, 4, 0}}, nil)
	binary.LittleEndian.PutUint32(outside[ifd+2+12*5+8:], 1<<30) // StripOffsets
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotTIFF},
		{"not a tiff", []byte("%PDF-1.4 and more bytes"), ErrNotTIFF},
		{"bigtiff", big, ErrBigTIFF},
		{"truncated", good[:len(good)-20], ErrMalformed},
		{"truncated early", good[:300], ErrMalformed},
		{"loop", build(binary.LittleEndian, threePages(), func(ifds []int) uint32 { return uint32(ifds[0]) }), ErrMalformed},
		{"next outside", build(binary.LittleEndian, threePages(), func([]int) uint32 { return 1 << 31 }), ErrMalformed},
		{"100000 × 100000", huge, ErrTooLarge},
		{"strip outside", outside, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := walkAll(tc.data, Limits{})
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPageLimit(t *testing.T) {
	var pages []page
	for range 12 {
		pages = append(pages, page{2, 2, 2, 1})
	}
	data := build(binary.LittleEndian, pages, nil)
	if err := walkAll(data, Limits{MaxPages: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("12 pages under a limit of 10: %v", err)
	}
	if err := walkAll(data, Limits{MaxPages: 12}); err != nil {
		t.Errorf("12 pages under a limit of 12: %v", err)
	}
}

// walkAll reads every page of data, as a renderer asking for each would.
func walkAll(data []byte, lim Limits) error {
	f, err := Open(bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		return err
	}
	n, err := f.Count()
	if err != nil {
		return err
	}
	for i := range n {
		if _, err := f.Page(i); err != nil {
			return err
		}
	}
	return nil
}

func TestWritePage(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		data := build(order, threePages(), nil)
		src, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range threePages() {
			p, err := src.Page(i)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := src.WritePage(&out, p)
			if err != nil || n != int64(out.Len()) {
				t.Fatalf("page %d: %d, %v", i+1, n, err)
			}
			one, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c, err := one.Count(); c != 1 || err != nil {
				t.Fatalf("page %d alone has %d pages: %v", i+1, c, err)
			}
			q, err := one.Page(0)
			if err != nil {
				t.Fatal(err)
			}
			if q.Width != int64(want.w) || q.Height != int64(want.h) || q.RowsPerStrip != int64(want.rows) || len(q.Offsets) != len(p.Offsets) {
				t.Errorf("page %d alone: %+v", i+1, q)
			}
			if got, orig := pixels(t, one, q), pixels(t, src, p); !bytes.Equal(got, orig) {
				t.Errorf("page %d alone has other pixels", i+1)
			}
		}
	}
}

// pixels are the bytes of a page's strips, in order.
func pixels(t *testing.T, f *File, p *Page) []byte {
	var out []byte
	for k, o := range p.Offsets {
		b := make([]byte, p.Counts[k])
		if err := f.read(b, o); err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func FuzzWalk(f *testing.F) {
	f.Add(build(binary.LittleEndian, threePages(), nil))
	f.Add(build(binary.BigEndian, threePages()[:1], nil))
	f.Add(build(binary.LittleEndian, threePages(), func(ifds []int) uint32 { return uint32(ifds[1]) }))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxPages: 50, MaxArray: 1 << 16, MaxData: 1 << 20}
		src, err := Open(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		n, _ := src.Count()
		if n > 50 {
			t.Fatalf("%d pages past a limit of 50", n)
		}
		for i := range n {
			p, err := src.Page(i)
			if err != nil {
				continue
			}
			if p.Width*p.Height > lim.withDefaults().MaxPixels || p.Bytes() > lim.MaxData {
				t.Fatalf("page %d beyond the limits: %+v", i, p)
			}
			var out bytes.Buffer
			if _, err := src.WritePage(&out, p); err != nil {
				continue
			}
			// What WritePage writes is a TIFF this package reads back.
			one, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()), lim)
			if err != nil {
				t.Fatalf("the copy of page %d does not open: %v", i, err)
			}
			q, err := one.Page(0)
			if err != nil {
				t.Fatalf("the copy of page %d does not read: %v", i, err)
			}
			if q.Width != p.Width || q.Height != p.Height || q.Bytes() != p.Bytes() {
				t.Fatalf("the copy of page %d differs: %+v, %+v", i, q, p)
			}
		}
	})
}
