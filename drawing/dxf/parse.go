package dxf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// binarySentinel opens every binary DXF file.
const binarySentinel = "AutoCAD Binary DXF"

// maxLine bounds a line of the file: DXF's own strings stop at 2049
// bytes; a longer line is not DXF.
const maxLine = 64 << 10

// maxMText bounds the text of one MTEXT, whose chunks DXF splits at 250
// bytes each.
const maxMText = 16 << 10

// Parse reads a DXF drawing from r within lim.
func Parse(ctx context.Context, r io.Reader, lim Limits) (*Drawing, error) {
	lim = lim.orDefault()
	p := newParser(ctx, r, lim)
	d := p.d
	if err := p.sniff(); err != nil {
		return nil, err
	}
	if err := p.file(false); err != nil {
		return nil, err
	}
	if !d.sawEntitiesSection && len(d.Blocks) == 0 {
		return nil, fmt.Errorf("%w: no ENTITIES section", ErrMalformed)
	}
	return d, nil
}

// Header is what a file page says of a drawing.
type Header struct {
	Version string // $ACADVER, "" when the file has none (R12 files may have no header)
	Units   int    // $INSUNITS, 0 when unknown
}

// ReadHeader reads only the header of a DXF drawing, from what r gives of
// its start: a ranged read is enough, since $ACADVER comes first and the
// header is short.
func ReadHeader(ctx context.Context, r io.Reader) (Header, error) {
	p := newParser(ctx, r, DefaultLimits())
	if err := p.sniff(); err != nil {
		return Header{}, err
	}
	err := p.file(true)
	h := Header{Version: p.d.Version, Units: p.d.Units}
	if h.Version != "" || errors.Is(err, errHeaderDone) {
		// What follows the header, or the end of the range read, does not
		// matter.
		return h, nil
	}
	return Header{}, err
}

// unitNames are $INSUNITS' units that building drawings use, in Italian.
var unitNames = map[int]string{1: "pollici", 2: "piedi", 4: "millimetri", 5: "centimetri", 6: "metri", 7: "chilometri", 14: "decimetri"}

// UnitName is the Italian name of a $INSUNITS value, "" for one unknown or
// unset.
func UnitName(units int) string { return unitNames[units] }

var errHeaderDone = errors.New("dxf: header read")

type parser struct {
	ctx   context.Context
	in    *bufio.Reader
	d     *Drawing
	code  int
	val   []byte // valid until the next read
	back  bool   // the current pair is to be read again
	pairs int
	eof   bool
	// The drawing's points and bulges, handed out from large chunks (one
	// allocation for thousands of entities), and the scratch space where
	// a polyline's vertices gather before they are kept.
	pts      []Point
	floats   []float64
	scratchP []Point
	scratchB []float64
	detail   Detail
}

// arenaChunk is the size of the chunks of points and bulges.
const arenaChunk = 16384

// keep is src copied into arena, the chunks where the drawing keeps its
// points or its bulges; a long src gets its own.
func keep[T any](arena *[]T, src []T) []T {
	if len(src) == 0 {
		return nil
	}
	if len(src) > arenaChunk/16 {
		return slices.Clone(src)
	}
	if cap(*arena)-len(*arena) < len(src) {
		*arena = make([]T, 0, arenaChunk)
	}
	n := len(*arena)
	*arena = append(*arena, src...)
	return (*arena)[n:len(*arena):len(*arena)]
}

// fixed gathers the points of an entity that has a few, in the scratch
// space, for settle.
func (p *parser) fixed(pts ...Point) []Point { return append(p.scratchP[:0], pts...) }

// settle keeps e's vertices, gathered in the scratch space, with the
// drawing's, and takes the scratch space back for the next entity.
func (p *parser) settle(e *Entity) {
	pts, bulge := e.P, e.Bulge
	e.P, e.Bulge = keep(&p.pts, pts), keep(&p.floats, bulge)
	if cap(pts) > cap(p.scratchP) {
		p.scratchP = pts[:0]
	}
	if cap(bulge) > cap(p.scratchB) {
		p.scratchB = bulge[:0]
	}
}

func newParser(ctx context.Context, r io.Reader, lim Limits) *parser {
	lr := &limitReader{r: r, n: lim.MaxBytes}
	d := &Drawing{lim: lim, Blocks: map[string]*Block{}, layerIndex: map[string]int{}, stringsInterned: map[string]string{},
		LineTypes:  []LineType{{Name: "BYLAYER"}, {Name: "BYBLOCK"}, {Name: "CONTINUOUS"}},
		ltypeIndex: map[string]int16{"BYLAYER": ByLayerLine, "BYBLOCK": ByBlockLine, "CONTINUOUS": ContinuousLine}}
	return &parser{ctx: ctx, in: bufio.NewReaderSize(lr, maxLine), d: d}
}

// limitReader fails once more than n bytes are asked of it.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, err
}

func (p *parser) sniff() error {
	b, _ := p.in.Peek(len(binarySentinel))
	if string(b) == binarySentinel {
		return ErrBinary
	}
	// A byte order mark, which some Windows programs write first.
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		p.in.Discard(3)
	}
	return nil
}

// line reads a line without its end.
func (p *parser) line() ([]byte, error) {
	b, err := p.in.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line too long", ErrMalformed)
	}
	if err != nil && (!errors.Is(err, io.EOF) || len(b) == 0) {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r")), nil
}

// next reads the next pair; io.EOF at the end of the file.
func (p *parser) next() error {
	if p.back {
		p.back = false
		return nil
	}
	if p.eof {
		return io.EOF
	}
	p.pairs++
	if p.pairs&4095 == 0 {
		if err := p.ctx.Err(); err != nil {
			return err
		}
	}
	c, err := p.line()
	if err != nil {
		if errors.Is(err, io.EOF) {
			p.eof = true
		}
		return err
	}
	c = bytes.TrimSpace(c)
	if len(c) == 0 {
		// Trailing blank lines after EOF, written by some tools.
		if rest, _ := p.in.Peek(1); len(rest) == 0 {
			p.eof = true
			return io.EOF
		}
	}
	code, err := strconv.Atoi(view(c))
	if err != nil || code < -5 || code > 1071 {
		return fmt.Errorf("%w: group code %q", ErrMalformed, truncate(c))
	}
	v, err := p.line()
	if err != nil {
		if errors.Is(err, io.EOF) {
			p.eof = true
			return fmt.Errorf("%w: file ends inside a group", ErrMalformed)
		}
		return err
	}
	p.code, p.val = code, v
	return nil
}

func truncate(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

// unread makes the next call of next return the current pair again.
func (p *parser) unread() { p.back = true }

func (p *parser) is(code int, v string) bool {
	return p.code == code && string(bytes.TrimSpace(p.val)) == v
}

func (p *parser) str() string { return string(bytes.TrimSpace(p.val)) }

// view is b as a string without a copy, for strconv: the millions of
// numbers of a drawing are read without an allocation each. The string
// lives no longer than the call (strconv's errors, which quote it, are
// dropped).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (p *parser) num() float64 {
	f, err := strconv.ParseFloat(view(bytes.TrimSpace(p.val)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func (p *parser) int() int {
	s := bytes.TrimSpace(p.val)
	n, err := strconv.Atoi(view(s))
	if err != nil {
		// Some writers put a float where an integer belongs.
		return int(p.num())
	}
	return n
}

// text is the value as a string of the drawing: UTF-8 (R2007 and later)
// or the file's code page, which in Italy is Windows-1252.
func (p *parser) text() string {
	v := p.val
	if !utf8.Valid(v) {
		if b, err := charmap.Windows1252.NewDecoder().Bytes(v); err == nil {
			v = b
		} else {
			return strings.ToValidUTF8(string(v), "?")
		}
	}
	return unicodeEscapes(string(v))
}

// unicodeEscapes replaces DXF's \U+XXXX escapes, with which files before
// R2007 write what their code page lacks.
func unicodeEscapes(s string) string {
	if !strings.Contains(s, `\U+`) && !strings.Contains(s, `\u+`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+7 <= len(s) && (s[i+1] == 'U' || s[i+1] == 'u') && s[i+2] == '+' {
			if r, err := strconv.ParseUint(s[i+3:i+7], 16, 32); err == nil {
				b.WriteRune(rune(r))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// name is the value as a layer's or a block's name, one copy of each
// kept: looked up without a copy first.
func (p *parser) name() string {
	v := bytes.TrimSpace(p.val)
	if s, ok := p.d.stringsInterned[string(v)]; ok {
		return s
	}
	return p.intern(strings.TrimSpace(p.text()))
}

// intern keeps one copy of each layer or block name.
func (p *parser) intern(s string) string {
	if v, ok := p.d.stringsInterned[s]; ok {
		return v
	}
	p.d.stringsInterned[s] = s
	return s
}

// count takes n items from the budget.
func (p *parser) count(n int) error {
	p.d.items += n
	if p.d.items > p.d.lim.MaxItems {
		return fmt.Errorf("%w: more than %d entities and vertices", ErrTooComplex, p.d.lim.MaxItems)
	}
	return nil
}

// countVertices takes n vertices (or knots, or weights) from the budget:
// a vertex costs a few bytes where an entity costs a hundred, so that
// Limits.MaxItems allows four times as many.
func (p *parser) countVertices(n int) error {
	p.d.vertices += n
	if p.d.vertices > verticesPerItem*p.d.lim.MaxItems {
		return fmt.Errorf("%w: more than %d vertices", ErrTooComplex, verticesPerItem*p.d.lim.MaxItems)
	}
	return nil
}

// verticesPerItem is how many vertices an item of the budget allows.
const verticesPerItem = 4

func (p *parser) countText(n int) error {
	p.d.textBytes += n
	if p.d.textBytes > p.d.lim.MaxText {
		return fmt.Errorf("%w: more than %d bytes of text", ErrTooComplex, p.d.lim.MaxText)
	}
	return nil
}

// file reads the sections up to EOF; headerOnly stops after the header.
func (p *parser) file(headerOnly bool) error {
	for {
		err := p.next()
		if errors.Is(err, io.EOF) {
			return nil // a file cut after its last section: drawn as far as it goes
		}
		if err != nil {
			return err
		}
		switch {
		case p.is(0, "EOF"):
			return nil
		case p.is(0, "SECTION"):
			if err := p.next(); err != nil {
				return eofIsMalformed(err)
			}
			if p.code != 2 {
				return fmt.Errorf("%w: section without a name", ErrMalformed)
			}
			name := p.str()
			if headerOnly && name != "HEADER" {
				return errHeaderDone
			}
			switch name {
			case "HEADER":
				err = p.header()
				if err == nil && headerOnly {
					return errHeaderDone
				}
			case "TABLES":
				err = p.tables()
			case "BLOCKS":
				err = p.blocks()
			case "ENTITIES":
				p.d.sawEntitiesSection = true
				err = p.entities()
			default:
				err = p.skipSection()
			}
			if err != nil {
				return eofIsMalformed(err)
			}
		case p.code == 999:
			// A comment.
		default:
			return fmt.Errorf("%w: %d %q outside a section", ErrMalformed, p.code, truncate(p.val))
		}
	}
}

func eofIsMalformed(err error) error {
	if errors.Is(err, io.EOF) {
		return nil // cut short: what was read is drawn
	}
	return err
}

func (p *parser) skipSection() error {
	for {
		if err := p.next(); err != nil {
			return err
		}
		if p.is(0, "ENDSEC") {
			return nil
		}
	}
}

// header reads $ACADVER, $EXTMIN, $EXTMAX and $INSUNITS.
func (p *parser) header() error {
	var name string
	var min, max Point
	var haveMin, haveMax int
	for {
		if err := p.next(); err != nil {
			return err
		}
		switch {
		case p.is(0, "ENDSEC"):
			if haveMin == 3 && haveMax == 3 && min.finite() && max.finite() && min.X < max.X && min.Y < max.Y {
				p.d.ExtMin, p.d.ExtMax, p.d.HasExtents = min, max, true
			}
			return nil
		case p.code == 9:
			name = p.str()
		case name == "$ACADVER" && p.code == 1:
			if v := p.str(); len(v) <= 16 {
				p.d.Version = v
			}
		case name == "$INSUNITS" && p.code == 70:
			p.d.Units = p.int()
		case name == "$EXTMIN" && (p.code == 10 || p.code == 20):
			if p.code == 10 {
				min.X, haveMin = p.num(), haveMin|1
			} else {
				min.Y, haveMin = p.num(), haveMin|2
			}
		case name == "$EXTMAX" && (p.code == 10 || p.code == 20):
			if p.code == 10 {
				max.X, haveMax = p.num(), haveMax|1
			} else {
				max.Y, haveMax = p.num(), haveMax|2
			}
		}
	}
}

// tables reads the layer table; the others are skipped.
func (p *parser) tables() error {
	for {
		if err := p.next(); err != nil {
			return err
		}
		switch {
		case p.is(0, "ENDSEC"):
			return nil
		case p.is(0, "LAYER"):
			if err := p.layer(); err != nil {
				return err
			}
		case p.is(0, "LTYPE"):
			if err := p.lineType(); err != nil {
				return err
			}
		}
	}
}

// maxLineTypes bounds the line types of a drawing; more are drawn
// continuous.
const maxLineTypes = 1000

// lineTypeOf is the index of the line type named by the value, made when
// it is first named (an entity may name one before the table defines it).
func (p *parser) lineTypeOf() int16 {
	name := strings.ToUpper(strings.TrimSpace(p.text()))
	if i, ok := p.d.ltypeIndex[name]; ok {
		return i
	}
	if len(p.d.LineTypes) >= maxLineTypes {
		return ContinuousLine
	}
	i := int16(len(p.d.LineTypes))
	p.d.ltypeIndex[name] = i
	p.d.LineTypes = append(p.d.LineTypes, LineType{Name: name})
	return i
}

// dashPixels is the length on the screen of a line type's pattern: long
// enough to tell a dash from a dot, short enough to be seen on a short
// line.
const dashPixels = 24

// lineType reads an entry of the line type table: its pattern of dashes
// (positive), gaps (negative) and dots (zero), drawn in proportion.
func (p *parser) lineType() error {
	var name string
	var elems []float64
	for {
		if err := p.next(); err != nil {
			return err
		}
		if p.code == 0 {
			p.unread()
			break
		}
		switch p.code {
		case 2:
			name = strings.ToUpper(strings.TrimSpace(p.text()))
		case 49:
			if len(elems) < 32 {
				elems = append(elems, p.num())
			}
		}
	}
	if name == "" || name == "BYLAYER" || name == "BYBLOCK" || name == "CONTINUOUS" {
		return nil
	}
	if err := p.count(1); err != nil {
		return err
	}
	total, dashes := 0.0, false
	for _, v := range elems {
		total += math.Abs(v)
		dashes = dashes || v > 0
	}
	// A row of dots is drawn closer.
	length := float64(dashPixels)
	if !dashes {
		length /= 4
	}
	dash := ""
	if len(elems) >= 2 && total > 0 {
		parts := make([]string, len(elems))
		for i, v := range elems {
			px := math.Abs(v) * length / total
			if v < 0 {
				px = math.Max(px, 2) // a gap to be seen
			} else if v > 0 {
				px = math.Max(px, 1)
			}
			parts[i] = strconv.FormatFloat(px, 'f', 1, 64)
		}
		if len(parts)%2 == 1 {
			parts = append(parts, "2")
		}
		dash = strings.Join(parts, " ")
	}
	i, ok := p.d.ltypeIndex[name]
	if !ok {
		if len(p.d.LineTypes) >= maxLineTypes {
			return nil
		}
		i = int16(len(p.d.LineTypes))
		p.d.ltypeIndex[name] = i
		p.d.LineTypes = append(p.d.LineTypes, LineType{Name: name})
	}
	p.d.LineTypes[i].Dash = dash
	return nil
}

func (p *parser) layer() error {
	l := Layer{Color: 7, RGB: -1, LType: ContinuousLine}
	for {
		if err := p.next(); err != nil {
			return err
		}
		switch p.code {
		case 0:
			p.unread()
			if l.Name == "" {
				return nil
			}
			if err := p.count(1); err != nil {
				return err
			}
			if i, ok := p.d.layerIndex[l.Name]; ok {
				p.d.Layers[i] = l
			} else {
				p.d.layerIndex[l.Name] = len(p.d.Layers)
				p.d.Layers = append(p.d.Layers, l)
			}
			return nil
		case 2:
			l.Name = p.name()
		case 62:
			c := p.int()
			if c < 0 {
				l.Off, c = true, -c
			}
			if c >= 1 && c <= 255 {
				l.Color = c
			}
		case 420:
			l.RGB = int32(p.int() & 0xffffff)
		case 70:
			l.Frozen = p.int()&1 != 0
		case 6:
			if lt := p.lineTypeOf(); lt > ContinuousLine {
				l.LType = lt
			}
		}
	}
}

// blocks reads the block definitions.
func (p *parser) blocks() error {
	for {
		if err := p.next(); err != nil {
			return err
		}
		switch {
		case p.is(0, "ENDSEC"):
			return nil
		case p.is(0, "BLOCK"):
			if err := p.block(); err != nil {
				return err
			}
		}
	}
}

func (p *parser) block() error {
	b := &Block{}
	for {
		if err := p.next(); err != nil {
			return err
		}
		if p.code == 0 {
			break
		}
		switch p.code {
		case 2:
			b.Name = p.name()
		case 10:
			b.Base.X = p.num()
		case 20:
			b.Base.Y = p.num()
		}
	}
	p.unread()
	if err := p.count(1); err != nil {
		return err
	}
	if err := p.entityList(&b.Entities, "ENDBLK"); err != nil {
		return err
	}
	if b.Name != "" {
		p.d.Blocks[b.Name] = b
	}
	return nil
}

// entities reads the ENTITIES section into model and paper space.
func (p *parser) entities() error {
	add := func(e Entity, paper bool) {
		if paper {
			p.d.Paper.add(e)
		} else {
			p.d.Model.add(e)
		}
	}
	for {
		done, err := p.entity("ENDSEC", add)
		if err != nil || done {
			return err
		}
	}
}

// entityList reads the entities of a block up to its end marker.
func (p *parser) entityList(l *List, end string) error {
	add := func(e Entity, _ bool) { l.add(e) }
	for {
		done, err := p.entity(end, add)
		if err != nil || done {
			return err
		}
	}
}

// group is one pair of an entity, kept until the entity ends.
type group struct {
	code int
	num  float64
	str  string
}

// entity reads the next entity and gives add what it draws (an INSERT
// brings its attributes; nothing for one skipped), and whether it is in
// paper space. done: the end marker came instead.
func (p *parser) entity(end string, add func(e Entity, paper bool)) (done bool, err error) {
	if err := p.next(); err != nil {
		return false, err
	}
	if p.code != 0 {
		return false, nil // stray groups: skipped
	}
	typ := p.str()
	if typ == end || typ == "ENDSEC" {
		if typ != "ENDSEC" || end == "ENDSEC" {
			// ENDBLK's own groups follow.
			if typ == "ENDBLK" {
				if err := p.skipGroups(); err != nil {
					return true, err
				}
			}
			return true, nil
		}
		p.unread()
		return true, nil
	}
	switch typ {
	case "LINE", "LWPOLYLINE", "POLYLINE", "CIRCLE", "ARC", "ELLIPSE", "TEXT", "MTEXT", "ATTRIB",
		"INSERT", "DIMENSION", "POINT", "SOLID", "TRACE", "3DFACE", "SPLINE", "LEADER", "ACAD_TABLE":
	case "HATCH":
		e, paper, keep, err := p.hatch()
		if keep {
			add(e, paper)
		}
		return false, err
	default:
		return false, p.skipGroups()
	}
	// The details gather in the parser's own, copied for the entities
	// that keep them.
	p.detail = Detail{Scale: Point{1, 1}, Ratio: 1, Cols: 1, Rows: 1}
	e := Entity{Color: 256, RGB: -1, Detail: &p.detail}
	var paper, invisible, follows bool
	var ext float64 = 1
	var pts [4]Point
	var npts int
	var flags int
	var wrap float64 // MTEXT's reference width
	var mtext strings.Builder
	lw := typ == "LWPOLYLINE"
	// Entities whose vertices repeat group 10.
	listed := lw || typ == "SPLINE" || typ == "LEADER"
	if listed {
		e.P = p.scratchP[:0]
	}
	for {
		if err := p.next(); err != nil {
			return false, err
		}
		c := p.code
		if c == 0 {
			p.unread()
			break
		}
		switch {
		case c == 8:
			e.Layer = p.name()
		case c == 62:
			if v := p.int(); v >= 0 && v <= 256 {
				e.Color = int16(v)
			}
		case c == 420:
			e.RGB = int32(p.int() & 0xffffff)
		case c == 6:
			e.LType = p.lineTypeOf()
		case c == 67:
			paper = p.int() == 1
		case c == 60:
			invisible = p.int() == 1
		case c == 230:
			ext = p.num()
		case lw && c == 10:
			if err := p.countVertices(1); err != nil {
				return false, err
			}
			e.P = append(e.P, Point{X: p.num()})
		case lw && c == 20:
			if n := len(e.P); n > 0 {
				e.P[n-1].Y = p.num()
			}
		case lw && c == 42:
			if n := len(e.P); n > 0 {
				if e.Bulge == nil {
					e.Bulge = p.scratchB[:0]
				}
				for len(e.Bulge) < n {
					e.Bulge = append(e.Bulge, 0)
				}
				e.Bulge[n-1] = p.num()
			}
		case lw && c == 90:
			// Room for the vertices announced, within what is left.
			if n := p.int(); n > cap(e.P) && n <= verticesPerItem*p.d.lim.MaxItems-p.d.vertices {
				e.P = make([]Point, 0, n)
			}
		case listed && c == 10:
			if err := p.countVertices(1); err != nil {
				return false, err
			}
			e.P = append(e.P, Point{X: p.num()})
		case listed && c == 20:
			if n := len(e.P); n > 0 {
				e.P[n-1].Y = p.num()
			}
		case typ == "SPLINE" && c == 40:
			if err := p.countVertices(1); err != nil {
				return false, err
			}
			e.Knots = append(e.Knots, p.num())
		case typ == "SPLINE" && c == 41:
			if err := p.countVertices(1); err != nil {
				return false, err
			}
			e.Weights = append(e.Weights, p.num())
		case typ == "SPLINE" && c == 71:
			e.Degree = p.int()
		case c >= 10 && c <= 13:
			pts[c-10].X = p.num()
			npts = max(npts, c-9)
		case c >= 20 && c <= 23:
			pts[c-20].Y = p.num()
			npts = max(npts, c-19)
		case c == 40:
			e.R = p.num()
		case c == 41 && typ == "MTEXT":
			wrap = p.num()
		case c == 41:
			if typ == "ELLIPSE" {
				e.A0 = p.num()
			} else {
				e.Scale.X = p.num()
			}
		case c == 42:
			if typ == "ELLIPSE" {
				e.A1 = p.num()
			} else {
				e.Scale.Y = p.num()
			}
		case c == 44:
			e.ColSp = p.num()
		case c == 45:
			e.RowSp = p.num()
		case c == 50:
			e.A0, e.Rot = p.num(), p.num()
		case c == 51:
			e.A1 = p.num()
		case c == 66:
			follows = p.int() == 1
		case c == 70:
			flags = p.int()
			if typ == "INSERT" {
				e.Cols = p.int()
			}
		case c == 71:
			if typ == "INSERT" {
				e.Rows = p.int()
			} else if typ == "MTEXT" {
				e.H = uint8(p.int() % 16)
			}
		case c == 72 && typ != "MTEXT":
			e.H = uint8(p.int() % 16)
		case c == 73 && typ == "TEXT", c == 74 && typ == "ATTRIB":
			e.V = uint8(p.int() % 16)
		case c == 1:
			if typ == "MTEXT" {
				if mtext.Len() < maxMText {
					mtext.WriteString(p.text())
				}
			} else {
				e.Text = p.text()
			}
		case c == 3:
			if typ == "MTEXT" && mtext.Len() < maxMText {
				mtext.WriteString(p.text())
			}
		case c == 2:
			e.Block = p.name()
		}
	}
	e.Mirror = ext < 0
	var extra []Entity
	switch typ {
	case "LINE":
		e.Kind, e.P, e.Mirror = Line, p.fixed(pts[0], pts[1]), false
	case "LWPOLYLINE":
		e.Kind, e.Closed = Polyline, flags&1 != 0
		if e.Bulge != nil {
			for len(e.Bulge) < len(e.P) {
				e.Bulge = append(e.Bulge, 0)
			}
		}
	case "POLYLINE":
		var err error
		if e, err = p.vertices(e, flags); err != nil {
			return false, err
		}
	case "CIRCLE":
		e.Kind, e.P = Circle, p.fixed(pts[0])
	case "ARC":
		e.Kind, e.P = Arc, p.fixed(pts[0])
		e.A0, e.A1 = e.A0*math.Pi/180, e.A1*math.Pi/180
	case "ELLIPSE":
		e.Kind, e.P, e.Axis, e.Ratio, e.Mirror = Ellipse, p.fixed(pts[0]), pts[1], e.R, false
		if e.A0 == 0 && e.A1 == 0 {
			e.A1 = 2 * math.Pi
		}
	case "TEXT", "ATTRIB":
		e.Kind, e.P = Text, p.fixed(pts[0])
		// Aligned text is placed at its second point, but for "aligned"
		// and "fit" (3, 5), which span both: drawn from the first.
		if (e.H != 0 || e.V != 0) && e.H != 3 && e.H != 5 && npts >= 2 {
			e.P[0] = pts[1]
		}
		if e.H == 3 || e.H == 5 {
			e.H = 0
		}
		if e.H == 4 { // "middle": centred both ways
			e.H, e.V = 1, 2
		}
		if typ == "ATTRIB" && flags&1 != 0 {
			invisible = true
		}
		e.Text = specialChars(e.Text)
	case "MTEXT":
		e.Kind, e.P, e.MText, e.Mirror = Text, p.fixed(pts[0]), true, false
		e.Text = wrapLines(plainMText(mtext.String()), wrap, e.R)
		if npts >= 2 && (pts[1].X != 0 || pts[1].Y != 0) {
			e.Rot = math.Atan2(pts[1].Y, pts[1].X) * 180 / math.Pi
		}
	case "INSERT":
		e.Kind, e.P = Insert, p.fixed(pts[0])
		e.Cols, e.Rows = max(e.Cols, 1), max(e.Rows, 1)
		// Kept before its attributes are read, in the same scratch space.
		p.settle(&e)
		kept := *e.Detail
		e.Detail = &kept
		if follows {
			var err error
			if extra, err = p.attributes(); err != nil {
				return false, err
			}
		}
	case "DIMENSION":
		e.Kind, e.P, e.Identity, e.Mirror = Insert, p.fixed(Point{}), true, false
		p.settle(&e)
	case "ACAD_TABLE":
		// A table is a block reference to its anonymous block, at its
		// insertion point; its other groups are the table's own.
		e.Kind, e.P, e.Rot, e.Scale, e.Mirror = Insert, p.fixed(pts[0]), 0, Point{1, 1}, false
		p.settle(&e)
	case "LEADER":
		e.Kind, e.Mirror = Polyline, false
		if len(e.P) < 2 {
			invisible = true
		}
	case "POINT":
		e.Kind, e.P, e.Mirror = PointKind, p.fixed(pts[0]), false
	case "SOLID", "TRACE":
		e.Kind, e.Closed = Solid, true
		if npts < 4 {
			pts[3] = pts[2]
		}
		e.P = p.fixed(pts[0], pts[1], pts[3], pts[2])
	case "3DFACE":
		e.Kind, e.Closed, e.Mirror = Polyline, true, false
		e.P = p.fixed(pts[0], pts[1], pts[2], pts[3])
	case "SPLINE":
		e.Kind, e.Closed, e.Mirror = Spline, flags&1 != 0, false
		if len(e.P) < 2 {
			invisible = true
		}
	}
	switch e.Kind {
	case Insert, Ellipse, Spline:
		if e.Detail == &p.detail {
			kept := *e.Detail
			e.Detail = &kept
		}
	default:
		e.Detail = nil
	}
	if e.Kind == Text {
		if e.Text == "" {
			invisible = true
		}
		if err := p.countText(len(e.Text)); err != nil {
			return false, err
		}
	}
	// The vertices of polylines and splines were counted as read.
	if err := p.count(1); err != nil {
		return false, err
	}
	if e.Kind != Insert {
		p.settle(&e)
	}
	if !invisible {
		add(e, paper)
	}
	for _, x := range extra {
		add(x, paper)
	}
	return false, nil
}

// skipGroups skips the groups of an entity up to the next one.
func (p *parser) skipGroups() error {
	for {
		if err := p.next(); err != nil {
			return err
		}
		if p.code == 0 {
			p.unread()
			return nil
		}
	}
}

// vertices reads the VERTEX entities of a POLYLINE up to its SEQEND.
// Meshes (polygon and polyface) are not drawn.
func (p *parser) vertices(e Entity, flags int) (Entity, error) {
	e.Kind, e.Closed = Polyline, flags&1 != 0
	e.P, e.Bulge = p.scratchP[:0], p.scratchB[:0]
	mesh := flags&(16|64) != 0
	if flags&8 != 0 {
		e.Mirror = false // a 3D polyline is in world coordinates
	}
	var bulged bool
	for {
		if err := p.next(); err != nil {
			return e, err
		}
		if p.code != 0 {
			continue
		}
		switch p.str() {
		case "VERTEX":
		case "SEQEND":
			if err := p.skipGroups(); err != nil {
				return e, err
			}
			if !bulged {
				e.Bulge = nil
			}
			if mesh {
				e.P, e.Bulge = nil, nil
			}
			return e, nil
		default:
			// A POLYLINE without its SEQEND.
			p.unread()
			if !bulged {
				e.Bulge = nil
			}
			return e, nil
		}
		var v Point
		var bulge float64
		var vflags int
		for {
			if err := p.next(); err != nil {
				return e, err
			}
			if p.code == 0 {
				p.unread()
				break
			}
			switch p.code {
			case 10:
				v.X = p.num()
			case 20:
				v.Y = p.num()
			case 42:
				bulge = p.num()
			case 70:
				vflags = p.int()
			}
		}
		if mesh || vflags&16 != 0 { // a spline's frame
			continue
		}
		if err := p.countVertices(1); err != nil {
			return e, err
		}
		e.P = append(e.P, v)
		e.Bulge = append(e.Bulge, bulge)
		bulged = bulged || bulge != 0
	}
}

// attributes reads the ATTRIB entities that follow an INSERT, up to SEQEND.
func (p *parser) attributes() ([]Entity, error) {
	var out []Entity
	for {
		if err := p.next(); err != nil {
			return out, err
		}
		if p.code != 0 {
			continue
		}
		if p.str() != "ATTRIB" {
			if p.str() == "SEQEND" {
				return out, p.skipGroups()
			}
			p.unread()
			return out, nil
		}
		p.unread()
		if _, err := p.entity("SEQEND", func(e Entity, _ bool) { out = append(out, e) }); err != nil {
			return out, err
		}
	}
}

// wrapLines breaks the lines of an MTEXT at its reference width, as
// AutoCAD does, by an average width of a character: the SVG's text does
// not wrap by itself.
func wrapLines(s string, width, height float64) string {
	per := int(width / (avgCharWidth * height))
	if width <= 0 || height <= 0 || per < 4 || !strings.Contains(s, " ") {
		return s
	}
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		n := 0
		for j, w := range strings.Fields(line) {
			l := utf8.RuneCountInString(w)
			if j > 0 && n+1+l > per {
				b.WriteByte('\n')
				n = 0
			} else if j > 0 {
				b.WriteByte(' ')
				n++
			}
			b.WriteString(w)
			n += l
		}
	}
	return b.String()
}

// specialChars replaces the control codes of TEXT: %%d degrees, %%p
// plus-minus, %%c diameter, %%% a percent sign; %%u and %%o (underline,
// overline) are dropped.
func specialChars(s string) string {
	if !strings.Contains(s, "%%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && s[i+1] == '%' {
			switch s[i+2] {
			case 'd', 'D':
				b.WriteString("°")
			case 'p', 'P':
				b.WriteString("±")
			case 'c', 'C':
				b.WriteString("Ø")
			case '%':
				b.WriteByte('%')
			case 'u', 'U', 'o', 'O', 'k', 'K':
			default:
				b.WriteString(s[i : i+3])
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// plainMText is the text of an MTEXT without its formatting codes: \P
// ends a line, braces group, \X…; set fonts, heights, colours; \S a^b;
// stacks a fraction.
func plainMText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '{', '}':
			continue
		case '\\':
		default:
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			break
		}
		i++
		switch s[i] {
		case 'P', 'n':
			b.WriteByte('\n')
		case '~':
			b.WriteString("\u00a0")
		case '\\', '{', '}':
			b.WriteByte(s[i])
		case 'L', 'l', 'O', 'o', 'K', 'k', 'N':
			// Underline, overline, strike-through, column break: no text.
		case 'S':
			// A stack: "\S1/2;" or "\S1^2;" shows as 1/2.
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				j = len(s) - i
			}
			stack := s[i+1 : i+j]
			stack = strings.NewReplacer("^", "/", "#", "/").Replace(stack)
			b.WriteString(stack)
			i += j
		case 'A', 'C', 'c', 'F', 'f', 'H', 'h', 'Q', 'q', 'T', 't', 'W', 'w', 'p':
			// A setting up to its semicolon.
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				i = len(s)
			} else {
				i += j
			}
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return specialChars(b.String())
}
